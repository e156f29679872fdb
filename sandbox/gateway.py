"""A local stand-in for API Gateway (REST, proxy integration).

Routes are the template's ``Api`` events; each request becomes the proxy event Lambda would
receive, and the handler's proxy response becomes the HTTP response.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from sandbox.apigw import proxy_event
from sandbox.functions import Function

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
LISTEN_BACKLOG = 512  # socketserver's default of 5 reset bursts of 60 concurrent connections
BODY_TIMEOUT_SECONDS = 10.0  # a body shorter than its Content-Length is answered after this
IDLE_TIMEOUT_SECONDS = 60.0  # a keep-alive connection with no new request is closed after this


@dataclass
class Route:
    method: str  # upper-case, or ANY
    path: str  # the template's path, e.g. /api/payments/{payment_id}
    function: Function
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, method: str, path: str, function: Function) -> Route:
        regex = ""
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return cls(method.upper(), path, function, re.compile(f"^{regex}/?$"))


def api_routes(functions: dict[str, Function]) -> list[Route]:
    """Every ``Type: Api`` event of every function, as a route."""
    routes = []
    for function in functions.values():
        for event in function.events.values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                routes.append(Route.of(props["Method"], props["Path"], function))
    # Literal paths before parameterised ones, as API Gateway prefers the most specific.
    routes.sort(key=lambda r: (r.path.count("{"), -len(r.path)))
    return routes


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        found = route.pattern.match(path)
        if found and route.method in (method.upper(), "ANY"):
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def _not_found() -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"code": "route_not_found", "message": "No such route."}}
    return 404, {"Content-Type": "application/json"}, json.dumps(body).encode()


def gateway_error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    """API Gateway's own answer, in the template's GatewayResponses shape (DEFAULT_4XX / DEFAULT_5XX)."""
    code = "bad_request" if status < 500 else "gateway_error"
    body = {"error": {"code": code, "message": message}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class BadFraming(Exception):
    """The request's body cannot be read as its headers describe: answered, then the connection is closed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def content_length(raw: str | None) -> int:
    """The declared body length; absent is 0. Anything but a plain decimal is a 400, too much a 413."""
    if raw is None:
        return 0
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        raise BadFraming(400, "Content-Length must be a non-negative integer.")
    if int(text) > MAX_BODY_BYTES:
        raise BadFraming(413, "Request Too Long")
    return int(text)


def dispatch(
    routes: list[Route],
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes | None,
    host: str,
    stage: str = "dev",
) -> tuple[int, dict[str, str], bytes]:
    """Run one request through the matching handler: (status, headers, body bytes).

    A route is served at ``/…`` and under ``/{stage}/…``, the path shape of a deployed REST
    API: there the event's ``path`` is the route's path and ``requestContext.path`` keeps the
    stage, as API Gateway sends them.
    """
    parts = urlsplit(raw_path)
    requested = parts.path
    candidates = [requested]
    if stage and requested.startswith(f"/{stage}/"):
        candidates.insert(0, requested[len(stage) + 1 :])
    found = None
    for path in candidates:
        found = match(routes, method, path)
        if found is not None:
            break
    if found is None:
        return _not_found()
    route, params = found
    event = proxy_event(
        method,
        path,
        resource=route.path,
        path_parameters=params or None,
        headers=headers,
        query=parts.query,
        body=body,
        stage=stage,
        request_path=requested,
        host=host,
    )
    response = route.function.invoke(event)
    out_headers: dict[str, str] = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        out_headers[name] = ", ".join(str(v) for v in values)
    raw = response.get("body") or ""
    payload = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    return int(response.get("statusCode", 200)), out_headers, payload


class _RequestHandler(BaseHTTPRequestHandler):
    """One connection to the gateway: each request framed, dispatched to its route, answered."""

    protocol_version = "HTTP/1.1"
    # Status line, headers and body leave in one send (the buffer is flushed after each
    # request), and with TCP_NODELAY nothing waits for the client's delayed ACK.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    timeout = IDLE_TIMEOUT_SECONDS

    @property
    def gateway(self) -> Gateway:
        return cast(_Server, self.server).gateway

    def _serve(self) -> None:
        try:
            body = self._body()
        except BadFraming as bad:
            self.close_connection = True
            self._reply(*gateway_error(bad.status, bad.message), close=True)
            return
        headers = {k: v for k, v in self.headers.items()}
        try:
            status, out_headers, payload = dispatch(
                self.gateway.routes,
                self.command,
                self.path,
                headers,
                body,
                self.headers.get("Host") or "",
                self.gateway.stage,
            )
        except Exception:  # a handler crash is a 502 from API Gateway, never a dead server
            self.gateway.log_exception()
            status, out_headers, payload = gateway_error(502, "Internal server error")
        self._reply(status, out_headers, payload)

    def _body(self) -> bytes | None:
        """Exactly Content-Length bytes, within the body timeout, or BadFraming."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raise BadFraming(411, "Length Required")
        length = content_length(self.headers.get("Content-Length"))
        if not length:
            return None
        self.connection.settimeout(self.gateway.body_timeout)
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            raise BadFraming(400, "The request body is shorter than its Content-Length.") from None
        finally:
            self.connection.settimeout(self.timeout)
        if len(body) < length:  # the client closed its side early
            raise BadFraming(400, "The request body is shorter than its Content-Length.")
        return body

    def _reply(self, status: int, headers: dict[str, str], payload: bytes, close: bool = False) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) matches no route: the 404 JSON, not an HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        self.gateway.log_request(format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(address, _RequestHandler)


class Gateway:
    """A threaded HTTP server on 127.0.0.1 serving the template's API routes."""

    def __init__(
        self,
        routes: list[Route],
        host: str = "127.0.0.1",
        port: int = 3000,
        stage: str = "dev",
        body_timeout: float = BODY_TIMEOUT_SECONDS,
    ):
        self.routes = routes
        self.stage = stage  # the template's Stage: routes are served under /{stage}/ too
        self.body_timeout = body_timeout
        self.server = _Server((host, port), self)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def log_request(self, line: str) -> None:
        """Access log hook; quiet by default (the runtime decides what to print)."""

    def log_exception(self) -> None:
        import traceback

        traceback.print_exc()

    def start(self) -> Gateway:
        self.thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
