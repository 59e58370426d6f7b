"""CPU per frame of the Pi camera's capture path, measured through the shipped fake picamera2.

What the capture thread does per frame, timed with ``time.thread_time`` (this thread's CPU):
read the request (lores converted to BGR, crops cut from main), then fit the frame to the
model's 300x300 input (what the detector thread would otherwise do). The fake's buffers are
rendered once, so the figures are edgecam's own work. Configurations run in alternating rounds,
so load on the machine falls on all of them alike; the median round is reported.

- ``before``: lores 384x216 (the old default), resized to 300x300 by the fitter;
- ``lores=model``: lores at the model's 300x300 (the ISP scales): a YUV->BGR conversion and a
  channel swap, no resize;
- ``lores=model, Pi 5``: the same with lores delivered as BGR (PiSP): a copy and the swap;
- ``+ crop 1:1`` / ``+ crop 2:1``: plus one region cut from a 1920x1080 main stream (a 300 px
  square copied, or a 600 px square scaled to 300);
- ``+ classifier, none pending``: a classifier configured, no track awaiting a crop (the main
  stream is not touched); ``+ classifier view 260 px`` / ``600 px``: one view cut around a bird
  whose square (0.1 margin) is that big (the 600 px one halved);
- ``whole main copied``: what regions must not do: ``make_array("main")`` copies the whole
  1920x1080 frame (and a detector would then resize it).

    python -m benchmarks.pi_camera_cost [--frames 200] [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np

from edgecam.camera.base import Rect, RegionPlan
from edgecam.camera.fake_picamera2 import FakeCameraSystem
from edgecam.camera.picamera2 import Picamera2Source, Picamera2SourceConfig
from edgecam.classify.views import Wanted, plan_views
from edgecam.detect.preprocess import InputFitter
from edgecam.types import Image

MAIN = (1920, 1080)
MODEL = (300, 300)
Step = Callable[[], object]


def _source(system: FakeCameraSystem, lores: tuple[int, int] | None) -> Picamera2Source:
    config = Picamera2SourceConfig(size=MAIN, lores=lores, buffer_count=4)
    source = Picamera2Source("bench", config, api=system.api())
    source.fit_to(MODEL, keep_aspect=False)
    return source


def _step(source: Picamera2Source, fitter: InputFitter) -> Step:
    def step() -> object:
        return fitter(source.read())

    return step


def _fixed_plan(rect: Rect) -> RegionPlan:
    def plan(size: tuple[int, int]) -> tuple[tuple[Rect, ...], bool]:
        return (rect,), False

    return plan


def _always(wanted: tuple[Wanted, ...]) -> Callable[[], tuple[Wanted, ...]]:
    def get() -> tuple[Wanted, ...]:
        return wanted

    return get


def configurations(scene: Image) -> dict[str, tuple[Picamera2Source, Step]]:
    """Each configuration's opened source and its per-frame step."""
    out: dict[str, tuple[Picamera2Source, Step]] = {}
    fitter = InputFitter(*MODEL, "stretch")
    vc4, pisp = FakeCameraSystem(scene=scene), FakeCameraSystem(scene=scene, pisp=True)
    out["before"] = (before := _source(vc4, (384, 216)), _step(before, fitter))
    out["lores=model"] = (after := _source(vc4, None), _step(after, fitter))
    out["lores=model, Pi 5"] = (pi5 := _source(pisp, None), _step(pi5, fitter))
    for name, side in (("+ crop 1:1", 300), ("+ crop 2:1", 600)):
        source = _source(FakeCameraSystem(scene=scene), None)
        source.cut_regions(_fixed_plan((800, 400, 800 + side, 400 + side)), MODEL[0])
        out[f"lores=model {name}"] = (source, _step(source, fitter))
    birds: dict[str, tuple[Wanted, ...]] = {
        "none pending": (),
        "view 260 px": (((0.5, 0.4, 0.6, 0.6), 0.1, 224),),
        "view 600 px": (((0.4, 0.3, 0.66, 0.76), 0.1, 224),),
    }
    for name, wanted in birds.items():
        source = _source(FakeCameraSystem(scene=scene), None)
        source.cut_views(plan_views(_always(wanted)))
        out[f"lores=model + classifier {name}"] = (source, _step(source, fitter))
    whole = _source(FakeCameraSystem(scene=scene), None)

    def copy_main() -> object:
        fitted = fitter(whole.read())
        with whole._camera.captured_request() as request:  # the contrast case
            return fitted, request.make_array("main")

    out["lores=model + whole main copied"] = (whole, copy_main)
    for source, _ in out.values():
        source.open()
    return out


def measure(frames: int, rounds: int) -> dict[str, dict[str, float]]:
    """Median over rounds of each configuration's CPU ms per frame, and its ratio to before."""
    configs = configurations(_scene())
    for _, step in configs.values():  # an untimed pass: first calls pay for allocation
        for _ in range(20):
            step()
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(rounds):
        for name, (_, step) in configs.items():
            start = time.thread_time()
            for _ in range(frames):
                step()
            times[name].append((time.thread_time() - start) * 1000.0 / frames)
    for source, _ in configs.values():
        source.close()
    base = statistics.median(times["before"])
    return {
        name: {"ms": round(statistics.median(t), 3), "ratio": round(statistics.median(t) / base, 2)}
        for name, t in times.items()
    }


def _scene() -> Image:
    """A 1920x1080 frame of the demo clip."""
    import cv2

    from edgecam import bundled

    capture = cv2.VideoCapture(str(bundled.demo_clip()))
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise SystemExit("cannot read the demo clip")
    return np.ascontiguousarray(cv2.resize(frame, MAIN, interpolation=cv2.INTER_LINEAR))


def main(argv: list[str] | None = None) -> int:
    """Print the table (or JSON)."""
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # as the service runs it
    rows = measure(args.frames, args.rounds)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("| capture path per frame | CPU ms | vs before |")
    print("|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['ms']:.3f} | {row['ratio']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
