"""Recall and precision of the built-ins against Coral's uint8 COCO model on the vtest clip.

    python -m benchmarks.model_agreement [--step 10]

Every ``step``-th frame of tests/data/vtest.avi (held out from calibration). Reference
detections are those scoring >= 0.5; a match has the same label, IoU >= 0.5 and scores >= 0.4.
For the person model only the reference's people count. Prints a Markdown table
(models/README.md has its output).
"""

from __future__ import annotations

import argparse

import cv2

from edgecam.detect.compare import agreement
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.imaging import as_frame
from edgecam.types import Detection, Image
from tests.helpers import DATA


def frames(step: int) -> list[Image]:
    """Every ``step``-th frame of the vtest clip."""
    capture = cv2.VideoCapture(str(DATA / "vtest.avi"))
    out = []
    index = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if index % step == 0:
            out.append(as_frame(bgr))
        index += 1
    capture.release()
    return out


def detections(name: str, images: list[Image]) -> list[list[Detection]]:
    """A built-in's detections (score >= 0.4) on each image, on the CPU."""
    detector = Detector.from_config(ModelConfig(name=name, device="cpu", threshold=0.4))
    try:
        return [detector.detect(image) for image in images]
    finally:
        detector.close()


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--step", type=int, default=10, help="take every Nth frame")
    args = parser.parse_args()
    images = frames(args.step)
    found = {name: detections(name, images) for name in ("coco-uint8", "coco", "ssdlite-person")}
    people = {k: [[d for d in f if d.label == "person"] for f in v] for k, v in found.items()}
    ref, int8, lite = "coco-uint8", "coco", "ssdlite-person"
    rows = [
        ("coco (int8)", "coco-uint8, all labels", agreement(found[ref], found[int8])),
        ("coco (int8)", "coco-uint8, people", agreement(people[ref], people[int8])),
        ("ssdlite-person", "coco-uint8, people", agreement(people[ref], people[lite])),
        ("ssdlite-person", "coco (int8), people", agreement(people[int8], people[lite])),
    ]
    print(f"{len(images)} frames (every {args.step}th of vtest.avi)\n")
    print("| model | against | reference detections | recall | precision |")
    print("|---|---|---|---|---|")
    for model, against, a in rows:
        print(
            f"| {model} | {against} | {a.reference} | {a.recall:.3f} ({a.found}/{a.reference}) "
            f"| {a.precision:.3f} ({a.confirmed}/{a.candidate}) |"
        )


if __name__ == "__main__":
    main()
