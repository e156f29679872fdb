"""A merchant's webhook endpoint: a real HTTP server on 127.0.0.1 (optionally HTTPS).

``plan(request, n)`` decides each reply (``n`` counts requests to that path, from 1); every
request is recorded, with the moment its body had been read. Used by the integration tests,
the end-to-end tests and the benchmarks alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.perf_counter() once the body had been read
    answered: int | None = None  # the status sent back (set before it is sent)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    sleep: float = 0.0
    trickle: float = 0.0  # seconds between single bytes of the whole reply (0: all at once)


class _Endpoint(BaseHTTPRequestHandler):
    """One webhook request: read and recorded, then answered as the receiver's plan says."""

    protocol_version = "HTTP/1.1"

    @property
    def receiver(self) -> Receiver:
        return cast(_Server, self.server).receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        request = Received(self.path, dict(self.headers.items()), body, time.perf_counter())
        reply = self.receiver.plan(request, self.receiver.record(request))
        request.answered = reply.status
        if reply.sleep:
            time.sleep(reply.sleep)
        try:
            if reply.trickle:
                self._trickle(reply)
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender stops reading huge bodies on purpose

    def _trickle(self, reply: Reply) -> None:
        """The whole reply (status line, headers, body) one byte at a time."""
        head = f"HTTP/1.1 {reply.status} OK\r\nContent-Length: {len(reply.body)}\r\nConnection: close\r\n\r\n"
        data = head.encode() + reply.body
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            if self.receiver.closed.wait(reply.trickle):  # until the receiver closes
                return

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        super().__init__(("127.0.0.1", 0), _Endpoint)


class Receiver:
    """Serves from construction until ``close()`` (or the end of a ``with`` block)."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        self.requests: list[Received] = []
        self.closed = threading.Event()
        self.plan: Callable[[Received, int], Reply] = lambda request, n: Reply()
        self._lock = threading.Lock()
        self.server = _Server(self)
        self.scheme = "https" if tls else "http"
        if tls:  # (certificate file, key file): serve HTTPS
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()

    def record(self, request: Received) -> int:
        """Keep ``request``; how many requests its path has had, this one included."""
        with self._lock:
            self.requests.append(request)
            return sum(1 for r in self.requests if r.path == request.path)

    def url(self, path: str = "/hook") -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}{path}"

    def to(self, path: str) -> list[Received]:
        """The requests to ``path`` so far, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
