"""The running pipeline as the web server sees it (:class:`~edgecam.web.view.ServiceView`).

Read from the web server's threads while the pipeline thread runs: everything read here is either
replaced whole by the pipeline (lists, the last frame) or a plain counter, so no lock is needed and
the per-frame path pays nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from edgecam.config.models import Config
from edgecam.pipeline.loop import Pipeline
from edgecam.web.view import LiveFrame, TrackBox

FPS_WINDOW = 2.0
"""Seconds over which a camera's fps is measured."""


class PipelineView:
    """Adapts a :class:`Pipeline` and the service's health check to the web server."""

    def __init__(
        self,
        pipeline: Pipeline,
        health: Callable[[], tuple[bool, str]],
        camera_status: Callable[[], dict[str, str]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pipeline = pipeline
        self._health = health
        self._camera_status = camera_status
        self._clock = clock
        self._samples: dict[str, tuple[float, int, float]] = {}
        """Per camera: when the last window began, the count then, and the fps it gave."""

    def health(self) -> tuple[bool, str]:
        """As the service sees it."""
        return self._health()

    def camera_status(self) -> dict[str, str]:
        """As the service sees it."""
        return self._camera_status()

    def config(self) -> Config:
        """The running config (replaced whole on a reload)."""
        return self.pipeline.config

    def latest_frame(self, camera: str) -> LiveFrame | None:
        """The camera's last analysed frame, its detections and the confirmed tracks."""
        for cam in self.pipeline.cameras:
            if cam.name == camera:
                frame, detections = cam.last_frame, cam.last_detections
                if frame is None:
                    return None
                tracks = [
                    TrackBox(t.id, t.label, t.box, t.sub_label)
                    for t in self.pipeline.engine.live_tracks(camera)
                    if t.seen_now
                ]
                motion = cam.motion.moving_boxes if cam.motion is not None else None
                return LiveFrame(
                    frame.image, frame.seq, frame.wall, detections, tracks, cam.last_regions, motion
                )
        raise KeyError(camera)

    def cameras(self) -> dict[str, dict[str, object]]:
        """Status, fps over the last seconds, counters and the detector, per camera."""
        info = self.pipeline.detector.info
        status = self.camera_status()
        out: dict[str, dict[str, object]] = {}
        for cam in self.pipeline.cameras:
            out[cam.name] = {
                "status": status.get(cam.name, "unknown"),
                "fps": round(self._fps(cam.name, cam.analysed), 2),
                "analysed": cam.analysed,
                "dropped": cam.slot.dropped,
                "detect": cam.detect_enabled,
                "detector": info.device,
                "runtime": info.runtime,
            }
        return out

    def detector(self) -> dict[str, object]:
        """The detector in use: device, runtime, model and its known-answer check."""
        info = self.pipeline.detector.info
        return {
            "device": info.where,
            "runtime": f"{info.runtime} {info.runtime_version}",
            "model": Path(info.model).name,
            "check": info.check,
        }

    def _fps(self, name: str, analysed: int) -> float:
        now = self._clock()
        if name not in self._samples:  # until a window has passed: the rate since the start
            started = self.pipeline.stats.started
            first = analysed / (now - started) if now > started else 0.0
            self._samples[name] = (now, analysed, first)
        since, count, fps = self._samples[name]
        if now - since >= FPS_WINDOW:
            fps = (analysed - count) / (now - since)
            since, count = now, analysed
        self._samples[name] = (since, count, fps)
        return fps

    def rules(self) -> list[dict[str, object]]:
        """Each rule on each camera it watches, with its live state and count."""
        engine, config = self.pipeline.engine, self.pipeline.config
        for _attempt in range(3):
            try:
                states, counts = engine.states(), engine.counts()
                directions = engine.directions()
                break
            except RuntimeError:  # the pipeline built a camera's rules while we read them
                continue
        else:
            states, counts, directions = {}, {}, {}
        out: list[dict[str, object]] = []
        for rule in config.rules:
            for camera in [rule.camera] if rule.camera else list(config.cameras):
                entry: dict[str, object] = {"name": rule.name, "kind": rule.kind, "camera": camera}
                if (camera, rule.name) in states:
                    entry["state"] = "ON" if states[(camera, rule.name)] else "OFF"
                if (camera, rule.name) in counts:
                    entry["count"] = counts[(camera, rule.name)]
                entry.update(directions.get((camera, rule.name), {}))
                out.append(entry)
        return out
