"""Draw detections on a frame and encode it as JPEG (for ``/cameras/<name>/latest.jpg``)."""

from __future__ import annotations

from collections.abc import Sequence

from edgecam.errors import CameraError
from edgecam.types import Detection, Image

_GREEN_BGR = (0, 200, 0)


def annotated_jpeg(image: Image, detections: Sequence[Detection], quality: int = 80) -> bytes:
    """JPEG of the BGR ``image`` with a labelled box per detection (the frame is not modified)."""
    import cv2

    bgr = image.copy()  # draw on a copy: the frame may still be in use
    h, w = bgr.shape[:2]
    for det in detections:
        x0, y0, x1, y1 = det.box
        p0, p1 = (int(x0 * w), int(y0 * h)), (int(x1 * w), int(y1 * h))
        cv2.rectangle(bgr, p0, p1, _GREEN_BGR, 2)
        text = f"{det.label} {det.score:.2f}"
        cv2.putText(bgr, text, (p0[0], max(12, p0[1] - 4)), 0, 0.5, _GREEN_BGR, 1, cv2.LINE_AA)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CameraError("cannot encode the latest frame as JPEG")
    return bytes(data.tobytes())
