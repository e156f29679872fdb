"""The deployed URL shape: routes behind a stage or a custom domain's base path keep that prefix.

A deployed REST API serves at ``https://{id}.execute-api.{region}.{suffix}/{Stage}/…`` and a
custom domain at ``https://{domain}/{base path}/…``; links, redirects and form actions must keep
whichever prefix the request came in on. The local gateway serves every route under
``/{Stage}/`` as well as at ``/``.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.apigw import LambdaContext, proxy_event
from sandbox.functions import Function, functions
from sandbox.gateway import Gateway, api_routes
from tests.support import OPERATOR, invoice_body, load_handler, v2_body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _http(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.fixture
def gateway(aws: None) -> Iterator[Gateway]:
    server = Gateway(api_routes(functions()), port=0, stage="dev").start()
    yield server
    server.stop()


def test_the_stage_prefix_is_kept_through_create_checkout_form_and_redirect(gateway: Gateway) -> None:
    dev = f"{gateway.url}/dev"
    status, text, _ = _http(
        f"{dev}/api/create-invoice", "POST", json.dumps(invoice_body()).encode(), {"Content-Type": "application/json"}
    )
    assert status == 200, text
    created = json.loads(text)
    payment_id = created["payment_id"]
    assert created["pageUrl"] == f"{dev}/checkout/{payment_id}"

    status, page, _ = _http(created["pageUrl"])
    assert status == 200
    assert f'action="/dev/checkout/{payment_id}"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    form = f"csrf_token={csrf.group(1)}&email=&card_number=4444+4444+4444+4444&expiry=12%2F30&cvv=123"
    status, _, headers = _http(
        created["pageUrl"], "POST", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 303
    assert headers["Location"] == f"/dev/checkout/{payment_id}"
    assert f"Path=/dev/checkout/{payment_id}" in headers["Set-Cookie"]

    status, page, _ = _http(created["pageUrl"], headers={"Cookie": headers["Set-Cookie"].split(";")[0]})
    assert f'action="/dev/checkout/{payment_id}/otp"' in page

    # The same API at the root keeps the root: the prefix follows the request, not a setting.
    status, text, _ = _http(
        f"{gateway.url}/api/v2/payments", "POST", json.dumps(v2_body()).encode(), {"Content-Type": "application/json"}
    )
    assert json.loads(text)["checkout_url"].startswith(f"{gateway.url}/checkout/")
    status, text, _ = _http(f"{dev}/api/v2/pending-payments", headers=OPERATOR)
    assert status == 200 and "pay_tx-1001" in json.loads(text)["payments"]


def test_handlers_get_the_event_shape_a_deployed_stage_sends(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    original = Function.invoke

    def recording(self: Function, event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        return original(self, event)

    monkeypatch.setattr(Function, "invoke", recording)
    _http(f"{gateway.url}/dev/api/payments/inv_nope")
    _http(f"{gateway.url}/api/payments/inv_nope")
    staged, root = seen
    assert (staged["path"], staged["resource"]) == ("/api/payments/inv_nope", "/api/payments/{payment_id}")
    assert staged["requestContext"]["path"] == "/dev/api/payments/inv_nope"
    assert staged["requestContext"]["stage"] == "dev"
    assert root["path"] == root["requestContext"]["path"] == "/api/payments/inv_nope"


def test_unknown_routes_under_the_stage_and_other_stages_are_404(gateway: Gateway) -> None:
    for path in ("/dev/api/nope", "/Stage/api/create-invoice", "/dev"):
        status, text, _ = _http(f"{gateway.url}{path}")
        assert status == 404, path
        assert json.loads(text)["error"]["code"] == "route_not_found"


def _call(function: str, event: dict[str, Any]) -> dict[str, Any]:
    return dict(load_handler(function).lambda_handler(event, LambdaContext(function_name=function)))


def test_china_partition_host_keeps_the_stage(aws: None) -> None:
    host = "abc123.execute-api.cn-north-1.amazonaws.com.cn"
    event = proxy_event(
        "POST",
        "/api/create-invoice",
        headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"},
        body=json.dumps(invoice_body()),
        stage="dev",
        request_path="/dev/api/create-invoice",
        host=host,
    )
    created = json.loads(_call("create_payment", event)["body"])
    assert created["pageUrl"] == f"https://{host}/dev/checkout/{created['payment_id']}"


def test_custom_domain_base_path_routes_and_links(aws: None) -> None:
    """API Gateway puts a base path mapping's path in ``path`` too; routes and links must cope."""
    host = "pay.example.com"
    headers = {"Content-Type": "application/json", "X-Forwarded-Proto": "https"}
    event = proxy_event(
        "POST",
        "/shop/api/create-invoice",
        resource="/api/create-invoice",
        headers=headers,
        body=json.dumps(invoice_body()),
        stage="dev",
        host=host,
    )
    response = _call("create_payment", event)
    assert response["statusCode"] == 200, response["body"]
    created = json.loads(response["body"])
    payment_id = created["payment_id"]
    assert created["pageUrl"] == f"https://{host}/shop/checkout/{payment_id}"

    page = _call(
        "checkout",
        proxy_event(
            "GET",
            f"/shop/checkout/{payment_id}",
            resource="/checkout/{payment_id}",
            path_parameters={"payment_id": payment_id},
            headers={"X-Forwarded-Proto": "https"},
            stage="dev",
            host=host,
        ),
    )
    assert page["statusCode"] == 200
    assert f'action="/shop/checkout/{payment_id}"' in page["body"]

    # No base path on a custom domain: links at the domain's root.
    root = proxy_event(
        "POST", "/api/create-invoice", headers=headers, body=json.dumps(invoice_body()), stage="dev", host=host
    )
    assert json.loads(_call("create_payment", root)["body"])["pageUrl"].startswith(f"https://{host}/checkout/")
