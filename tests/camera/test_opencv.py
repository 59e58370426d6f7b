"""The OpenCV source: configuration, a real MJPEG stream over HTTP, stalls and failed opens."""

from __future__ import annotations

import threading

import cv2
import pytest
from pydantic import ValidationError

from edgecam.camera.capture import CaptureThread, ReconnectPolicy
from edgecam.camera.opencv import (
    OpenCVSource,
    OpenCVSourceConfig,
    ffmpeg_options,
    open_params,
    redact_url,
)
from edgecam.camera.slot import LatestFrameSlot
from edgecam.errors import CameraError
from tests.camera.fixtures import wait_until
from tests.camera.mjpeg_server import mjpeg_camera

FAST = ReconnectPolicy(stall_timeout=2.0, initial_backoff=0.1, max_backoff=0.4)


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was just free)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/stream.mjpg"


def test_config_needs_exactly_one_of_device_or_url() -> None:
    for bad in ({}, {"device": 0, "url": "rtsp://cam/1"}):
        with pytest.raises(ValidationError, match="exactly one of device"):
            OpenCVSourceConfig.model_validate(bad)
    assert OpenCVSourceConfig.model_validate({"device": "/dev/video2"}).device == "/dev/video2"
    assert OpenCVSourceConfig.model_validate({"device": 1, "fourcc": None}).fourcc is None
    with pytest.raises(ValidationError):
        OpenCVSourceConfig.model_validate({"device": 0, "fourcc": "MJPEG"})


def test_rtsp_over_tcp_and_timeouts_reach_ffmpeg() -> None:
    config = OpenCVSourceConfig(url="rtsp://cam.local/h264", open_timeout=3.0, read_timeout=1.5)
    assert ffmpeg_options(config) == "rtsp_transport;tcp"
    assert ffmpeg_options(config.model_copy(update={"transport": "udp"})) == "rtsp_transport;udp"
    assert ffmpeg_options(OpenCVSourceConfig(url="http://cam.local/video.mjpg")) == ""
    params = open_params(config)
    pairs = dict(zip(params[::2], params[1::2], strict=True))
    assert pairs == {cv2.CAP_PROP_OPEN_TIMEOUT_MSEC: 3000, cv2.CAP_PROP_READ_TIMEOUT_MSEC: 1500}


def test_v4l2_requests_fourcc_before_size_and_rate() -> None:
    params = open_params(OpenCVSourceConfig(device=0, size=(1280, 720), fps=30))
    assert params[0] == cv2.CAP_PROP_FOURCC and params[1] == cv2.VideoWriter.fourcc(*"MJPG")
    assert dict(zip(params[2::2], params[3::2], strict=True)) == {
        cv2.CAP_PROP_FRAME_WIDTH: 1280, cv2.CAP_PROP_FRAME_HEIGHT: 720, cv2.CAP_PROP_FPS: 30,
    }  # fmt: skip


def test_credentials_never_reach_messages() -> None:
    assert redact_url("rtsp://admin:s3cret@10.0.0.5:554/live") == "rtsp://***@10.0.0.5:554/live"
    source = OpenCVSource("gate", OpenCVSourceConfig(url="rtsp://admin:s3cret@127.0.0.1:1/x"))
    assert "s3cret" not in source.target


def test_reads_bgr_frames_from_an_http_mjpeg_stream() -> None:
    with mjpeg_camera() as camera:
        source = OpenCVSource("web", OpenCVSourceConfig(url=camera.url, read_timeout=2.0))
        source.open()
        try:
            image = source.read()
        finally:
            source.close()
    assert image.shape == (120, 160, 3)
    left, right = image[60, 20], image[60, 140]
    assert left[2] > 200 and left[0] < 50 and right.max() < 50  # red in BGR order


def test_a_failed_open_is_a_camera_error_without_credentials() -> None:
    url = dead_url().replace("http://", "http://user:pw@")
    source = OpenCVSource("gone", OpenCVSourceConfig(url=url, open_timeout=2.0))
    with pytest.raises(CameraError, match="cannot open") as caught:
        source.open()
    assert "pw@" not in str(caught.value)


def test_a_stalled_stream_is_reopened_and_frames_flow_again() -> None:
    with mjpeg_camera() as camera:
        config = OpenCVSourceConfig(url=camera.url, read_timeout=0.5, open_timeout=2.0)
        slot, stop = LatestFrameSlot(), threading.Event()
        capture = CaptureThread(
            OpenCVSource("web", config), slot, stop, threading.Event(), policy=FAST
        )
        capture.start()
        try:
            wait_until(lambda: capture.frames >= 5 and capture.status == "running")
            camera.stall.set()
            wait_until(lambda: capture.read_errors >= 1)
            assert capture.health(0.0)["error"] is not None
            before = capture.frames
            camera.stall.clear()
            wait_until(lambda: capture.reconnects >= 1 and capture.frames > before + 5)
            assert capture.status == "running" and capture.error is None
            assert camera.connections >= 2
        finally:
            stop.set()
            capture.join(timeout=10.0)
    assert capture.health(0.0)["status"] == "stopped"


def test_a_stream_that_cannot_be_opened_is_retried_with_backoff() -> None:
    config = OpenCVSourceConfig(url=dead_url(), open_timeout=1.0)
    stop = threading.Event()
    capture = CaptureThread(
        OpenCVSource("gone", config), LatestFrameSlot(), stop, threading.Event(), policy=FAST
    )
    capture.start()  # no exception: a live source is retried, not fatal
    assert capture.status == "reconnecting" and capture.error is not None
    try:
        wait_until(lambda: capture._attempt >= 3)
        assert capture.status == "reconnecting" and capture.frames == 0
    finally:
        stop.set()
        capture.join(timeout=10.0)
    assert not capture.is_alive()
