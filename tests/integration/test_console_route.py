"""The console page and its operator-only config route, through the confirm handler."""

from __future__ import annotations

import re
from typing import Any

from paysandbox import signatures
from sandbox.apigw import LambdaContext, proxy_event
from tests.support import OPERATOR, Api, load_handler


def page(path: str) -> tuple[int, str, dict[str, str]]:
    """GET through the handler, with the response headers as API Gateway merges them."""
    response: dict[str, Any] = load_handler("confirm").lambda_handler(proxy_event("GET", path), LambdaContext())
    headers = {k: ", ".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return response["statusCode"], response["body"], headers


def test_console_page_loads_without_a_token_with_a_nonce_csp(operator: Api) -> None:
    status, html, headers = page("/console")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    csp = headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f'<script nonce="{nonce}">' in html and "{{" not in html
    assert '"JPY": 0' in html and '"KWD": 3' in html  # the checkout's minor units, for amounts in major units
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
    assert 'for="token">Operator token<' in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # no CDN
    assert "test-webhook-secret" not in html and "test-operator-token" not in html

    _, _, again_headers = page("/console")
    assert again_headers["Content-Security-Policy"] != csp  # a fresh nonce per response


def test_console_config_needs_the_operator_token(operator: Api) -> None:
    status, body, _ = operator.call("GET", "/api/v2/console-config")
    assert status == 401 and body["error"]["code"] == "missing_token"
    status, body, _ = operator.call("GET", "/api/v2/console-config", headers={"Authorization": "Bearer wrong"})
    assert status == 401


def test_console_config_gives_the_secret_in_whsec_form(operator: Api) -> None:
    status, body, _ = operator.call("GET", "/api/v2/console-config", headers=OPERATOR)
    assert status == 200
    assert body["webhook_secret_whsec"] == signatures.whsec("test-webhook-secret")
