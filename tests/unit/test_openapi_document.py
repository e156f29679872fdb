"""The API description: generated from the models, valid, complete, served as is."""

from __future__ import annotations

import json
import re

from openapi_spec_validator import validate

from paysandbox.apidoc.files import generated
from paysandbox.apidoc.routes import HTML_ROUTES
from sandbox.functions import functions
from tests.support import ROOT, Api

SERVED_FROM = ROOT / "functions" / "create_payment"
REGENERATE = "run `PYTHONPATH=layers/common .venv/bin/python -m paysandbox.apidoc` and commit the result"


def test_the_committed_files_are_what_the_models_generate() -> None:
    for name, text in generated().items():
        committed = (SERVED_FROM / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} is out of date with the models: {REGENERATE}"


def test_the_document_is_valid_openapi_3_1() -> None:
    document = json.loads((SERVED_FROM / "openapi.json").read_text(encoding="utf-8"))
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_json_route_of_the_template_is_described() -> None:
    template_routes = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for function in functions().values()
        for event in function.events.values()
        if event.get("Type") == "Api"
    }
    document = json.loads(generated()["openapi.json"])
    described = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert described == template_routes - HTML_ROUTES


def test_requests_are_described_by_the_models_the_handlers_validate_with() -> None:
    schemas = json.loads(generated()["openapi.json"])["components"]["schemas"]
    amount = schemas["InvoiceCreate"]["properties"]["amount"]
    assert amount == {"exclusiveMinimum": 0, "maximum": 10**12, "title": "Amount", "type": "integer"}
    assert set(schemas["V2Create"]["required"]) >= {"tx_id", "order_id", "user_id", "amount", "callback_url"}


def test_the_api_serves_the_document_and_a_readable_reference(merchant: Api) -> None:
    status, body, headers = merchant.call("GET", "/openapi.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert body == json.loads((SERVED_FROM / "openapi.json").read_text(encoding="utf-8"))

    status, page, headers = merchant.call("GET", "/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    nonce = re.search(r"style-src 'nonce-([^']+)'", headers["Content-Security-Policy"])
    assert nonce and f'<style nonce="{nonce.group(1)}">' in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "<script" not in page and not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from a CDN
    for path in ("/api/create-invoice", "/api/v2/payments", "/api/v2/confirm-payment", "/webhooks/verify"):
        assert f"<code>{path}</code>" in page
    assert "operator token" in page
