"""No CORS: no API answers a browser on another origin (a regression guard from the
adversarial pass). The operator token is a bearer header, so any Access-Control-Allow-*
header would let a page elsewhere drive the operator API with a token it got hold of."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.template import load_template
from tests.support import OPERATOR, Api, invoice_body

ORIGIN = {"Origin": "https://evil.example"}
PREFLIGHT = {**ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}

REQUESTS: list[tuple[str, str, str, Any, dict[str, str]]] = [
    ("create_payment", "POST", "/api/create-invoice", invoice_body(), ORIGIN),
    ("create_payment", "OPTIONS", "/api/create-invoice", None, PREFLIGHT),
    ("create_payment", "POST", "/webhooks/verify", {"a": 1}, {**ORIGIN, "X-Signature": "00"}),
    ("confirm", "GET", "/api/v2/pending-payments", None, {**ORIGIN, **OPERATOR}),
    ("confirm", "OPTIONS", "/api/v2/pending-payments", None, PREFLIGHT),
    ("confirm", "POST", "/api/v2/confirm-payment", {"payment_id": "pay_x"}, {**ORIGIN, **OPERATOR}),
    ("confirm", "GET", "/console", None, ORIGIN),
    ("checkout", "GET", "/checkout/inv_missing", None, ORIGIN),
    ("checkout", "OPTIONS", "/checkout/inv_missing", None, PREFLIGHT),
]


@pytest.mark.parametrize(
    ("function", "method", "path", "body", "headers"), REQUESTS, ids=[f"{r[1]} {r[2]}" for r in REQUESTS]
)
def test_no_response_carries_cors_headers(
    aws: None, function: str, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    status, _, answered = Api(function).call(method, path, body, headers=headers)
    assert status < 500
    assert [name for name in answered if name.lower().startswith("access-control-")] == []


def test_the_template_declares_no_cors_and_no_options_routes() -> None:
    template = load_template()
    text = repr(template).lower()
    assert "cors" not in text
    for resource in template["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") == "Api":
                assert event["Properties"]["Method"].upper() not in ("OPTIONS", "ANY")
