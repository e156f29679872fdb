"""Helpers the tests share: handler loading by path, API Gateway calls, sample bodies."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from sandbox.apigw import LambdaContext, proxy_event

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = {"Authorization": "Bearer test-operator-token"}

_handlers: dict[str, ModuleType] = {}


def load_handler(function: str) -> ModuleType:
    """Import ``functions/<function>/app.py`` under a unique module name, once."""
    if function not in _handlers:
        path = ROOT / "functions" / function / "app.py"
        spec = importlib.util.spec_from_file_location(f"{function}_app", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _handlers[function] = module
    return _handlers[function]


class Api:
    """Calls a handler the way API Gateway would and decodes the JSON answer."""

    def __init__(self, function: str):
        self.function = function

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        query: str = "",
        raw_body: str | bytes | None = None,
        resource: str | None = None,
        path_parameters: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        event = proxy_event(
            method,
            path,
            headers=all_headers,
            query=query,
            body=payload,
            resource=resource,
            path_parameters=path_parameters,
        )
        response = load_handler(self.function).lambda_handler(event, LambdaContext(function_name=self.function))
        text = response.get("body") or ""
        try:
            decoded = json.loads(text) if text else None
        except ValueError:
            decoded = text
        return response["statusCode"], decoded, response.get("headers") or {}


def invoice_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "amount": 12_500,
        "reference": "order-1001",
        "webhook_url": "https://merchant.example.com/hooks",
        "redirect_url": "https://merchant.example.com/thanks",
    }
    body.update(overrides)
    return body


def v2_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "version": "v2",
        "tx_id": "tx-1001",
        "order_id": "order-1001",
        "user_id": "user-7",
        "amount": 4_990,
        "callback_url": "https://merchant.example.com/v2/callback",
    }
    body.update(overrides)
    return body
