"""The pipeline: capture threads -> latest-frame slots -> detector -> rules -> sinks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence

from edgecam.camera.base import ModelAwareSource
from edgecam.classify.stage import ClassifyStage
from edgecam.clips.recorder import ClipRecorder, clip_rules
from edgecam.config.models import CameraConfig, Config
from edgecam.detect.detector import Detector
from edgecam.detect.regions import RegionPlanner
from edgecam.event import Event
from edgecam.pipeline.cameras import (
    CameraState,
    attach_clips,
    build_camera,
    full_frame,
    retire_clips,
    settle_opencv,
    wire_model_aware,
    wire_views,
)
from edgecam.pipeline.detecting import detect_frame, interest
from edgecam.pipeline.guard import DetectorLike, FittingDetector
from edgecam.pipeline.parts import NewParts, OldParts, PipelineStats
from edgecam.pipeline.snapshots import SnapshotJob, SnapshotWorker, wants_snapshot
from edgecam.publish.base import EventSink, Retargetable, TakesSnapshots, TakesStats
from edgecam.ratelimit import RateLimitedLog
from edgecam.rules.config import RuleConfig
from edgecam.rules.engine import RuleEngine
from edgecam.types import Box, Detection, Frame, Image

log = logging.getLogger(__name__)


STATS_INTERVAL = 10.0
FULL_FRAME_WAIT = 1.0
"""Seconds a snapshot waits for a camera's next full-size frame before using the analysed one."""


class Pipeline:
    """Runs every camera of a config through one detector and the rule engine."""

    def __init__(
        self,
        config: Config,
        detector: Detector | DetectorLike,
        engine: RuleEngine,
        sinks: Sequence[EventSink],
        *,
        stop: threading.Event | None = None,
        max_frames: int | None = None,
        clips: ClipRecorder | None = None,
        keep: Sequence[EventSink] = (),
        classify: ClassifyStage | None = None,
    ) -> None:
        self.config = config
        self.detector = detector
        self.engine = engine
        self.sinks = list(sinks)
        self.keep = list(keep)
        """Sinks that outlive reloads (the events store); they get what ``sinks`` get."""
        self.clips = clips
        self.classify = classify
        """Second-stage classifiers (their own worker); None when the config has none."""
        self.stop = stop or threading.Event()
        self.max_frames = max_frames
        self.stats = PipelineStats()
        self.heartbeat = time.monotonic()
        """Monotonic time of the last frame taken from a slot (the watchdog looks at it)."""
        self._ready = threading.Event()
        self._closed = False
        self._calls: list[Callable[[Pipeline], None]] = []
        self._calls_lock = threading.Lock()
        self._turn = 0
        self._switches = RateLimitedLog(log)  # detection switched by command, per camera
        self.snapshots = SnapshotWorker(self._full_frame)
        self._fitting = detector if isinstance(detector, FittingDetector) else None
        """The detector, when frames can be fitted to its input on the capture threads."""
        self.cameras = [self.new_camera(name, cam) for name, cam in config.cameras.items()]
        attach_clips(self.clips, self.cameras)

    def new_camera(
        self, name: str, config: CameraConfig, rules: Sequence[RuleConfig] | None = None
    ) -> CameraState:
        """A camera for this pipeline, not yet started or attached (any thread).

        ``rules``: the config's rules the camera runs with (a reload's), if not the running ones.
        """
        cam = build_camera(name, config, self._ready, self._fitter())
        if self.clips is not None:
            wanted = None if rules is None else clip_rules(rules)
            cam.capture.tap = self.clips.tap(name, cam.capture.source, wanted, attach=False)
        if config.regions.mode != "off":
            cam.regions = RegionPlanner(config.regions, self.detector.info.input_size)
        if isinstance(source := cam.capture.source, ModelAwareSource):
            wire_model_aware(cam, source, self.config.model, self.detector.info.input_size)
        if self.classify is not None:
            wire_views(cam)
        return cam

    def attach(self, cameras: Sequence[CameraState]) -> None:
        """Add cameras to the detection loop (pipeline thread); their capture may start later."""
        # A new list, not extend(): the HTTP and supervisor threads may be iterating the old one.
        self.cameras = [*self.cameras, *cameras]

    def detach(self, names: Collection[str]) -> list[CameraState]:
        """Take cameras out of the loop (pipeline thread) and tell their capture threads to end."""
        gone = [cam for cam in self.cameras if cam.name in names]
        self.cameras = [cam for cam in self.cameras if cam.name not in names]
        for cam in gone:
            cam.capture.request_stop()
        return gone

    def _fitter(self) -> Callable[[Image], Image] | None:
        return self._fitting.fitter() if self._fitting is not None else None

    def refit(self) -> None:
        """After the detector was rebuilt (its input may differ): new fitters for the cameras.

        Frames fitted before this moment are resized again by the detector instead.
        """
        for cam in self.cameras:
            if cam.sensor is not None:
                continue  # the AI Camera's frames never reach the detector
            cam.capture.fit = self._fitter()
            # Set after the new fitter: a frame fitted by the old one has a lower number.
            cam.fitted_from = cam.capture.frames + 1
            if cam.regions is not None:
                cam.regions = RegionPlanner(cam.regions.config, self.detector.info.input_size)
                if isinstance(source := cam.capture.source, ModelAwareSource):
                    wire_model_aware(cam, source, self.config.model, self.detector.info.input_size)

    def swap(self, new: NewParts) -> OldParts:
        """Take a new config's parts in one step (pipeline thread, through :meth:`call_soon`).

        Open rule states of the old engine end first, delivered to the old sinks; then the new
        engine, sinks and cameras are in use, and fps limits follow the new config.
        """
        self.replace_engine(new.engine)
        if self.clips is not None:
            self.clips.rules = clip_rules(new.config.rules)
        gone = self.detach(new.detach)
        retire_clips(self.clips, gone, new.config)
        self.attach(new.cameras)
        attach_clips(self.clips, new.cameras)
        old_sinks: Sequence[EventSink] = ()
        if new.sinks is not None:
            old_sinks, self.sinks = self.sinks, list(new.sinks)
        else:
            for sink in self.sinks:
                if isinstance(sink, Retargetable):
                    sink.retarget(list(new.config.cameras), new.config.rules)
        for cam in self.cameras:
            if (cam_config := new.config.cameras.get(cam.name)) is not None:
                cam.min_interval = 1.0 / cam_config.fps if cam_config.fps else 0.0
            if cam.sensor is not None:  # the AI Camera: the model's threshold applies to it too
                cam.sensor.apply(new.config.model)
        self.config = new.config
        return OldParts(old_sinks, gone)

    def set_detect(self, camera: str, enabled: bool) -> None:
        """Pause or resume detection on one camera (pipeline thread; MQTT ``detect/set``)."""
        # Logged once per change, a few lines a minute at most: commands can come by thousands.
        for cam in self.cameras:
            if cam.name == camera:
                state = "on" if enabled else "off"
                if cam.detect_enabled == enabled:
                    log.debug("camera %s: detection already %s", camera, state)
                    continue
                cam.detect_enabled = enabled
                self._switches.log(
                    logging.INFO, camera, "camera %s: detection %s by command", camera, state
                )

    @property
    def dropped(self) -> int:
        """Frames replaced in a slot before the detector took them, all cameras."""
        return sum(cam.slot.dropped for cam in self.cameras)

    def start(self) -> None:
        """Open every source and start the capture threads.

        A file or image that cannot be opened raises CameraError; a live camera or stream that
        cannot is retried in the background while the other cameras run.
        """
        settle_opencv(quiet=not log.isEnabledFor(logging.DEBUG))
        try:
            for cam in self.cameras:
                cam.capture.start()
        except BaseException:
            self.close()  # the cameras already running end; nothing was analysed
            raise

    def run(self) -> PipelineStats:
        """Analyse frames until every source ended, ``max_frames`` or the stop event."""
        next_stats = time.monotonic() + STATS_INTERVAL
        try:
            while not self.stop.is_set():
                if not self._round() and not self._wait_for_frames():
                    break
                if self.max_frames is not None and self.stats.analysed >= self.max_frames:
                    break
                if (now := time.monotonic()) >= next_stats:
                    self.publish_stats()
                    next_stats = now + STATS_INTERVAL
        finally:
            self.close()
        return self.stats

    def analyse(self, count: int) -> int:
        """Analyse the next ``count`` frames on this thread and return how many were.

        The capture threads go on; benchmarks interleave this with other loops. Fewer than
        ``count`` means every source ended or the pipeline was stopped.
        """
        goal = self.stats.analysed + count
        while self.stats.analysed < goal and not self.stop.is_set():
            if not self._round() and not self._wait_for_frames():
                break
        return count - max(0, goal - self.stats.analysed)

    def close(self) -> None:
        """Stop the capture threads and end what is open (``run`` does this when it returns)."""
        self.stop.set()
        for cam in self.cameras:
            cam.capture.request_stop()
        if not self._closed:
            self._closed = True
            self._finish()

    def _wait_for_frames(self) -> bool:
        """Wait briefly for a capture thread to deliver; False once every source has ended."""
        if all(cam.slot.closed for cam in self.cameras):
            return False
        if any(cam.capture.starting_detail() for cam in self.cameras):
            # A camera is busy starting (the AI Camera's firmware upload): not a hung pipeline,
            # so the watchdog keeps being pinged; /healthz says "starting" meanwhile.
            self.heartbeat = time.monotonic()
        self._ready.wait(0.05)
        self._ready.clear()
        return True

    def call_soon(self, call: Callable[[Pipeline], None]) -> None:
        """Run ``call(self)`` on the pipeline thread between frames (config reloads use it)."""
        with self._calls_lock:
            self._calls.append(call)
        self._ready.set()

    def replace_engine(self, engine: RuleEngine) -> None:
        """Swap the rule engine (pipeline thread only): open states of the old one end first."""
        for cam in self.cameras:
            if cam.last_frame is not None:
                self._emit(self._with_clips(cam.last_frame, self.engine.finish(cam.last_frame)))
        self.engine = engine

    def _run_calls(self) -> None:
        with self._calls_lock:
            calls, self._calls = self._calls, []
        for call in calls:
            call(self)

    def step(self) -> bool:
        """One scheduling round outside :meth:`run` (benchmarks use it to warm up)."""
        return self._round()

    def _round(self) -> bool:
        """Take at most one frame from each camera in turn; False if none was waiting."""
        if self._calls:
            self._run_calls()
        took = False
        # Start each round at the next camera, so no camera is always served first.
        count = len(self.cameras)
        self._turn = (self._turn + 1) % count
        for cam in self.cameras[self._turn :] + self.cameras[: self._turn]:
            frame = cam.slot.take(0)
            if frame is None:
                continue
            took = True
            if not cam.detect_enabled or frame.mono - cam.last_analysed < cam.min_interval:
                cam.skipped += 1
                # Frames still flow through a paused or rate-limited camera: not a hang.
                self.heartbeat = time.monotonic()
                continue
            if cam.motion is not None and not cam.motion.should_detect(frame.image, frame.mono):
                cam.still += 1
                self.heartbeat = time.monotonic()
                continue
            self._analyse(cam, frame)
            if self.max_frames is not None and self.stats.analysed >= self.max_frames:
                break
        return took

    def _analyse(self, cam: CameraState, frame: Frame) -> None:
        stats = self.stats
        # Set before detecting: the capture thread reads it to skip converting the frames that
        # come during the inference and that this loop would not take.
        cam.last_analysed = frame.mono
        if cam.sensor is not None:  # the AI Camera detected on its sensor: no inference here
            detections = cam.sensor(frame.detections or ())
        else:
            detections = detect_frame(self.detector, self._fitting, cam, frame, self._interest)
            stats.inference_ms += (self.detector.last_invoke_ms - stats.inference_ms) * 0.1
        stats.analysed += 1
        cam.analysed += 1
        cam.last_frame = frame
        cam.last_detections = detections
        self.heartbeat = time.monotonic()
        if (stage := self.classify) is not None:
            # Votes finished since the last frame, before the rules read them; a recording
            # analysed frame by frame waits for them (time is data: same events every run).
            stage.apply(settle=cam.slot.lossless)
        found = self.engine.process(frame, detections)
        if stage is not None:
            tracks = self.engine.tracks(frame.camera)
            stage.observe(frame, tracks, settle=cam.slot.lossless)
            if cam.views:  # where the capture thread cuts the next frame's classifier views
                cam.view_wants = stage.wanted(frame, tracks)
        if cam.main_regions:
            # Where the next frame's crops go: the capture thread cuts them from its main stream.
            cam.interest = tuple(self._interest(cam, frame))
        if found:
            events = self._with_clips(frame, found)
            self._emit(events)
            self._snapshots(frame, events, detections)

    def _interest(self, cam: CameraState, frame: Frame) -> list[Box]:
        return interest(self.engine, cam, frame)

    def _snapshots(
        self, frame: Frame, events: Sequence[Event], detections: Sequence[Detection]
    ) -> None:
        """Queue one annotated JPEG per rule that alerted on this frame, for every sink."""
        latest = {e.rule: e for e in events if wants_snapshot(self.engine, e)}
        if latest:
            job = SnapshotJob(
                frame,
                list(latest.values()),
                [d.box for d in detections],
                self.config.cameras.get(frame.camera),
                [sink for sink in [*self.sinks, *self.keep] if isinstance(sink, TakesSnapshots)],
            )
            self.snapshots.submit(job)

    def _full_frame(self, camera: str) -> Image | None:
        """The camera's full-size frame for a snapshot, where its source has one."""
        if self.stop.is_set():
            return None  # the capture threads are ending: no next frame will come
        return full_frame(self.cameras, camera, FULL_FRAME_WAIT)

    def _with_clips(self, frame: Frame, events: Sequence[Event]) -> Sequence[Event]:
        return events if self.clips is None else self.clips.on_events(frame, events)

    def _emit(self, events: Sequence[Event]) -> None:
        self.stats.events += len(events)
        sinks = [*self.sinks, *self.keep]
        for event in events:
            for sink in sinks:
                sink.emit(event)

    def _finish(self) -> None:
        for cam in self.cameras:
            if cam.capture.is_alive():
                cam.capture.join(timeout=5.0)
            if cam.last_frame is not None:
                self._emit(self._with_clips(cam.last_frame, self.engine.finish(cam.last_frame)))
        if self.clips is not None:
            self.clips.close(self.config.health.stop_timeout)
        self.snapshots.close()
        if self.classify is not None:
            self.classify.close()
        self.publish_stats()

    def snapshot_stats(self) -> dict[str, object]:
        """The stats payload: fps, inference ms, dropped frames, detector, uptime (MQTT)."""
        uptime = time.monotonic() - self.stats.started
        return {
            "fps": round(self.stats.analysed / uptime, 2) if uptime > 0 else 0.0,
            "inference_ms": round(self.stats.inference_ms, 2),
            "dropped_frames": self.dropped,
            "frames_analysed": self.stats.analysed,
            "events": self.stats.events,
            "snapshots_dropped": self.snapshots.dropped,
            **({"classify": self.classify.stats()} if self.classify is not None else {}),
            "detector": self.detector.info.device,
            "runtime": self.detector.info.runtime,
            "uptime_s": round(uptime, 1),
            "cameras": {cam.name: cam.stats() for cam in self.cameras},
        }

    def publish_stats(self) -> None:
        """Hand the current stats to every sink."""
        stats = self.snapshot_stats()
        for sink in self.sinks:
            if isinstance(sink, TakesStats):
                sink.stats(stats)
