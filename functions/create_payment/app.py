"""Merchant API: create invoices and v2 payments, read a payment's status, verify webhooks."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox import payments, signatures
from paysandbox.errors import BadRequest
from paysandbox.http import base_url, install_error_handlers, json_response, parse_body, path_param
from paysandbox.models import InvoiceCreate, V2Create, invoice_created, payment_view, service_health, v2_created
from paysandbox.secrets import webhook_secret

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver()
install_error_handlers(app)


@app.post("/api/create-invoice")
def create_invoice() -> Response[str]:
    request = parse_body(app, InvoiceCreate)
    key = app.current_event.headers.get("idempotency-key")
    payment, replayed = payments.create_invoice(request, idempotency_key=key)
    if not replayed:
        metrics.add_metric(name="PaymentsCreated", unit=MetricUnit.Count, value=1)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return json_response(200, invoice_created(payment, base_url(app)), headers)


@app.post("/api/v2/payments")
def create_v2_payment() -> Response[str]:
    request = parse_body(app, V2Create)
    payment, existed = payments.create_v2(request)
    if not existed:
        metrics.add_metric(name="PaymentsCreated", unit=MetricUnit.Count, value=1)
    return json_response(200, v2_created(payment, base_url(app)))


@app.get("/api/payments/<payment_id>")
def get_payment(payment_id: str) -> Response[str]:
    payment = payments.get_payment(path_param(app, "payment_id", payment_id))
    return json_response(200, payment_view(payment))


@app.get("/health")
def health() -> Response[str]:
    """Public liveness probe (AcquireMock's example merchants call it): no DynamoDB call."""
    return json_response(200, service_health())


@app.post("/webhooks/verify")
def verify_webhook() -> Response[str]:
    """Check a webhook as a merchant received it: the raw body plus its signature headers."""
    event = app.current_event
    try:
        raw = (event.decoded_body or "").encode()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid UTF-8.", code="malformed_body") from None
    try:
        scheme = signatures.verify(webhook_secret(), raw, dict(event.headers))
    except signatures.InvalidSignature as invalid:
        return json_response(400, {"valid": False, "error": {"code": invalid.code, "message": invalid.message}})
    return json_response(200, {"valid": True, "scheme": scheme})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
