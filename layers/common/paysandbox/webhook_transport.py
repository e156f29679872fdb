"""One webhook POST under one total deadline.

``WEBHOOK_TIMEOUT_SECONDS`` bounds the whole attempt: resolving the host, connecting (to the
next checked address too, after a refused one), the TLS handshake, sending, and reading the
response's headers and body. Per-socket timeouts alone cannot do that - a receiver trickling
one byte a second never lets a single read time out - so a watchdog cuts the connection at the
deadline, and resolution (``getaddrinfo`` has no timeout) runs on a thread the attempt stops
waiting for.

The sender connects only to the addresses the SSRF guard checked (no DNS-rebinding window),
presents and verifies the URL's host name over TLS, follows no redirect, retries nothing, and
reads at most ``RESPONSE_READ_BYTES`` of the answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from paysandbox.targets import Target, UnresolvableTarget, UnsafeTarget, target_for_delivery

RESPONSE_BODY_CHARS = 1000
RESPONSE_READ_BYTES = 4 * RESPONSE_BODY_CHARS  # enough bytes for 1000 UTF-8 characters
USER_AGENT = "paysandbox-webhooks/1"


@dataclass
class Response:
    status: int | None
    body: str
    error: str | None
    duration_ms: int
    retry_after: str | None = None


class _DeadlinePassed(Exception):
    pass


class _ConnectFailed(Exception):
    pass


def send(url: str, raw: bytes, headers: dict[str, str], timeout: float) -> Response:
    """POST ``raw`` to ``url`` once; whatever happens, return within ``timeout`` seconds."""
    started = time.monotonic()
    deadline = started + timeout
    timed_out = Response(None, "", f"timed out after {timeout:g}s (total deadline)", 0)
    try:
        target = _resolve(url, deadline)
    except (UnsafeTarget, UnresolvableTarget) as exc:
        return Response(None, "", f"target refused: {exc}", _ms(started))
    except _DeadlinePassed:
        timed_out.error = f"timed out after {timeout:g}s resolving the host (total deadline)"
        return _finished(timed_out, started)
    last_error = "no address"
    for address in target.addresses:  # the next checked address after a refused connect
        try:
            return _finished(_post(target, address, raw, headers, deadline), started)
        except _ConnectFailed as exc:
            last_error = str(exc)
        except _DeadlinePassed:
            return _finished(timed_out, started)
    return Response(None, "", last_error, _ms(started))


def _resolve(url: str, deadline: float) -> Target:
    """``target_for_delivery`` (DNS + SSRF check), waited for until the deadline at most."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["target"] = target_for_delivery(url)
        except Exception as exc:  # handed to the caller below
            outcome["error"] = exc

    resolver = threading.Thread(target=run, name="webhook-resolve", daemon=True)
    resolver.start()
    resolver.join(max(0.0, deadline - time.monotonic()))
    if resolver.is_alive():
        raise _DeadlinePassed  # the thread ends when getaddrinfo does; nobody waits for it
    if "error" in outcome:
        raise outcome["error"]
    target: Target = outcome["target"]
    return target


class _Watchdog:
    """Shuts the connection's socket down at the deadline, unblocking any read or write."""

    def __init__(self, deadline: float) -> None:
        self.sock: socket.socket | None = None
        self.fired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self.sock = sock
            if self.fired:
                self._cut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._cut()

    def _cut(self) -> None:
        if self.sock is not None:
            # The plain socket's shutdown: works under a TLS socket from another thread too.
            with contextlib.suppress(OSError):  # already closed
                socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _post(target: Target, address: str, raw: bytes, headers: dict[str, str], deadline: float) -> Response:
    import http.client  # only the sender needs these

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _DeadlinePassed
    try:
        sock = socket.create_connection((address, target.port), timeout=remaining)
    except TimeoutError:
        raise _DeadlinePassed from None
    except OSError as exc:
        raise _ConnectFailed(f"connection failed: {_reason(exc)}") from None
    watchdog = _Watchdog(deadline)
    connection = http.client.HTTPConnection(address, target.port)
    try:
        watchdog.watch(sock)
        if target.scheme == "https":
            sock = _tls(sock, target.host, watchdog)
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        connection.sock = sock
        default_port = 443 if target.scheme == "https" else 80
        host = f"[{target.host}]" if ":" in target.host else target.host
        host_header = host if target.port == default_port else f"{host}:{target.port}"
        connection.request(
            "POST", target.path, body=raw, headers={**headers, "Host": host_header, "User-Agent": USER_AGENT}
        )
        response = connection.getresponse()
        status, retry_after = response.status, response.getheader("Retry-After")
        read_error: str | None = None
        try:
            data = response.read(RESPONSE_READ_BYTES)  # never drain a huge body: close instead
        except (http.client.HTTPException, OSError) as exc:
            if watchdog.fired:
                raise _DeadlinePassed from None
            data, read_error = b"", f"reading the response failed: {_reason(exc)}"
        if watchdog.fired and read_error is None and len(data) < RESPONSE_READ_BYTES:
            raise _DeadlinePassed  # the body was cut short at the deadline
        body = data.decode("utf-8", errors="replace")[:RESPONSE_BODY_CHARS]
        return Response(status, body, read_error, 0, retry_after)
    except (http.client.HTTPException, OSError) as exc:
        if watchdog.fired or isinstance(exc, TimeoutError):
            raise _DeadlinePassed from None
        return Response(None, "", f"request failed: {_reason(exc)}", 0)
    finally:
        watchdog.cancel()
        if connection.sock is None:
            sock.close()  # failed before the connection took it over
        connection.close()


def _tls(sock: socket.socket, host: str, watchdog: _Watchdog) -> socket.socket:
    """TLS to the checked address, presenting and verifying the URL's host name (SNI)."""
    import ssl

    context = ssl.create_default_context()  # system trust store (SSL_CERT_FILE honoured)
    secured = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    watchdog.watch(secured)
    try:
        secured.do_handshake()
    except BaseException:
        secured.close()
        raise
    return secured


def _finished(response: Response, started: float) -> Response:
    response.duration_ms = _ms(started)
    return response


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
