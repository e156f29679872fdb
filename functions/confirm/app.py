"""Operator API: confirm or fail payments, list them by status, read and redeliver their
webhooks (bearer token required)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox import deliveries, payments
from paysandbox.auth import require_operator
from paysandbox.errors import ValidationFailed
from paysandbox.http import install_error_handlers, json_response, parse_body
from paysandbox.models import FailRequest, PaymentRef, payment_view, v2_confirmed, v2_failed
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
    query = app.current_event.query_string_parameters
    group = group_from_query(query.get("status") or "pending")
    if group is None:
        raise ValidationFailed(
            "status must be one of pending, completed, failed, expired, refunded.",
            details=[{"field": "status", "problem": "unknown status"}],
        )
    limit = _limit(query.get("limit"))
    page = payments.list_payments(group, limit, query.get("cursor") or None)
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
    return json_response(200, {"deliveries": deliveries.delivery_log(payment_id)})


@app.post("/api/payments/<payment_id>/webhooks/redeliver", middlewares=[_operator_only])
def redeliver_webhook(payment_id: str) -> Response[str]:
    return json_response(202, deliveries.redeliver(payment_id))


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be an integer from 1 to {MAX_LIMIT}.",
            details=[{"field": "limit", "problem": f"must be 1..{MAX_LIMIT}"}],
        )
    return int(raw)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
