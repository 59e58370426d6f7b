"""Detection on regions: model-sized squares around motion and tracked objects (pure logic).

Squeezing a 1080p frame into a 300x300 input shrinks a distant person to a few pixels, and the
model misses them. Detecting on square crops around where something moves or is tracked keeps
them at a size the model sees; a full-frame pass every ``full_frame_every`` frames (and whenever
no region is planned) finds objects that neither move nor are tracked yet. The results of all
passes are merged (NMS) into frame coordinates for the tracker.

The cost per analysed frame is bounded: at most ``max_regions`` inferences at the model's input
size, plus one full-frame pass: every ``full_frame_every``-th frame, and when an object is larger
than a region or more regions would be needed than allowed (then the squares holding the most
objects are kept).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from edgecam.geometry import iou
from edgecam.schema import StrictModel
from edgecam.types import Box, Crops, Detection, Image

Rect = tuple[int, int, int, int]
"""``(x0, y0, x1, y1)`` in frame pixels, ``x1``/``y1`` exclusive."""


DEFAULT_SIZE = 2.0
"""Side of a region in model inputs when ``size`` is unset: objects shrink by half at most, a
good trade of reach against inferences on a camera's analysed frame."""
MAIN_STREAM_SIZE = 0.75
"""The same for regions cut from a Pi camera's main stream, where the distant objects regions
are for are a few per cent of the frame: enlarged by a third, they are found about as often as in
a full-resolution crop (benchmarks/pi_far_people.py; 2 found half as many)."""


class RegionConfig(StrictModel):
    """Detect on squares around motion and tracked objects, so small, distant objects are seen."""

    mode: Literal["auto", "on", "off"] = "auto"
    """``auto``: on when the frame is at least twice the model input each way (objects would
    shrink by half or more); ``on``; ``off``: always the whole frame."""
    size: float | None = Field(default=None, ge=0.5, le=4.0)
    """Side of a region in model inputs; unset, it depends on the source: 2 (a 600 px square
    for a 300x300 model, objects shrink by half), and 0.75 for regions cut from a Pi camera's
    main stream (far objects enlarged by a third). 1 keeps full resolution."""
    full_frame_every: int = Field(default=5, ge=1, le=1000)
    """Every this many analysed frames the whole frame is detected too (new, still objects)."""
    max_regions: int = Field(default=4, ge=1, le=16)
    """Most regions per frame (each one inference); more needed: the whole frame instead."""
    margin: float = Field(default=0.25, ge=0.0, le=2.0)
    """Room kept around an object in its region, in units of the object's size."""

    def for_main_stream(self) -> RegionConfig:
        """This config for regions cut from a Pi camera's main stream: an unset ``size`` is
        :data:`MAIN_STREAM_SIZE` there (an explicit one wins)."""
        return self if self.size is not None else self.model_copy(update={"size": MAIN_STREAM_SIZE})


@dataclass(frozen=True, slots=True)
class Plan:
    """What to run on one frame: regions, and whether the whole frame too."""

    regions: tuple[Rect, ...]
    full_frame: bool


def regions_wanted(config: RegionConfig, frame: tuple[int, int], model: tuple[int, int]) -> bool:
    """Whether a camera with frames of size ``frame`` uses regions on a ``model``-sized input."""
    if config.mode != "auto":
        return config.mode == "on"
    return frame[0] >= 2 * model[0] and frame[1] >= 2 * model[1]


def region_side(config: RegionConfig, frame: tuple[int, int], model: tuple[int, int]) -> int:
    """The side of a region in frame pixels (never more than the frame's shorter side)."""
    size = DEFAULT_SIZE if config.size is None else config.size
    return min(round(size * max(model)), frame[0], frame[1])


def to_pixels(box: Box, frame: tuple[int, int], margin: float) -> Rect:
    """A normalised box grown by ``margin`` of its size, in frame pixels, clipped."""
    w, h = frame
    dx, dy = (box[2] - box[0]) * margin, (box[3] - box[1]) * margin
    x0, y0 = max(0, int((box[0] - dx) * w)), max(0, int((box[1] - dy) * h))
    x1, y1 = min(w, int((box[2] + dx) * w) + 1), min(h, int((box[3] + dy) * h) + 1)
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def _square(union: Rect, side: int, frame: tuple[int, int]) -> Rect:
    """A ``side`` square centred on ``union``, moved inside the frame."""
    cx, cy = (union[0] + union[2]) // 2, (union[1] + union[3]) // 2
    x0 = min(max(0, cx - side // 2), frame[0] - side)
    y0 = min(max(0, cy - side // 2), frame[1] - side)
    return x0, y0, x0 + side, y0 + side


def _joined(a: Rect, b: Rect) -> Rect:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _fits(rect: Rect, side: int) -> bool:
    return rect[2] - rect[0] <= side and rect[3] - rect[1] <= side


def _grown(
    wanted: list[Rect], side: int, frame: tuple[int, int]
) -> tuple[list[tuple[int, Rect]], list[Rect]]:
    """Squares of their own for the boxes larger than ``side`` (that the frame can hold), each
    with the boxes inside it; and the boxes left to pack."""
    squares: list[tuple[int, Rect]] = []
    for rect in sorted(wanted, key=lambda r: -max(r[2] - r[0], r[3] - r[1])):
        need = max(rect[2] - rect[0], rect[3] - rect[1])
        if need <= side:
            break  # the rest fit a square of ``side``
        if need > min(frame):
            continue  # larger than the frame's height: the whole frame sees it well enough
        if not any(_holds(square, rect) for _, square in squares):
            squares.append((0, _square(rect, need, frame)))
    left: list[Rect] = []
    for rect in wanted:
        at = next((i for i, (_, sq) in enumerate(squares) if _holds(sq, rect)), None)
        if at is None:
            left.append(rect)
        else:
            squares[at] = (squares[at][0] + 1, squares[at][1])
    return squares, left


def _holds(square: Rect, rect: Rect) -> bool:
    return (
        square[0] <= rect[0]
        and square[1] <= rect[1]
        and rect[2] <= square[2]
        and rect[3] <= square[3]
    )


def plan(
    config: RegionConfig,
    frame: tuple[int, int],
    side: int,
    interest: Sequence[Box],
    index: int,
    *,
    grow: bool = False,
) -> Plan:
    """The passes for analysed frame number ``index`` with objects of interest at ``interest``.

    Boxes (normalised, from motion and tracks) are grown by the margin and packed greedily, left
    to right, into as few ``side`` squares as hold them; a box larger than a square is left to a
    full-frame pass, where it is large enough to be seen anyway. With ``grow`` (regions cut from
    a full-resolution stream whose analysed frame is far coarser, so the whole frame would not
    see it well) such a box gets its own square as large as it needs, holding the boxes inside it.
    """
    if not interest:
        return Plan((), True)
    periodic = index % config.full_frame_every == 0
    wanted = sorted(to_pixels(b, frame, config.margin) for b in interest)
    squares: list[tuple[int, Rect]] = []
    if grow:
        squares, wanted = _grown(wanted, side, frame)
    big = [r for r in wanted if not _fits(r, side)]
    left = [r for r in wanted if _fits(r, side)]
    while left:
        union, held = left.pop(0), 1
        rest = []
        for rect in left:
            joined = _joined(union, rect)
            if _fits(joined, side):
                union, held = joined, held + 1
            else:
                rest.append(rect)
        left = rest
        squares.append((held, _square(union, side, frame)))
    if len(squares) > config.max_regions:
        # Over budget: the squares holding most objects, and the whole frame for the rest.
        kept = sorted(squares, key=lambda s: -s[0])[: config.max_regions]
        return Plan(tuple(r for _, r in kept), True)
    return Plan(tuple(r for _, r in squares), periodic or bool(big))


def to_frame(box: Box, region: Rect, frame: tuple[int, int]) -> Box:
    """A box normalised to ``region`` as a box normalised to the frame."""
    x0, y0, x1, y1 = region
    w, h = x1 - x0, y1 - y0
    fw, fh = frame
    return (
        (x0 + box[0] * w) / fw,
        (y0 + box[1] * h) / fh,
        (x0 + box[2] * w) / fw,
        (y0 + box[3] * h) / fh,
    )


NMS_IOU = 0.5
"""Boxes of one label overlapping this much (IoU) are one object; the best score is kept."""


def _inside(inner: Box, outer: Box) -> float:
    w = min(inner[2], outer[2]) - max(inner[0], outer[0])
    h = min(inner[3], outer[3]) - max(inner[1], outer[1])
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return w * h / area if w > 0 and h > 0 and area > 0 else 0.0


def merge(detections: Sequence[Detection]) -> list[Detection]:
    """Non-maximum suppression per label, best score first: one detection per object.

    By IoU only: a box inside a larger one is often a person inside a box the model drew
    around a group, and must stay.
    """
    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: -d.score):
        if not any(k.label == det.label and iou(k.box, det.box) >= NMS_IOU for k in kept):
            kept.append(det)
    return kept


Detect = Callable[[Image], list[Detection]]
"""A detector's per-image call: BGR image in, boxes normalised to that image out."""


def detect_plan(detect: Detect, image: Image, passes: Plan) -> list[Detection]:
    """Run ``passes`` on ``image`` with ``detect`` and merge the results into frame coordinates."""
    if not passes.regions:
        return detect(image)
    h, w = image.shape[:2]
    found: list[Detection] = []
    for region in passes.regions:
        x0, y0, x1, y1 = region
        for det in detect(image[y0:y1, x0:x1]):
            box = to_frame(det.box, region, (w, h))
            found.append(Detection(det.label, det.class_id, det.score, box))
    if passes.full_frame:
        # Inside a region the region's finer view decides; the whole frame adds what lies
        # elsewhere or is too large for a region.
        bounds = [(x0 / w, y0 / h, x1 / w, y1 / h) for x0, y0, x1, y1 in passes.regions]
        found += [d for d in detect(image) if not any(_inside(d.box, b) >= 1.0 for b in bounds)]
    return merge(found)


def detect_crops(
    detect: Detect, crops: Crops, whole: Callable[[], list[Detection]] | None
) -> list[Detection]:
    """Detect on crops cut at capture (a Pi camera's main stream) and merge, as :func:`detect_plan`.

    ``whole`` detects on the whole analysed frame, when the plan asks for it.
    """
    found: list[Detection] = []
    cut: list[bool] = []
    for region, image in zip(crops.regions, crops.images, strict=True):
        x0, y0, x1, y1 = region
        w, h = x1 - x0, y1 - y0
        for det in detect(image):
            b = det.box
            box = (x0 + b[0] * w, y0 + b[1] * h, x0 + b[2] * w, y0 + b[3] * h)
            found.append(Detection(det.label, det.class_id, det.score, box))
            cut.append(_cut(box, region))
    if whole is not None and crops.full_frame:
        wholes = [d for d in whole() if not any(_inside(d.box, b) >= 1.0 for b in crops.regions)]
        found += wholes
        cut += [False] * len(wholes)
    return merge(_whole_objects(found, cut))


EDGE = 0.01
"""A box this close to a region's side (in units of the region) touches it."""
COVERED = 0.7
"""Share of a cut box inside an uncut box of its label for the two to be one object."""


def _cut(box: Box, region: Box) -> bool:
    """Whether ``box`` touches a side of ``region`` that is not the frame's (the crop cut it)."""
    ex, ey = EDGE * (region[2] - region[0]), EDGE * (region[3] - region[1])
    return (
        (region[0] > 0 and box[0] <= region[0] + ex)
        or (region[1] > 0 and box[1] <= region[1] + ey)
        or (region[2] < 1 and box[2] >= region[2] - ex)
        or (region[3] < 1 and box[3] >= region[3] - ey)
    )


def _whole_objects(found: list[Detection], cut: list[bool]) -> list[Detection]:
    """Without the parts of objects a region cut that another pass saw whole.

    Motion inside a large object places regions over parts of it; the part found there would be
    a second object inside the whole one (which :func:`merge` keeps: a box inside a larger one
    is often a person inside a group's box).
    """
    return [
        d for d, c in zip(found, cut, strict=True)
        if not c or not any(
            o.label == d.label and not oc and _inside(d.box, o.box) >= COVERED
            for o, oc in zip(found, cut, strict=True)
        )
    ]  # fmt: skip


def main_stream_plan(
    planner: RegionPlanner, interest: Callable[[], Sequence[Box]]
) -> Callable[[tuple[int, int]], tuple[tuple[Rect, ...], bool] | None]:
    """A plan for a source that cuts its own crops: asked on the capture thread with the
    full-resolution stream's size, it plans around the latest ``interest`` the pipeline left."""

    def plan_for(size: tuple[int, int]) -> tuple[tuple[Rect, ...], bool] | None:
        passes = planner.next(size, interest())
        return None if passes is None else (passes.regions, passes.full_frame)

    return plan_for


class RegionPlanner:
    """One camera's region state: whether regions pay off for its frames, and the frame count."""

    def __init__(self, config: RegionConfig, model: tuple[int, int], grow: bool = False) -> None:
        self.config = config
        self.model = model
        self.grow = grow
        """Objects larger than a region get a larger square (see :func:`plan`): a main stream's."""
        self._frame: tuple[int, int] = (0, 0)
        self._side = 0
        self._wanted = False
        self.frames = 0
        self.passes = 0
        """Inferences run for this camera (regions and full frames)."""

    def active(self, size: tuple[int, int]) -> bool:
        """Whether frames of ``size`` are detected on regions (checked once per frame size)."""
        if size != self._frame:
            self._frame = size
            self._wanted = regions_wanted(self.config, size, self.model)
            self._side = region_side(self.config, size, self.model)
        return self._wanted

    def next(self, size: tuple[int, int], interest: Sequence[Box]) -> Plan | None:
        """The passes for the next analysed frame of ``size``; None: the whole frame as usual."""
        if not self.active(size):
            self.passes += 1
            return None
        passes = plan(self.config, size, self._side, interest, self.frames, grow=self.grow)
        self.frames += 1
        self.passes += len(passes.regions) + passes.full_frame
        return passes if passes.regions else None
