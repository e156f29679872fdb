"""One keep-alive HTTP connection to a local server, as a ``requests.Session`` would hold it.

The benchmarks that send many requests (figures 6, 8 and 9) send them all on one connection per
client, so what they measure is the server's work, not a TCP handshake per request.
"""

from __future__ import annotations

import http.client
import json
from types import TracebackType
from typing import Any


class KeepAliveClient:
    """JSON requests on one HTTP/1.1 connection to ``127.0.0.1:port``."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def connect(self) -> None:
        """Open the connection now (otherwise the first request opens it)."""
        self.connection.connect()

    def send(self, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """One request with a JSON body (``bytes`` are sent as they are); the status and the raw answer."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.connection.request(method, path, data, {"Content-Type": "application/json", **(headers or {})})
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> KeepAliveClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
