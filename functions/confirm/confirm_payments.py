"""Operator routes on payments: confirm or fail one, list them, their refunds, their webhook
delivery log and redelivery, and the test helpers (expire now, retry a webhook now)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from confirm_operator import limit_of, new_router, operator_only, request_of, team

from paysandbox import listing, payments
from paysandbox.api_http import json_response, parse_body, path_param
from paysandbox.errors import ValidationFailed
from paysandbox.models import FailRequest, PaymentRef, RefundRequest, payment_view, v2_confirmed, v2_failed
from paysandbox.states import group_from_query

router = new_router()
metrics = Metrics()  # one metric set per process: the handler's log_metrics publishes it


def _payment_id(matched: str) -> str:
    return path_param(request_of(router), "payment_id", matched)


@router.post("/api/v2/confirm-payment", middlewares=[operator_only])
def confirm_payment() -> Response[str]:
    request = parse_body(request_of(router), PaymentRef)
    payment = payments.confirm(request.payment_id, team(router))
    metrics.add_metric(name="PaymentsConfirmed", unit=MetricUnit.Count, value=1)
    return json_response(200, v2_confirmed(payment))


@router.post("/api/v2/fail-payment", middlewares=[operator_only])
def fail_payment() -> Response[str]:
    request = parse_body(request_of(router), FailRequest)
    payment = payments.fail(request.payment_id, request.reason, team=team(router))
    return json_response(200, v2_failed(payment))


@router.get("/api/v2/pending-payments", middlewares=[operator_only])
def list_payments() -> Response[str]:
    """Without ``status``: every status (the v2 README's "all payments"); ``status=`` narrows;
    ``reference=`` / ``tx_id=`` find one merchant's payment."""
    query = router.current_event.query_string_parameters
    group = None
    if query.get("status"):
        group = group_from_query(query["status"])
        if group is None:
            raise ValidationFailed(
                "status must be one of pending, completed, failed, expired, refunded.",
                details=[{"field": "status", "problem": "unknown status"}],
            )
    limit = limit_of(query.get("limit"))
    cursor = query.get("cursor") or None
    reference, tx_id = query.get("reference"), query.get("tx_id")
    if reference is not None or tx_id is not None:
        page = listing.find(reference, tx_id, group, limit, cursor, team(router))
    elif group is None:
        page = listing.list_all(limit, cursor, team(router))
    else:
        page = listing.list_group(group, limit, cursor, team(router))
    return json_response(
        200,
        {
            **{f"{name}_count": count for name, count in page.counts.items()},
            "payments": {p.public_id: payment_view(p) for p in page.payments},
            "next_cursor": page.next_cursor,
        },
    )


@router.get("/api/payments/<payment_id>/webhooks", middlewares=[operator_only])
def webhook_log(payment_id: str) -> Response[str]:
    from paysandbox import delivery_views  # webhook machinery: only these two routes need it

    return json_response(200, {"deliveries": delivery_views.delivery_log(_payment_id(payment_id), team(router))})


@router.post("/api/payments/<payment_id>/webhooks/redeliver", middlewares=[operator_only])
def redeliver_webhook(payment_id: str) -> Response[str]:
    from paysandbox import delivery_views

    return json_response(202, delivery_views.redeliver(_payment_id(payment_id), team(router)))


@router.post("/api/payments/<payment_id>/refunds", middlewares=[operator_only])
def create_refund(payment_id: str) -> Response[str]:
    from paysandbox import refunds  # only the refund routes need it

    request = parse_body(request_of(router), RefundRequest)
    key = router.current_event.headers.get("idempotency-key")
    refund, replayed = refunds.create(_payment_id(payment_id), request, key, team(router))
    return json_response(200, refund, {"Idempotent-Replayed": "true"} if replayed else None)


@router.get("/api/payments/<payment_id>/refunds", middlewares=[operator_only])
def list_refunds(payment_id: str) -> Response[str]:
    from paysandbox import refunds

    return json_response(200, {"refunds": refunds.list_refunds(_payment_id(payment_id), team(router))})


@router.post("/api/test-helpers/payments/<payment_id>/expire", middlewares=[operator_only])
def expire_now(payment_id: str) -> Response[str]:
    from paysandbox import test_helpers

    return json_response(200, payment_view(test_helpers.expire_now(_payment_id(payment_id), team(router))))


@router.post("/api/test-helpers/payments/<payment_id>/webhooks/retry-now", middlewares=[operator_only])
def retry_now(payment_id: str) -> Response[str]:
    from paysandbox import test_helpers

    return json_response(202, test_helpers.retry_now(_payment_id(payment_id), team(router)))
