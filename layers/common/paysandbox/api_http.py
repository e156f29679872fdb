"""What the JSON API handlers share: body parsing, the error mapping, response shaping.

``install_error_handlers`` is the one place domain errors become HTTP responses.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ValidationError

from paysandbox.errors import BadRequest, NotFound, PaySandboxError, validation_failed
from paysandbox.rest_resolver import APIGatewayRestResolver, Response, content_types
from paysandbox.settings import get_settings

logger = Logger(child=True)
Model = TypeVar("Model", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":")),
        headers=headers,
    )


def error_response(error: PaySandboxError) -> Response[str]:
    headers = {"Retry-After": error.retry_after} if error.retry_after else None
    return json_response(error.status, error.to_body(), headers)


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every failure to the one JSON error shape; bad input never becomes a 5xx."""

    @app.exception_handler(PaySandboxError)
    def _domain_error(error: PaySandboxError) -> Response[str]:
        if error.status >= 500 and error.code != "simulated_failure":  # asked for: no error
            logger.error("request failed", extra={"code": error.code})
        return error_response(error)

    @app.exception_handler(ValidationError)
    def _invalid(error: ValidationError) -> Response[str]:
        return error_response(validation_failed(error))

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        event = app.current_event
        return error_response(NotFound(f"No route {event.http_method} {event.path}.", code="route_not_found"))


def content_type(app: APIGatewayRestResolver) -> str:
    """The request's media type, lower-cased, without parameters ("" when absent)."""
    return (app.current_event.headers.get("content-type") or "").split(";")[0].strip().lower()


def raw_body(app: APIGatewayRestResolver, max_bytes: int) -> str:
    """The request body as text (API Gateway may hand it over base64-encoded); 400 if unreadable."""
    try:
        raw = app.current_event.decoded_body or ""
    except (binascii.Error, UnicodeDecodeError):
        raise BadRequest("The body could not be read as UTF-8 text.", code="malformed_body") from None
    if len(raw) > max_bytes:
        raise BadRequest("The body is too large.", code="body_too_large")
    return raw


def parse_body(app: APIGatewayRestResolver, model: type[Model]) -> Model:
    """Validate a JSON object body into ``model``; 400 for non-JSON, 422 for bad fields."""
    try:
        return model.model_validate(json_object(app))
    except ValidationError as exc:
        raise validation_failed(exc) from None


def json_object(app: APIGatewayRestResolver, *, empty_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object; 400 for anything else (``empty_ok``: no body is ``{}``)."""
    if empty_ok and not app.current_event.body:
        return {}
    media_type = content_type(app)
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise BadRequest("Content-Type must be application/json.", code="unsupported_content_type")
    raw = raw_body(app, MAX_BODY_BYTES)
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadRequest("The body is not valid JSON.", code="malformed_json") from None
    except RecursionError:  # nesting deeper than the parser's stack: bad input, not a crash
        raise BadRequest("The body's JSON is nested too deeply.", code="malformed_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="malformed_json")
    return data


def path_param(app: APIGatewayRestResolver, name: str, matched: str) -> str:
    """A path parameter as API Gateway decoded it; the router only sees the raw path."""
    return (app.current_event.path_parameters or {}).get(name) or matched


def base_url(app: APIGatewayRestResolver) -> str:
    """Where this API is reachable from outside: PUBLIC_BASE_URL, else derived from the request.

    The host is the one the client used; the path is whatever came before the route in the
    URL the client requested (see ``public_prefix``), so links keep a stage or base path.
    """
    configured = get_settings().public_base_url
    if configured:
        return configured
    event = app.current_event
    host = event.headers.get("host") or event.request_context.domain_name or "localhost"
    proto = (event.headers.get("x-forwarded-proto") or "https").split(",")[0].strip()
    return f"{proto}://{host}{public_prefix(event.raw_event)}"


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def public_prefix(event: Mapping[str, Any]) -> str:
    """The part of the requested URL path before the route: ``/dev``, a base path, or "".

    API Gateway puts the path the client requested in ``requestContext.path`` (``/dev/...``
    on an execute-api host, ``/{base path}/...`` on a custom domain, and ``/...`` at the root of
    the local sandbox). The route (``resource``) takes its last segments; the rest is the
    prefix. No host-name test, so execute-api hosts in every partition and custom domains are
    treated alike.
    """
    resource = str(event.get("resource") or "")
    requested = str((event.get("requestContext") or {}).get("path") or event.get("path") or "")
    route_length = len(_segments(resource))
    segments = _segments(requested)
    if "+}" in resource or len(segments) < route_length:
        return ""
    return "".join(f"/{part}" for part in segments[: len(segments) - route_length])


def routable(event: dict[str, Any]) -> dict[str, Any]:
    """The event with ``path`` cut to the route's own segments, for the resolver.

    On a custom domain with a base path mapping, ``path`` carries the base path
    (``/shop/checkout/inv_1`` for the route ``/checkout/{payment_id}``); the resolver routes on
    ``path``, so it gets the route's part only. Other events are returned unchanged.
    """
    resource = str(event.get("resource") or "")
    path = str(event.get("path") or "")
    route_length = len(_segments(resource))
    segments = _segments(path)
    if "+}" in resource or not resource or len(segments) <= route_length:
        return event
    return {**event, "path": "/" + "/".join(segments[len(segments) - route_length :])}
