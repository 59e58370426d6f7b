"""A tiny MJPEG-over-HTTP camera on 127.0.0.1 for tests: it can be told to stop sending."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

BOUNDARY = "edgecamframe"


class MjpegCamera:
    """Serves ``/stream.mjpg`` as multipart JPEG frames at ``fps``; ``stall`` freezes the stream.

    While ``stall`` is set every open connection stays open and silent (a hung camera); new
    connections are accepted and also get nothing until it is cleared.
    """

    def __init__(self, fps: float = 25.0, size: tuple[int, int] = (160, 120)) -> None:
        import cv2

        self.fps = fps
        self.stall = threading.Event()
        self.closing = threading.Event()
        self.connections = 0
        self.frames_sent = 0
        w, h = size
        image = np.zeros((h, w, 3), np.uint8)
        image[:, : w // 2] = (0, 0, 255)  # red in BGR on the left half
        self.jpeg = cv2.imencode(".jpg", image)[1].tobytes()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The stream's URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/stream.mjpg"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        camera = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                camera.connections += 1
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    camera._stream(self.wfile)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet

        return Handler

    def _stream(self, out: object) -> None:
        write = out.write  # type: ignore[attr-defined]
        deadline = time.monotonic() + 60.0  # bounded: no connection outlives a test run
        while not self.closing.is_set() and time.monotonic() < deadline:
            if self.stall.is_set():
                self.closing.wait(0.05)
                continue
            part = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                f"Content-Length: {len(self.jpeg)}\r\n\r\n"
            ).encode()
            write(part + self.jpeg + b"\r\n")
            self.frames_sent += 1
            self.closing.wait(1.0 / self.fps)

    def start(self) -> None:
        """Start serving in a background thread."""
        self._thread.start()

    def close(self) -> None:
        """End every stream and stop the server."""
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def mjpeg_camera(fps: float = 25.0) -> Iterator[MjpegCamera]:
    """A running :class:`MjpegCamera`, closed afterwards."""
    camera = MjpegCamera(fps)
    camera.start()
    try:
        yield camera
    finally:
        camera.close()
