"""Figure 10 - the per-request cost of team authentication on a warm function.

Warm, in-process, under moto: ``GET /api/payments/{id}`` through the real CreatePaymentFunction
handler, keyless (the default team: no authentication) against the same call with a team key
(``Authorization: Bearer psk_…``: parse, cached team item, SHA-256, constant-time compare),
interleaved with alternating order, median CPU time per call. A botocore hook on the layer's
DynamoDB client counts the requests of every call: a warm keyed call must make exactly the
keyless call's one GetItem (the team item comes from the in-memory cache).
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import captured_stdout, interleaved, median
from bench.report import Figure
from harness.fake_aws import moto_account

NUMBER = 10
NAME = "team authentication on a warm function, GET /api/payments/{id} keyed vs keyless"
TARGET_EXTRA_MS = 0.5
TARGET = f"0 extra DynamoDB requests, <= +{TARGET_EXTRA_MS} ms"
WARMUP = 50
ITERATIONS = 500
ADMIN_VARIABLE = "SERVICE_AUTH_TOKEN"


def _event(payment_id: str, headers: dict[str, str]) -> dict[str, Any]:
    from sandbox.apigw import proxy_event

    return proxy_event("GET", f"/api/payments/{payment_id}", headers=headers)


Calls = list[tuple[float, int]]  # (CPU seconds, DynamoDB requests) per call


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    keyless_calls, keyed_calls = measure()
    keyless, keyed = [seconds for seconds, _ in keyless_calls], [seconds for seconds, _ in keyed_calls]
    keyless_requests, keyed_requests = {n for _, n in keyless_calls}, {n for _, n in keyed_calls}
    keyless_ms, keyed_ms = median(keyless) * 1000, median(keyed) * 1000
    extra_requests = max(keyed_requests) - min(keyless_requests)
    extra_ms = keyed_ms - keyless_ms
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=f"+{extra_requests} requests, {extra_ms:+.3f} ms ({keyed_ms:.2f} ms vs {keyless_ms:.2f} ms)",
        met=extra_requests == 0 and extra_ms <= TARGET_EXTRA_MS,
        data={
            "iterations": ITERATIONS,
            "keyless_median_ms": round(keyless_ms, 3),
            "keyed_median_ms": round(keyed_ms, 3),
            "extra_ms": round(extra_ms, 3),
            "dynamodb_requests_per_call": {"keyless": sorted(keyless_requests), "keyed": sorted(keyed_requests)},
            "clock": "CPU time per call (time.process_time)",
        },
    )


def measure() -> tuple[Calls, Calls]:
    """Keyless and keyed GETs of one payment through the warm handler, interleaved under moto."""
    from sandbox.functions import functions

    with moto_account():
        merchant, operator = functions()["CreatePaymentFunction"], functions()["ConfirmFunction"]
        with captured_stdout():
            key = {"Authorization": f"Bearer {_team_with_payments(merchant, operator)}"}
        from paysandbox.repository import dynamodb

        requests: list[str] = []

        def record(model: Any, **_: Any) -> None:
            requests.append(model.name)

        def call(headers: dict[str, str]) -> tuple[float, int]:
            requests.clear()
            started = time.process_time()
            response = merchant.invoke(_event("pay_t1", headers))
            elapsed = time.process_time() - started
            if response["statusCode"] != 200 or json.loads(response["body"])["payment_id"] != "pay_t1":
                raise RuntimeError(f"GET failed: {response}")
            return elapsed, len(requests)

        dynamodb.meta.events.register("provide-client-params.dynamodb.*", record)
        try:
            with captured_stdout():
                return interleaved(lambda n: call({}), lambda n: call(key), WARMUP, ITERATIONS)
        finally:
            dynamodb.meta.events.unregister("provide-client-params.dynamodb.*", record)


def _team_with_payments(merchant: Any, operator: Any) -> str:
    """Create the team ``bench`` and payment ``pay_t1`` keyless and with its key; the team's key."""
    import os

    from sandbox.apigw import proxy_event

    admin = {"Authorization": f"Bearer {os.environ[ADMIN_VARIABLE]}", "Content-Type": "application/json"}
    created = operator.invoke(proxy_event("POST", "/api/teams", headers=admin, body='{"team_id": "bench"}'))
    api_key = str(json.loads(created["body"])["api_key"])
    body = {"version": "v2", "tx_id": "t1", "order_id": 1, "user_id": 1, "amount": 100}
    payload = json.dumps({**body, "callback_url": "https://merchant.example.com/h"})
    json_type = {"Content-Type": "application/json"}
    for headers in (json_type, {**json_type, "Authorization": f"Bearer {api_key}"}):
        merchant.invoke(proxy_event("POST", "/api/v2/payments", headers=headers, body=payload))
    return api_key
