"""Are int8 rebuilds of the built-in classifiers faster on this CPU, with the same top-1?

Invoke time of each uint8 model and its int8 rebuild (one thread, as the classify stage runs
them), in alternating rounds, median of each; and the top-1 class of both on the detector's
boxes of the test images (cropped as the classify stage crops them).

    python -m benchmarks.classifier_int8 [--rounds 7] [--json]

The imagenet int8 build is not shipped (one top-1 differs, docs/classify.md); to measure it,
make it first: ``edgecam quantize imagenet -o models/mobilenet_v2_1.0_224_int8.tflite``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from edgecam import bundled
from edgecam.classify.crop import crop_rgb
from edgecam.classify.model import Classifier
from edgecam.detect.catalog import invoke_ms
from edgecam.detect.config import ModelConfig
from edgecam.detect.detector import Detector
from edgecam.imaging import read_image

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
IMAGES = ("bird.bmp", "parrot.jpg", "chelsea.png", "dog.jpg", "person.jpg", "coffee.png")
PAIRS = {
    "birds": ("mobilenet_v2_1.0_224_inat_bird_quant.tflite",
              "mobilenet_v2_1.0_224_inat_bird_int8.tflite", "inat_bird_labels.txt"),
    "imagenet": ("mobilenet_v2_1.0_224_quant.tflite", "mobilenet_v2_1.0_224_int8.tflite",
                 "imagenet_labels.txt"),  # not shipped: make it first (below)
}  # fmt: skip


def top1_rows(uint8: Classifier, int8: Classifier) -> list[dict[str, Any]]:
    """Top-1 of both models on every detection of the test images."""
    detector = Detector.from_config(ModelConfig(device="cpu"))
    rows = []
    for name in IMAGES:
        image = read_image(DATA / name)
        for det in detector.detect(image):
            crop = crop_rgb(image, det.box, uint8.size, 0.1)
            a, b = uint8.classify(crop), int8.classify(crop)
            ia, ib = int(a.argmax()), int(b.argmax())
            rows.append({
                "image": name, "object": det.label, "uint8": uint8.classes[ia].name,
                "uint8_p": round(float(a[ia]), 3), "int8": int8.classes[ib].name,
                "int8_p": round(float(b[ib]), 3), "same": ia == ib,
            })  # fmt: skip
    return rows


def run(rounds: int) -> dict[str, Any]:
    """Alternating invoke timings and top-1 agreement for each built-in classifier."""
    out: dict[str, Any] = {}
    for name, (u8, i8, classes) in PAIRS.items():
        paths = bundled.model_file(u8), bundled.model_file(i8)
        times: dict[str, list[float]] = {"uint8": [], "int8": []}
        for index in range(rounds):
            order = ("uint8", "int8") if index % 2 == 0 else ("int8", "uint8")
            for kind in order:
                times[kind].append(invoke_ms(paths[kind == "int8"], threads=1, iterations=20))
        labels = bundled.model_file(classes)
        rows = top1_rows(Classifier(paths[0], labels), Classifier(paths[1], labels))
        u, i = statistics.median(times["uint8"]), statistics.median(times["int8"])
        out[name] = {
            "uint8_ms": round(u, 2), "int8_ms": round(i, 2), "speedup": round(u / i, 2),
            "per_round": [round(a / b, 2) for a, b in zip(times["uint8"], times["int8"],
                                                           strict=True)],
            "same_top1": f"{sum(r['same'] for r in rows)}/{len(rows)}", "crops": rows,
        }  # fmt: skip
    return out


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.rounds)
    if args.json:
        print(json.dumps(result))
        return
    for name, row in result.items():
        print(f"{name}: uint8 {row['uint8_ms']} ms, int8 {row['int8_ms']} ms, "
              f"speedup {row['speedup']}x (rounds {row['per_round']}), "
              f"same top-1 {row['same_top1']}")  # fmt: skip
        for crop in row["crops"]:
            print(f"  {crop['image']} {crop['object']}: {crop['uint8']} {crop['uint8_p']} | "
                  f"{crop['int8']} {crop['int8_p']}")  # fmt: skip


if __name__ == "__main__":
    main()
