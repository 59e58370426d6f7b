"""A live H.264 camera on loopback: MPEG-TS over HTTP, muxed by PyAV in real time from a file."""

from __future__ import annotations

import contextlib
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
        self._up = threading.Event()
        self._up.set()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.clients = 0

    @property
    def url(self) -> str:
        """Where the stream is."""
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/live.ts"

    def drop(self) -> None:
        """The camera goes away: connections are cut, new ones closed at once, until restore."""
        self._up.clear()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        """The camera is back: new connections get the stream (from its start) again."""
        self._up.set()

    def __enter__(self) -> LiveStream:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self.drop()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone does not
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
        if not self._up.is_set():
            conn.close()
            return
        with self._lock:
            self._conns.add(conn)
        try:
            conn.recv(65536)  # the request; any GET gets the stream
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: video/mp2t\r\n\r\n")
            with conn.makefile("wb") as sink, av.open(self.video) as source:
                self._relay(source, av.open(sink, "w", format="mpegts"))
        except Exception:  # the client went away (FFmpeg's write callback says so too)
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def _relay(
        self, source: av.container.InputContainer, out: av.container.OutputContainer
    ) -> None:
        stream = source.streams.video[0]
        target = out.add_stream_from_template(stream)
        started = time.monotonic()
        try:
            for packet in source.demux(stream):
                if packet.size == 0 or self._stop.is_set() or not self._up.is_set():
                    continue
                assert packet.pts is not None and packet.time_base is not None
                delay = started + float(packet.pts * packet.time_base) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # as a camera: one frame when it is due
                packet.stream = target
                out.mux(packet)
        finally:
            out.close()
