"""Merchant API: create invoices and v2 payments, read a payment's status, verify webhooks,
and the API's own description (``/openapi.json``, ``/docs``: static files built from the models).

The directory is called ``create_payment`` by the design's naming; it serves every merchant
route, not only creation.
"""

from __future__ import annotations

from paysandbox import init_phase

init_phase.begin()  # no garbage collection while the handler loads (init_phase.py)

import secrets
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox import payments, signatures, simulate, tenancy
from paysandbox.api_http import base_url, install_error_handlers, json_response, parse_body, path_param, routable
from paysandbox.errors import BadRequest, Unauthorized
from paysandbox.models import InvoiceCreate, V2Create, invoice_created, payment_view, service_health, v2_created
from paysandbox.scope import DEFAULT_TEAM
from paysandbox.secret_store import webhook_secret

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver()
install_error_handlers(app)
NOT_SIMULATED = frozenset({"/openapi.json", "/docs"})  # the API's description is no merchant call


def _simulate(app: APIGatewayRestResolver, next_middleware):  # type: ignore[no-untyped-def]
    """``Paysandbox-Simulate`` once for every merchant route, before the route reads or writes."""
    if app.current_event.path not in NOT_SIMULATED:
        simulate.apply(app.current_event.headers.get(simulate.HEADER))
    return next_middleware(app)


app.use(middlewares=[_simulate])


def _team() -> str:
    """The caller's team (docs/teams.md): keyless is the default team; a wrong key is a 401."""
    event = app.current_event
    return tenancy.caller(event.headers.get("authorization"), team=event.get_query_string_value("team")).team


@app.post("/api/create-invoice")
def create_invoice() -> Response[str]:
    team = _team()
    request = parse_body(app, InvoiceCreate)
    key = app.current_event.headers.get("idempotency-key")
    payment, replayed = payments.create_invoice(request, idempotency_key=key, team=team)
    if not replayed:
        metrics.add_metric(name="PaymentsCreated", unit=MetricUnit.Count, value=1)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return json_response(200, invoice_created(payment, base_url(app)), headers)


@app.post("/api/v2/payments")
def create_v2_payment() -> Response[str]:
    team = _team()
    request = parse_body(app, V2Create)
    payment, existed = payments.create_v2(request, team)
    if not existed:
        metrics.add_metric(name="PaymentsCreated", unit=MetricUnit.Count, value=1)
    return json_response(200, v2_created(payment, base_url(app)))


@app.get("/api/payments/<payment_id>")
def get_payment(payment_id: str) -> Response[str]:
    payment = payments.get_payment(path_param(app, "payment_id", payment_id), _team())
    return json_response(200, payment_view(payment))


@app.get("/health")
def health() -> Response[str]:
    """Public liveness probe (AcquireMock's example merchants call it): no DynamoDB call."""
    return json_response(200, service_health())


@app.post("/webhooks/verify")
def verify_webhook() -> Response[str]:
    """Check a webhook as a merchant received it: the raw body plus its signature headers."""
    team = _team()
    event = app.current_event
    try:
        raw = (event.decoded_body or "").encode()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid UTF-8.", code="malformed_body") from None
    try:
        scheme = signatures.verify(_verify_secret(team), raw, dict(event.headers))
    except signatures.InvalidSignature as invalid:
        return json_response(400, {"valid": False, "error": {"code": invalid.code, "message": invalid.message}})
    return json_response(200, {"valid": True, "scheme": scheme})


def _verify_secret(team: str) -> str:
    if team == DEFAULT_TEAM:
        return webhook_secret()
    from paysandbox import teams

    item = tenancy.team_item(team)
    if item is None:  # pragma: no cover - the key was just checked against this item
        raise Unauthorized("The API key is not valid.", code="invalid_api_key")
    return teams.webhook_secret_of(team, item["secret_nonce"])


# Written by `python -m paysandbox.apidoc`; a unit test fails when they drift from the models.
HERE = Path(__file__).parent
_static: dict[str, str] = {}


def _static_file(name: str) -> str:
    if name not in _static:  # read on first use: most invocations never serve them
        _static[name] = (HERE / name).read_text(encoding="utf-8")
    return _static[name]


@app.get("/openapi.json")
def openapi_document() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=_static_file("openapi.json"),
        headers={"Cache-Control": "public, max-age=300"},
    )


@app.get("/docs")
def api_reference() -> Response[str]:
    nonce = secrets.token_urlsafe(16)
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=_static_file("docs.html").replace("{{nonce}}", nonce),
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(routable(event), context)


init_phase.end()  # the handler is ready
