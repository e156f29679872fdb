"""Operator API: confirm or fail payments, list them by status, read and redeliver their
webhooks (bearer token required), and the operator console page (public HTML; its data
calls need the token).

The directory is called ``confirm`` by the design's naming; it serves every operator route.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox import listing, payments
from paysandbox.auth import require_operator
from paysandbox.errors import ValidationFailed
from paysandbox.http import install_error_handlers, json_response, parse_body, path_param, routable
from paysandbox.models import FailRequest, PaymentRef, payment_view, v2_confirmed, v2_failed
from paysandbox.secrets import webhook_secret
from paysandbox.states import group_from_query

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver()
install_error_handlers(app)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _operator_only(app: APIGatewayRestResolver, next_middleware):  # type: ignore[no-untyped-def]
    require_operator(app.current_event.headers.get("authorization"))
    return next_middleware(app)


@app.post("/api/v2/confirm-payment", middlewares=[_operator_only])
def confirm_payment() -> Response[str]:
    request = parse_body(app, PaymentRef)
    payment = payments.confirm(request.payment_id)
    metrics.add_metric(name="PaymentsConfirmed", unit=MetricUnit.Count, value=1)
    return json_response(200, v2_confirmed(payment))


@app.post("/api/v2/fail-payment", middlewares=[_operator_only])
def fail_payment() -> Response[str]:
    request = parse_body(app, FailRequest)
    payment = payments.fail(request.payment_id, request.reason)
    return json_response(200, v2_failed(payment))


@app.get("/api/v2/pending-payments", middlewares=[_operator_only])
def list_payments() -> Response[str]:
    """Without ``status``: every status (the v2 README's "all payments"); ``status=`` narrows;
    ``reference=`` / ``tx_id=`` find one merchant's payment."""
    query = app.current_event.query_string_parameters
    group = None
    if query.get("status"):
        group = group_from_query(query["status"])
        if group is None:
            raise ValidationFailed(
                "status must be one of pending, completed, failed, expired, refunded.",
                details=[{"field": "status", "problem": "unknown status"}],
            )
    limit = _limit(query.get("limit"))
    cursor = query.get("cursor") or None
    reference, tx_id = query.get("reference"), query.get("tx_id")
    if reference is not None or tx_id is not None:
        page = listing.find(reference, tx_id, group, limit, cursor)
    elif group is None:
        page = listing.list_all(limit, cursor)
    else:
        page = listing.list_group(group, limit, cursor)
    return json_response(
        200,
        {
            **{f"{name}_count": count for name, count in page.counts.items()},
            "payments": {p.payment_id: payment_view(p) for p in page.payments},
            "next_cursor": page.next_cursor,
        },
    )


@app.get("/api/payments/<payment_id>/webhooks", middlewares=[_operator_only])
def webhook_log(payment_id: str) -> Response[str]:
    from paysandbox import deliveries  # webhook machinery: only these two routes need it

    return json_response(200, {"deliveries": deliveries.delivery_log(path_param(app, "payment_id", payment_id))})


@app.post("/api/payments/<payment_id>/webhooks/redeliver", middlewares=[_operator_only])
def redeliver_webhook(payment_id: str) -> Response[str]:
    from paysandbox import deliveries

    return json_response(202, deliveries.redeliver(path_param(app, "payment_id", payment_id)))


# Every operator route acts for the default team today; teams make the caller's team come
# from its key (SPEC §11).
CALLER_TEAM = "default"


@app.get("/api/events", middlewares=[_operator_only])
def list_events() -> Response[str]:
    """Newest first; ``after=<event_id>``: the events after it, oldest first (tailing)."""
    from paysandbox import events  # only the events routes need it

    query = app.current_event.query_string_parameters
    types = [t for t in (query.get("type") or "").split(",") if t]
    page = events.list_events(
        CALLER_TEAM,
        limit=_limit(query.get("limit")),
        cursor=query.get("cursor") or None,
        after=query.get("after") or None,
        types=types,
        payment_id=query.get("payment_id") or None,
        delivery=query.get("delivery") or None,
        signed=query.get("signed") in ("1", "true"),
    )
    return json_response(200, page, headers={"Cache-Control": "no-store"})


@app.get("/api/events/<event_id>", middlewares=[_operator_only])
def get_event(event_id: str) -> Response[str]:
    from paysandbox import events

    return json_response(200, events.get_event(CALLER_TEAM, path_param(app, "event_id", event_id)))


@app.post("/api/events/<event_id>/redeliver", middlewares=[_operator_only])
def redeliver_event(event_id: str) -> Response[str]:
    from paysandbox import events

    return json_response(202, events.redeliver(CALLER_TEAM, path_param(app, "event_id", event_id)))


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be an integer from 1 to {MAX_LIMIT}.",
            details=[{"field": "limit", "problem": f"must be 1..{MAX_LIMIT}"}],
        )
    return int(raw)


CONSOLE_PAGE = Path(__file__).with_name("console.html")
_console_template: str | None = None


@app.get("/console")
def console() -> Response[str]:
    """The console shell: no data and no secret in it; its script calls the operator API."""
    global _console_template
    if _console_template is None:  # read on first use: most invocations never serve the page
        _console_template = CONSOLE_PAGE.read_text(encoding="utf-8")
    nonce = secrets.token_urlsafe(16)
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=_console_template.replace("{{nonce}}", nonce),
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                "connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@app.get("/api/v2/console-config", middlewares=[_operator_only])
def console_config() -> Response[str]:
    """What the console shows receivers: the webhook secret in Standard Webhooks ``whsec_`` form."""
    from paysandbox.signatures import whsec  # only this route needs the signing module

    return json_response(200, {"webhook_secret_whsec": whsec(webhook_secret())}, headers={"Cache-Control": "no-store"})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(routable(event), context)
