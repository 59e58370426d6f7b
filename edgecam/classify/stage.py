"""The classification stage: crops of tracks go to a worker thread through a bounded queue.

The pipeline thread only decides which tracks deserve a crop (:meth:`ClassifyStage.observe`)
and takes finished votes back onto the tracks between frames (:meth:`ClassifyStage.apply`);
cropping, resizing and inference run on the worker. A full queue drops the crop (counted) and
the track tries again on a later sighting.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from edgecam.classify.config import ClassifierConfig
from edgecam.classify.crop import box_pixels, crop_rgb
from edgecam.classify.model import Classifier
from edgecam.classify.views import Wanted, view_crop
from edgecam.classify.vote import SubLabel, TrackVotes, note_run, should_run, tally
from edgecam.types import Box, Frame, Image

log = logging.getLogger(__name__)

QUEUE_DEPTH = 8
"""Crops waiting for the worker; more are dropped (a burst of new tracks, a slow CPU)."""
SHARED_CORE_BUDGET = 0.03
"""The default share of a core when the classifier shares the detector's cores: inference on
every core means each ms the classifier takes is a ms the detector loses."""


class Classifiable(Protocol):
    """What the stage reads and writes on a track (``edgecam.track.Track`` has it)."""

    label: str
    box: Box
    confirmed: bool
    seen_now: bool
    votes: object | None
    sub_label: str | None
    sub_score: float | None
    sub_top: tuple[tuple[str, float], ...]
    sub_scientific: str | None

    @property
    def score(self) -> float:
        """The latest detection score."""


class Entry:
    """A classifier in use: its config, the loaded model, and its CPU budget's state."""

    __slots__ = ("budget", "busy", "config", "model", "next_at")

    def __init__(self, config: ClassifierConfig, model: Classifier, budget: float = 1.0) -> None:
        self.config = config
        self.model = model
        self.budget = budget
        """Share of one core its crops may take on a live camera."""
        self.busy = False
        """A crop of this classifier is queued or running (live cameras: one at a time)."""
        self.next_at = 0.0
        """Monotonic time before which no new crop starts (the budget's wait)."""


def default_budget(detector_threads: int, cores: int | None = None) -> float:
    """A whole core when one is spare beyond the detector's threads and capture, else 3 %."""
    cores = cores if cores is not None else os.cpu_count() or 1
    return 1.0 if cores >= detector_threads + 2 else SHARED_CORE_BUDGET


@dataclass(frozen=True, slots=True)
class _Job:
    entry: Entry
    image: Image
    box: Box
    track: Classifiable
    votes: TrackVotes


CropSource = Callable[[Frame, Box, float], tuple[Image, Box] | None]
"""Given a frame, a track's box and the classifier's margin: the image to crop and the box in
it, for the same moment as the frame, without waiting (it runs on the pipeline thread); None:
no crop at this frame (the track is tried again later)."""


def frame_crop(frame: Frame, box: Box, margin: float) -> tuple[Image, Box] | None:
    """Where crops come from: the camera's full-resolution views cut at capture when it has
    them (a Pi camera's main stream, :mod:`edgecam.classify.views`), else the analysed frame."""
    if frame.views is None:
        return frame.image, box
    return view_crop(frame.views, box, margin)


def crop_pixels(frame: Frame) -> tuple[int, int]:
    """The size of the stream crops come from (what ``min_box`` counts in)."""
    return frame.views.size if frame.views is not None else frame.size


class ClassifyStage:
    """Classifies tracks of the labels its classifiers apply to, off the detector's thread."""

    def __init__(
        self,
        entries: Sequence[Entry],
        crop_source: CropSource = frame_crop,
        depth: int = QUEUE_DEPTH,
    ) -> None:
        self.entries = list(entries)
        self._by_label = {label: e for e in self.entries for label in e.config.applies_to}
        self.crop_source = crop_source
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=depth)
        self._done: deque[tuple[Classifiable, SubLabel]] = deque()
        self.runs = 0
        """Crops classified."""
        self.dropped = 0
        """Crops dropped because the queue was full."""
        self.too_small = 0
        """Sightings skipped because the box was under ``min_box``."""
        self.tracks = 0
        """Tracks that had at least one crop queued."""
        self.invoke_ms = 0.0
        """Moving average of one classifier invoke."""
        self.cpu_s = 0.0
        """CPU seconds the worker spent on crops (cropping, resizing, inference)."""
        self._chosen: list[tuple[Entry, Classifiable, TrackVotes, float]] = []
        """This frame's crops to queue (reused: no list per frame)."""
        self._thread = threading.Thread(target=self._run, name="edgecam-classify", daemon=True)
        self._started = False

    def observe(self, frame: Frame, tracks: Sequence[Classifiable], settle: bool = False) -> None:
        """After tracking (pipeline thread): queue crops of the tracks that deserve one.

        On a live camera each classifier has one crop in flight at a time, within its CPU
        budget, given to the track classified least so far; with ``settle`` (a recording
        analysed frame by frame) every track that deserves a crop gets one.
        """
        by_label = self._by_label
        now = 0.0 if settle else time.monotonic()
        chosen = self._chosen
        chosen.clear()
        for track in tracks:
            entry = by_label.get(track.label)
            if entry is None or not track.seen_now or not track.confirmed:
                continue
            if not settle and (entry.busy or now < entry.next_at):
                continue
            votes = track.votes
            if not isinstance(votes, TrackVotes):
                votes = track.votes = TrackVotes()
            box = track.box
            area = (box[2] - box[0]) * (box[3] - box[1])
            if not should_run(votes, area, track.score, frame.mono, entry.config.max_runs):
                continue
            width, height = crop_pixels(frame)
            if box_pixels(box, width, height) < entry.config.min_box:
                self.too_small += 1
                continue
            if settle:
                chosen.append((entry, track, votes, area))
            else:
                _fewest_runs(chosen, entry, track, votes, area)
        for entry, track, votes, area in chosen:
            if (source := self.crop_source(frame, track.box, entry.config.margin)) is None:
                continue
            image, box = source
            entry.busy = not settle
            self._submit(_Job(entry, image, box, track, votes), area, track.score, frame.mono)

    def wanted(self, frame: Frame, tracks: Sequence[Classifiable]) -> tuple[Wanted, ...]:
        """The tracks that may get a crop on the next frame (pipeline thread, live cameras):
        where a camera that cuts views at capture cuts them; () when none (nothing is cut)."""
        found: list[Wanted] | None = None
        width, height = crop_pixels(frame)
        now = time.monotonic()
        for track in tracks:
            entry = self._by_label.get(track.label)
            if entry is None or not track.seen_now or entry.busy or now < entry.next_at:
                continue
            votes, box = track.votes, track.box
            if isinstance(votes, TrackVotes):
                area = (box[2] - box[0]) * (box[3] - box[1])
                if not should_run(votes, area, track.score, frame.mono, entry.config.max_runs):
                    continue
            if box_pixels(box, width, height) < entry.config.min_box:
                continue
            found = found if found is not None else []
            found.append((box, entry.config.margin, max(entry.model.size)))
        return tuple(found) if found is not None else ()

    def _submit(self, job: _Job, area: float, score: float, now: float) -> None:
        if not self._started:
            self._started = True
            self._thread.start()
        # Noted before the put: the worker may finish the job before put_nowait returns.
        note_run(job.votes, area, score, now)
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            job.votes.sent -= 1
            job.votes.pending = False
            job.entry.busy = False
            return
        if job.votes.sent == 1:
            self.tracks += 1

    def apply(self, settle: bool = False) -> int:
        """Put finished votes on their tracks (pipeline thread, before the rules); how many.

        ``settle`` first waits for every queued crop: a recording analysed frame by frame then
        gives the same events on every run and machine, however fast the classifier is.
        """
        if settle and self._started:
            self._jobs.join()
        done = self._done
        count = 0
        while done:
            track, result = done.popleft()
            track.sub_label = result.label
            track.sub_score = result.score if result.label is not None else None
            track.sub_top = result.top
            track.sub_scientific = result.scientific
            count += 1
        return count

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._classify(job)
            except Exception:  # one bad crop must not end the worker
                log.exception("classify: a crop failed")
            finally:
                job.votes.pending = False
                job.entry.busy = False  # after the vote is out: the next crop may start
                self._jobs.task_done()

    def _classify(self, job: _Job) -> None:
        entry = job.entry
        model, cfg = entry.model, entry.config
        start, cpu = time.monotonic(), time.thread_time()
        try:
            crop = crop_rgb(job.image, job.box, model.size, cfg.margin)
            probabilities = model.classify(crop)
        finally:
            end = time.monotonic()
            # With threads: 1 (the default) inference runs on this thread, so this is the crop's
            # whole cost; the work of more interpreter threads is not counted.
            self.cpu_s += time.thread_time() - cpu
            entry.next_at = end + (end - start) * (1.0 / entry.budget - 1.0)
        self.invoke_ms += (model.last_ms - self.invoke_ms) * (0.2 if self.runs else 1.0)
        self.runs += 1
        job.votes.add(probabilities)
        assert job.votes.sums is not None
        result = tally(job.votes.sums, job.votes.runs, model.classes, cfg.threshold)
        self._done.append((job.track, result))

    def stats(self) -> dict[str, object]:
        """Counters for the stats payload and metrics."""
        return {
            "classified": self.runs,
            "tracks": self.tracks,
            "dropped": self.dropped,
            "too_small": self.too_small,
            "queued": self._jobs.qsize(),
            "invoke_ms": round(self.invoke_ms, 2),
            "cpu_s": round(self.cpu_s, 3),
        }

    def close(self, timeout: float = 5.0) -> None:
        """Let the worker finish what is queued and end."""
        if self._started:
            try:
                self._jobs.put(None, timeout=timeout)
            except queue.Full:
                return
            self._thread.join(timeout)


def load_stage(
    configs: Sequence[ClassifierConfig],
    detector_threads: int = 2,
    crop_source: CropSource = frame_crop,
) -> ClassifyStage | None:
    """The stage for a config's classifiers, or None when there are none."""
    if not configs:
        return None
    spare = default_budget(detector_threads)
    entries = [
        Entry(
            cfg,
            Classifier(cfg.model_file(), cfg.classes_file(), cfg.threads),
            cfg.budget if cfg.budget is not None else spare,
        )
        for cfg in configs
    ]
    for entry in entries:
        log.info(
            "classifier %s (%d classes) on %s, up to %g of a CPU core",
            entry.config.title, len(entry.model.classes), ", ".join(entry.config.applies_to),
            entry.budget,
        )  # fmt: skip
    return ClassifyStage(entries, crop_source)


def _fewest_runs(
    chosen: list[tuple[Entry, Classifiable, TrackVotes, float]],
    entry: Entry,
    track: Classifiable,
    votes: TrackVotes,
    area: float,
) -> None:
    """Keep, per classifier, the candidate with the fewest crops so far (new tracks first)."""
    for index, (other, _, other_votes, _) in enumerate(chosen):
        if other is entry:
            if votes.sent < other_votes.sent:
                chosen[index] = (entry, track, votes, area)
            return
    chosen.append((entry, track, votes, area))
