"""A live H.264 camera on loopback: MPEG-TS over HTTP, muxed by PyAV in real time from a file."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import av


class LiveStream:
    """Serves ``video`` (H.264) as a live MPEG-TS stream to each client that connects."""

    def __init__(self, video: Path) -> None:
        self.video = video
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.clients = 0

    @property
    def url(self) -> str:
        """Where the stream is."""
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/live.ts"

    def __enter__(self) -> LiveStream:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(5.0)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.clients += 1
            threading.Thread(target=self._send, args=(conn,), daemon=True).start()

    def _send(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)  # the request; any GET gets the stream
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: video/mp2t\r\n\r\n")
            with conn.makefile("wb") as sink, av.open(self.video) as source:
                self._relay(source, av.open(sink, "w", format="mpegts"))
        except Exception:  # the client went away (FFmpeg's write callback says so too)
            pass
        finally:
            conn.close()

    def _relay(
        self, source: av.container.InputContainer, out: av.container.OutputContainer
    ) -> None:
        stream = source.streams.video[0]
        target = out.add_stream_from_template(stream)
        started = time.monotonic()
        try:
            for packet in source.demux(stream):
                if packet.size == 0 or self._stop.is_set():
                    continue
                assert packet.pts is not None and packet.time_base is not None
                delay = started + float(packet.pts * packet.time_base) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # as a camera: one frame when it is due
                packet.stream = target
                out.mux(packet)
        finally:
            out.close()
