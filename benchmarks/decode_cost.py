"""CPU per second of video of a network camera: decoding for detection against recording undecoded.

Makes H.264 test streams (the demo clip scaled to 640x360, 1080p and optionally 4K, encoded by
PyAV's libx264 as an IP camera does: ``veryfast``, no B-frames, deblocking on, a keyframe a
second, a camera's bit rate), serves them live on loopback as HTTP MPEG-TS from a child process
(its CPU is not counted), and reads them through edgecam's own ``AvSource``:

- ``detect 640x360`` / ``detect 1080p`` / ``detect 4K``: one stream decoded to BGR for detection
  (``decode:`` as configured by the case, ``legacy`` = before issue 23: FFmpeg's thread count,
  loop filter on);
- ``sub + main record``: 640x360 decoded, 1080p (or 4K) only demuxed into a clip ring
  (``record:``);
- the ``decode:`` options one by one on the 1080p stream;
- ``fps 5``: the camera's ``fps`` cap (``--cap``) below the stream's: every frame is decoded, only
  the frames the detector may take are converted to BGR, as edgecam's capture thread does.

Cases run in alternating rounds (every case once per round, rounds repeated); each figure is the
median over the rounds of process CPU seconds per second of video received, measured for
``--window`` seconds after the first frame.

With ``--rtsp`` the 1080p and sub-plus-record cases run over RTSP too, served by GStreamer's
RTSP server (Debian packages; see ``rtsp_server``).

    python -m benchmarks.decode_cost [--rounds 3] [--window 4] [--fps 15] [--cap 5] [--4k] [--rtsp]
                                     [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

from edgecam.camera.av import AvSource, AvSourceConfig
from edgecam.camera.decoding import DecodeConfig
from edgecam.camera.record import RecordStreamConfig
from edgecam.clips.ring import PacketRing
from edgecam.types import Image

SIZES = {"640x360": (640, 360, 512_000), "1080p": (1920, 1080, 4_000_000),
         "4K": (3840, 2160, 8_000_000)}  # fmt: skip
"""Width, height and bit rate: what IP cameras send by default on their sub and main streams."""
CACHE = Path("/tmp/edgecam-decode-cost")


def make_stream(size: str, seconds: float, fps: int) -> Path:
    """The demo clip at ``size`` as camera-like H.264 (cached between runs)."""
    import av
    import cv2

    from edgecam.bundled import demo_clip

    width, height, rate = SIZES[size]
    path = CACHE / f"{size}_{fps}fps_{seconds:g}s.mp4"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part.mp4")
    capture = cv2.VideoCapture(str(demo_clip()))
    with av.open(str(part), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = rate
        stream.codec_context.options = {"preset": "veryfast", "g": str(fps), "bf": "0"}
        for index in range(round(seconds * fps)):
            ok, image = capture.read()
            if not ok:  # the clip is shorter: start it again
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, image = capture.read()
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
            frame = av.VideoFrame.from_ndarray(cast(Image, image), format="bgr24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    capture.release()
    part.replace(path)
    return path


RTSP_SERVER = """
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service("0")
for index, path in enumerate(sys.argv[1:]):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f"( filesrc location={path} ! qtdemux ! rtph264pay name=pay0 pt=96 "
                       "config-interval=-1 )")
    server.get_mount_points().add_factory(f"/s{index}", factory)
server.attach(None)
print(server.get_bound_port(), flush=True)
GLib.MainLoop().run()
"""
"""GStreamer's RTSP server (Debian: gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good), run
by the system Python, which has PyGObject (python3-gi): each file on its own path, paced live."""


def rtsp_server(paths: list[Path]) -> tuple[subprocess.Popen[str], list[str]]:
    """Start the RTSP server on loopback; its process and one URL per file."""
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-c", RTSP_SERVER, *map(str, paths)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    if not port.isdigit():
        proc.kill()
        raise SystemExit(
            "--rtsp needs GStreamer's RTSP server: sudo apt install python3-gi "
            "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good"
        )
    return proc, [f"rtsp://127.0.0.1:{port}/s{index}" for index in range(len(paths))]


def _serve(paths: list[Path], urls: Any, stop: Any) -> None:
    """Child process: serve each file as a live stream until told to stop."""
    from contextlib import ExitStack

    from tests.clips.streaming import LiveStream

    with ExitStack() as stack:
        urls.send([stack.enter_context(LiveStream(p)).url for p in paths])
        stop.wait()


@dataclass(frozen=True, slots=True)
class Case:
    """One way of reading the camera."""

    name: str
    detect: str
    decode: DecodeConfig | None
    """None: as before issue 23 (FFmpeg's own thread count, every option off)."""
    record: str | None = None
    cap: float | None = None
    """The camera's ``fps`` cap: frames over it are decoded but not converted (the capture
    thread's rule: converted when at least ``1 / cap`` s after the last one converted)."""


def _read(source: AvSource, cap: float | None, last: list[float]) -> None:
    """One frame as the capture thread reads it: converted only when the detector may take it."""
    if cap is None:
        source.read()
        return
    source.grab()
    now = time.monotonic()
    if now - last[0] >= 1.0 / cap:
        last[0] = now
        source.retrieve()


def run_case(case: Case, urls: dict[str, str], fps: int, window: float) -> tuple[float, int]:
    """CPU seconds per second of video, and frames decoded, over ``window`` seconds."""
    decode = case.decode or DecodeConfig(threads=0, skip_loop_filter=False, hardware="off")
    record = RecordStreamConfig(url=urls[case.record]) if case.record else None
    source = AvSource("bench", AvSourceConfig(url=urls[case.detect], decode=decode, record=record))
    ring = PacketRing(24_000_000)
    if record is not None:
        source.record_stream_into(ring)
    source.open()
    try:
        source.read()  # the first frame: opening and probing are not the steady cost
        if record is not None:
            deadline = time.monotonic() + 5.0
            while len(ring) == 0 and time.monotonic() < deadline:
                source.read()
        first, start = source.decoded, source.stream_time() or 0.0
        cpu0, wall0 = time.process_time(), time.monotonic()
        last = [float("-inf")]
        while time.monotonic() - wall0 < window:
            _read(source, case.cap, last)
        cpu = time.process_time() - cpu0
        frames = source.decoded - first
        # Video seconds by the stream's own clock: skip_frame decodes fewer frames than it spans.
        video = (source.stream_time() or 0.0) - start + 1.0 / fps
    finally:
        source.close()
    return cpu / max(1e-9, video), frames


def _with(config: DecodeConfig, **changes: object) -> DecodeConfig:
    return config.model_copy(update=changes)


def rtsp_cases(cap: float) -> list[Case]:
    """The headline pair again, over RTSP (TCP) instead of HTTP MPEG-TS."""
    tuned = DecodeConfig(hardware="off")
    return [
        Case("RTSP: detect 1080p (legacy)", "rtsp:1080p", None),
        Case("RTSP: sub 640x360 + main 1080p record (tuned)", "rtsp:640x360", tuned, "rtsp:1080p"),
        Case(f"RTSP: sub 640x360 + main 1080p record (tuned), fps {cap:g}", "rtsp:640x360", tuned,
             "rtsp:1080p", cap),
    ]  # fmt: skip


def capped_cases(cap: float) -> list[Case]:
    """Under the camera's ``fps`` cap: every frame decoded, only the ones taken converted."""
    tuned = DecodeConfig(hardware="off")
    return [
        Case(f"detect 1080p (tuned), fps {cap:g}", "1080p", tuned, None, cap),
        Case(f"sub 640x360 + main 1080p record (tuned), fps {cap:g}", "640x360", tuned, "1080p",
             cap),
    ]  # fmt: skip


def cases(with_4k: bool) -> list[Case]:
    """The cases of the table, in the order of a round."""
    tuned = DecodeConfig(hardware="off")
    plain = DecodeConfig(threads=1, skip_loop_filter=False, hardware="off")
    out = [
        Case("detect 1080p (legacy)", "1080p", None),
        Case("detect 1080p (tuned)", "1080p", tuned),
        Case("detect 640x360 (tuned)", "640x360", tuned),
        Case("sub 640x360 + main 1080p record (tuned)", "640x360", tuned, "1080p"),
        Case("1080p threads 1", "1080p", plain),
        Case("1080p threads 0 (auto)", "1080p", _with(plain, threads=0)),
        Case("1080p threads 1 + skip_loop_filter", "1080p", _with(plain, skip_loop_filter=True)),
        Case("1080p threads 1 + skip_frame nonref", "1080p", _with(plain, skip_frame="nonref")),
        Case("1080p threads 1 + skip_frame nonkey", "1080p", _with(plain, skip_frame="nonkey")),
    ]
    if with_4k:
        out += [
            Case("detect 4K (legacy)", "4K", None),
            Case("detect 4K (tuned)", "4K", tuned),
            Case("sub 640x360 + main 4K record (tuned)", "640x360", tuned, "4K"),
        ]
    return out


def measure(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Every case once per round, ``args.rounds`` rounds; median CPU s per video s."""
    seconds = args.window + 4.0  # opening takes a second or two; the stream must outlast it
    sizes = ["640x360", "1080p"] + (["4K"] if args.with_4k else [])
    paths = [make_stream(size, seconds, args.fps) for size in sizes]
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    stop = ctx.Event()
    server = ctx.Process(target=_serve, args=(paths, send, stop), daemon=True)
    server.start()
    rtsp = rtsp_server(paths[:2]) if args.rtsp else None
    try:
        urls = dict(zip(sizes, receive.recv(), strict=True))
        if rtsp is not None:
            urls.update(zip(["rtsp:640x360", "rtsp:1080p"], rtsp[1], strict=True))
        costs: dict[str, list[float]] = {}
        frames: dict[str, list[int]] = {}
        for round_ in range(args.rounds):
            every = cases(args.with_4k) + capped_cases(args.cap)
            for case in every + (rtsp_cases(args.cap) if rtsp else []):
                cost, count = run_case(case, urls, args.fps, args.window)
                costs.setdefault(case.name, []).append(cost)
                frames.setdefault(case.name, []).append(count)
                _say(args, f"round {round_ + 1}: {case.name}: {cost:.3f} CPU s per video s")
    finally:
        stop.set()
        server.join(10.0)
        if rtsp is not None:
            rtsp[0].kill()
            rtsp[0].wait()
    return {
        name: {
            "cpu_per_video_s": round(statistics.median(values), 4),
            "frames": statistics.median(frames[name]),
        }
        for name, values in costs.items()
    }


def _say(args: argparse.Namespace, line: str) -> None:
    if not args.json:
        print(line, flush=True)


def table(results: dict[str, dict[str, float]]) -> str:
    """A Markdown table, each case against decoding 1080p for detection (legacy), RTSP cases
    against doing so over RTSP."""
    lines = ["| case | CPU s per s of video | vs detect 1080p (legacy) |", "|---|---:|---:|"]
    for name, figures in results.items():
        prefix = "RTSP: " if name.startswith("RTSP: ") else ""
        base = results[f"{prefix}detect 1080p (legacy)"]["cpu_per_video_s"]
        cost = figures["cpu_per_video_s"]
        ratio = base / cost
        versus = f"{ratio:.1f}x less" if ratio >= 1.05 else f"{1.0 / ratio:.1f}x more"
        versus = "1.0x" if versus.startswith("1.0x") else versus
        lines.append(f"| {name} | {cost:.3f} | {versus} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--window", type=float, default=4.0, help="seconds measured per case")
    parser.add_argument("--fps", type=int, default=15, help="frame rate of the test streams")
    parser.add_argument("--cap", type=float, default=5.0, help="camera fps cap of the capped cases")
    parser.add_argument("--4k", dest="with_4k", action="store_true", help="add the 4K cases")
    parser.add_argument("--rtsp", action="store_true", help="add RTSP cases (GStreamer)")
    parser.add_argument("--json", action="store_true", help="JSON instead of a table")
    args = parser.parse_args(argv)
    results = measure(args)
    print(json.dumps(results, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
