"""API Gateway REST proxy events and Lambda contexts, as Lambda hands them to handlers."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/", "application/xml")


def proxy_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    body: bytes | str | None = None,
    stage: str = "local",
    request_path: str | None = None,
    source_ip: str = "127.0.0.1",
    host: str = "127.0.0.1:3000",
) -> dict[str, Any]:
    """A REST API (v1) proxy integration event, including the multi-value forms.

    ``path`` is the route's path; ``request_path`` the path the client requested, which a
    deployed API hands over as ``requestContext.path`` (``/dev/api/...`` under a stage). It
    defaults to ``path``: a request at the root, as ``sam local start-api`` serves it.
    """
    headers = {"Host": host, "X-Forwarded-Proto": "http", **(headers or {})}
    single, multi = _query_parameters(query)
    encoded_body, is_base64 = _encoded_body(body, headers)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": single or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "path": request_path or path,
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "domainName": host,
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
        },
        "body": encoded_body,
        "isBase64Encoded": is_base64,
    }


def _query_parameters(query: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The query string as API Gateway hands it over: last value per name, and every value."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def _encoded_body(body: bytes | str | None, headers: dict[str, str]) -> tuple[str | None, bool]:
    """The body as text, or base64 (and True) for a binary media type or bytes that are not UTF-8."""
    if body is None:
        return None, False
    raw = body.encode() if isinstance(body, str) else body
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if not content_type or content_type.lower().startswith(TEXT_TYPES):
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode(), True


@dataclass
class LambdaContext:
    """The context object Lambda passes: name, request id and the remaining-time clock."""

    function_name: str = "local"
    timeout_seconds: float = 15
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))
