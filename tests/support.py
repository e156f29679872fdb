"""Helpers the tests share: handler loading by path, API Gateway calls, sample bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from sandbox.apigw import LambdaContext, proxy_event

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = {"Authorization": "Bearer test-operator-token"}
EXPIRER_RULE = "arn:aws:events:eu-west-1:123456789012:rule/ExpirerFunctionEveryMinute"

_handlers: dict[str, ModuleType] = {}


def load_handler(function: str) -> ModuleType:
    """Import ``functions/<function>/app.py`` under a unique module name, once, as Lambda would
    (its directory on ``sys.path``: modules beside ``app.py`` import by plain name)."""
    if function not in _handlers:
        _handlers[function] = another_container(function, "app")
    return _handlers[function]


def another_container(function: str, label: str) -> ModuleType:
    """A separate import of ``functions/<function>/app.py``: its own module state, as in a
    second Lambda container (concurrent invocations never share one), with its own modules
    from beside ``app.py``."""
    from sandbox.functions import functions

    (found,) = [f for f in functions().values() if f.code_uri == ROOT / "functions" / function]
    return found.new_container(f"{function}_{label}")


class Api:
    """Calls a handler the way API Gateway would and decodes the JSON answer."""

    def __init__(self, function: str, container: ModuleType | None = None):
        self.function = function
        self.container = container  # another_container(...); default: the one load_handler keeps

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
        handler = self.container or load_handler(self.function)
        response = handler.lambda_handler(event, LambdaContext(function_name=self.function))
        headers_out = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers_out[name] = ", ".join(values)
        text = response.get("body") or ""
        try:
            decoded = json.loads(text) if text else None
        except ValueError:
            decoded = text
        return response["statusCode"], decoded, headers_out


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


def stored_payments() -> list[dict[str, Any]]:
    """Every item in the Payments table (tests only: the product never scans)."""
    import boto3

    from paysandbox.repository import from_item

    items = boto3.client("dynamodb").scan(TableName="Payments")["Items"]
    return [from_item(i) for i in items]


def on_payment(
    api: Api, method: str, payment_id: str, suffix: str = "", **kwargs: Any
) -> tuple[int, Any, dict[str, str]]:
    """Call /api/payments/{payment_id}[suffix] as API Gateway would (raw path, decoded parameter)."""
    from urllib.parse import quote

    path = f"/api/payments/{quote(payment_id, safe='')}{suffix}"
    return api.call(method, path, **payment_path(payment_id, suffix), **kwargs)


def payment_path(payment_id: str, suffix: str = "") -> dict[str, Any]:
    """Keyword arguments for Api.call on /api/payments/{payment_id}[suffix]."""
    return {
        "resource": "/api/payments/{payment_id}" + suffix,
        "path_parameters": {"payment_id": payment_id},
    }


def view_of(merchant: Api, payment_id: str) -> dict[str, Any]:
    """GET /api/payments/{payment_id} through the merchant handler; asserts it exists."""
    status, view, _ = on_payment(merchant, "GET", payment_id)
    assert status == 200, view
    return dict(view)


def stream_records(table: str = "Payments") -> list[dict[str, Any]]:
    """Every record so far on the table's stream, read with moto's real GetRecords."""
    from harness.streams import StreamReader

    return StreamReader.of_table(table).read_all()


def terminal_transitions(payment_id: str) -> list[str]:
    """The statuses a payment entered from an open one, per its stream records."""
    found = []
    for record in stream_records():
        images = record["dynamodb"]
        if record["eventName"] != "MODIFY" or images["Keys"]["payment_id"]["S"] != payment_id:
            continue
        old, new = images["OldImage"]["status"]["S"], images["NewImage"]["status"]["S"]
        if old in ("pending", "waiting_for_otp") and new not in ("pending", "waiting_for_otp"):
            found.append(new)
    return found


def wait_for(condition: Any, timeout: float = 30, interval: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something truthy (a background thread's work)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class DynamoDBRequest(NamedTuple):
    operation: str
    table: str
    index: str | None


@contextmanager
def dynamodb_requests() -> Iterator[list[DynamoDBRequest]]:
    """Every request the product's DynamoDB client makes in the block, in order.

    ``paysandbox.repository.dynamodb`` is the only client the product talks to DynamoDB with;
    a test's own reads must stay outside the block."""
    from paysandbox.repository import dynamodb

    seen: list[DynamoDBRequest] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        seen.append(DynamoDBRequest(model.name, params.get("TableName", ""), params.get("IndexName")))

    dynamodb.meta.events.register("provide-client-params.dynamodb.*", record)
    try:
        yield seen
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.*", record)


@contextmanager
def dynamodb_pages_of(size: int) -> Iterator[None]:
    """Cut every Query of the product's DynamoDB client into pages of at most ``size`` items.

    DynamoDB ends a page at 1 MB and hands back ``LastEvaluatedKey``; moto never does, so
    code that forgets to follow it passes every test unless the pages are made small."""
    from paysandbox.repository import dynamodb

    def limit(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = min(int(params.get("Limit", size)), size)

    dynamodb.meta.events.register("provide-client-params.dynamodb.Query", limit)
    try:
        yield
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.Query", limit)
