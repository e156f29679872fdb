"""The local API Gateway stand-in routes real HTTP requests to the handlers as the template says."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from sandbox.functions import functions
from sandbox.gateway import Gateway, api_routes
from tests.support import OPERATOR, invoice_body


@pytest.fixture
def gateway(aws: None) -> Iterator[Gateway]:
    server = Gateway(api_routes(functions()), port=0).start()
    yield server
    server.stop()


def _request(url: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def test_create_invoice_then_read_it_back_over_http(gateway: Gateway) -> None:
    status, created, _ = _request(f"{gateway.url}/api/create-invoice", "POST", invoice_body())
    assert status == 200
    assert created["pageUrl"] == f"{gateway.url}/checkout/{created['payment_id']}"

    status, view, _ = _request(f"{gateway.url}/api/payments/{created['payment_id']}")
    assert status == 200
    assert view["reference"] == "order-1001"
    assert view["status"] == "pending"


def test_unknown_route_and_wrong_method_get_json_404(gateway: Gateway) -> None:
    status, body, _ = _request(f"{gateway.url}/api/nope")
    assert status == 404
    assert body["error"]["code"] == "route_not_found"
    status, body, _ = _request(f"{gateway.url}/api/create-invoice", "GET")
    assert status == 404


def test_query_strings_reach_the_handler(gateway: Gateway) -> None:
    status, body, _ = _request(f"{gateway.url}/api/v2/pending-payments?status=bogus", headers=OPERATOR)
    assert status == 422
    assert body["error"]["details"][0]["field"] == "status"
