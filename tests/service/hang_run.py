"""``edgecam`` whose detector blocks while a flag file exists (to hang it on purpose in tests).

usage: python hang_run.py FLAG_FILE EDGECAM_ARGS...
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from edgecam.cli import main
from edgecam.detect.detector import Detector
from edgecam.types import Detection, Image

_real_detect = Detector.detect


def _maybe_hanging_detect(
    self: Detector, image: Image, fitted: Image | None = None
) -> list[Detection]:
    flag = Path(sys.argv[1])
    while flag.exists():
        time.sleep(0.05)
    return _real_detect(self, image, fitted)


if __name__ == "__main__":
    Detector.detect = _maybe_hanging_detect  # type: ignore[method-assign]
    raise SystemExit(main(sys.argv[2:]))
