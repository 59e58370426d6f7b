"""Compare two ``edgecam detect`` outputs: same labels per image, boxes within a tolerance.

    python scripts/compare_detections.py REFERENCE.jsonl OTHER.jsonl [--tolerance 0.02]

Prints one row per image and exits 1 when any image differs (scripts/check-arm64.sh uses it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _by_image(path: Path) -> dict[str, list[dict[str, Any]]]:
    lines = path.read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return {Path(row["image"]).name: row["detections"] for row in rows}


def _box_diff(a: dict[str, Any], b: dict[str, Any]) -> float:
    return max(abs(x - y) for x, y in zip(a["box"], b["box"], strict=True))


def compare(ref: list[dict[str, Any]], other: list[dict[str, Any]]) -> tuple[bool, float, float]:
    """Same labels (as a multiset); each reference box paired with the nearest one of its label.

    Returns whether the labels agree, the largest box coordinate and score differences.
    """
    if sorted(d["label"] for d in ref) != sorted(d["label"] for d in other):
        return False, float("inf"), float("inf")
    left = list(other)
    box = score = 0.0
    for det in ref:
        twin = min((o for o in left if o["label"] == det["label"]), key=lambda o: _box_diff(det, o))
        left.remove(twin)
        box = max(box, _box_diff(det, twin))
        score = max(score, abs(det["score"] - twin["score"]))
    return True, box, score


def main() -> int:
    """Print the comparison table; 0 when every image matches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.02)
    args = parser.parse_args()
    ref, other = _by_image(args.reference), _by_image(args.other)
    ok = set(ref) == set(other)
    header = ("image", "detections", "labels", "max box diff", "max score diff")
    print("{:<16} {:>10} {:>7} {:>13} {:>15}".format(*header))
    for name in sorted(ref):
        same, box, score = compare(ref[name], other.get(name, []))
        good = same and box <= args.tolerance
        ok &= good
        labels = "same" if same else "DIFFER"
        print(f"{name:<16} {len(ref[name]):>10} {labels:>7} {box:>13.4f} {score:>15.4f}"
              f"{'' if good else '  <- MISMATCH'}")  # fmt: skip
    print(f"check-arm64: {'MATCH' if ok else 'MISMATCH'} (labels equal, boxes within "
          f"{args.tolerance})")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
