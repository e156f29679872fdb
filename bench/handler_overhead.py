"""Figure 2 - handler overhead.

Warm, in-process: ``POST /api/create-invoice`` through the real CreatePaymentFunction handler
(API Gateway proxy event -> Powertools resolver -> pydantic -> domain -> one conditional
PutItem) against the bare conditional ``put_item`` it must do anyway, both under moto, same
process, same client, interleaved (order alternating), median of many iterations.

moto's own cost per request dominates both sides (a real DynamoDB call is a network round
trip of several ms, which would make the ratio look better still), so the absolute
per-call overhead in ms is reported next to the ratio.

Timed in CPU time (``time.process_time``; everything runs in this one thread, moto included)
because the shared 2-core machine makes wall time mostly a measure of waiting for a core;
wall medians are recorded in results.json too.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from bench.common import captured_stdout, interleaved, median, moto_account, shown_ratio
from bench.report import Figure

NUMBER = 2
NAME = "handler overhead, POST /api/create-invoice vs bare put_item"
TARGET_RATIO = 1.5
TARGET = f"<= {TARGET_RATIO}x"
WARMUP = 50
ITERATIONS = 1000
FUNCTION = "CreatePaymentFunction"


def invoice_event(reference: str) -> dict[str, Any]:
    from sandbox.apigw import proxy_event

    body = {
        "amount": 12_500,
        "reference": reference,
        "webhook_url": "https://merchant.example.com/hooks",
        "redirect_url": "https://merchant.example.com/thanks",
    }
    return proxy_event(
        "POST", "/api/create-invoice", headers={"Content-Type": "application/json"}, body=json.dumps(body)
    )


def bare_item(payment_id: str, now: float) -> dict[str, Any]:
    """What the handler stores for an invoice, already in DynamoDB's wire format."""
    return {
        "payment_id": {"S": payment_id},
        "flavour": {"S": "invoice"},
        "status": {"S": "pending"},
        "status_group": {"S": "pending"},
        "due_pk": {"S": "open"},
        "created_at": {"N": repr(now)},
        "updated_at": {"N": repr(now)},
        "expires_at": {"N": repr(now + 900)},
        "webhook_attempts": {"N": "0"},
        "ttl": {"N": str(int(now) + 30 * 86400)},
        "amount": {"N": "12500"},
        "currency": {"S": "UAH"},
        "reference": {"S": "bench"},
        "webhook_url": {"S": "https://merchant.example.com/hooks"},
        "redirect_url": {"S": "https://merchant.example.com/thanks"},
        "request_hash": {"S": secrets.token_hex(32)},
    }


Timings = list[tuple[float, float]]  # (cpu, wall) seconds per call


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    handler_times, bare_times, log_bytes = measure()
    handler_ms = median([cpu for cpu, _ in handler_times]) * 1000
    bare_ms = median([cpu for cpu, _ in bare_times]) * 1000
    handler_wall_ms = median([wall for _, wall in handler_times]) * 1000
    bare_wall_ms = median([wall for _, wall in bare_times]) * 1000
    ratio = handler_ms / bare_ms
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=f"{shown_ratio(ratio):.2f}x ({handler_ms:.2f} ms vs {bare_ms:.2f} ms;"
        f" +{handler_ms - bare_ms:.2f} ms per call)",
        met=ratio <= TARGET_RATIO,
        data={
            "iterations": ITERATIONS,
            "handler_median_ms": round(handler_ms, 3),
            "bare_put_median_ms": round(bare_ms, 3),
            "overhead_ms": round(handler_ms - bare_ms, 3),
            "ratio": round(ratio, 3),
            "clock": "CPU time per call (time.process_time); wall medians below",
            "handler_wall_median_ms": round(handler_wall_ms, 3),
            "bare_put_wall_median_ms": round(bare_wall_ms, 3),
            "log_bytes_per_invocation": round(log_bytes / (WARMUP + ITERATIONS), 1),
        },
    )


def measure() -> tuple[Timings, Timings, int]:
    """Handler calls and bare PutItems under moto, interleaved; also the bytes the handler logged.

    Raises unless every invoice the handler answered for is stored, pending.
    """
    from sandbox.functions import functions

    created: list[str] = []
    with moto_account() as admin:
        function = functions()[FUNCTION]
        function.load()
        from paysandbox.repository import dynamodb  # the handler's own client

        def via_handler(n: int) -> tuple[float, float]:
            event = invoice_event(f"bench-{n}")
            started, started_cpu = time.perf_counter(), time.process_time()
            response = function.invoke(event)
            elapsed = (time.process_time() - started_cpu, time.perf_counter() - started)
            body = json.loads(response["body"])
            if response["statusCode"] != 200 or body.get("status") != "pending" or "payment_id" not in body:
                raise RuntimeError(f"create-invoice failed: {response}")
            created.append(body["payment_id"])
            return elapsed

        def bare(n: int) -> tuple[float, float]:
            item = bare_item(f"inv_{secrets.token_hex(14)}", time.time())
            started, started_cpu = time.perf_counter(), time.process_time()
            dynamodb.put_item(
                TableName="Payments",
                Item=item,
                ConditionExpression="attribute_not_exists(payment_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return time.process_time() - started_cpu, time.perf_counter() - started

        with captured_stdout() as logs:
            handler_times, bare_times = interleaved(via_handler, bare, WARMUP, ITERATIONS)
        check_stored(admin, created[WARMUP:])
    return handler_times, bare_times, logs.bytes_written


def check_stored(admin: Any, created: list[str]) -> None:
    """The work was really done: every invoice the handler answered for is stored, pending."""
    stored = admin.scan(TableName="Payments", Select="COUNT")["Count"]
    if stored != 2 * (WARMUP + ITERATIONS):
        raise RuntimeError(f"expected {2 * (WARMUP + ITERATIONS)} stored payments, found {stored}")
    for payment_id in created[:: max(1, len(created) // 20)]:
        item = admin.get_item(TableName="Payments", Key={"payment_id": {"S": payment_id}})["Item"]
        if item["status"]["S"] != "pending":
            raise RuntimeError(f"{payment_id} is not pending")
