"""Figure 4 - expirer scaling.

Under moto, a Payments table (created from template.yaml) holding SETTLED settled payments,
OPEN_NOT_DUE pending ones that are not due yet and DUE pending ones past their expiry. One
run of the real ExpirerFunction handler, with a scheduled event; a botocore hook on the
layer's DynamoDB client counts the items every request read. Done for 20,000 and 200,000
settled payments: reading only the sparse due index, the count must not grow with the table.

Checks: every due payment is expired afterwards, the not-yet-due ones are still pending, and
no request was a Scan. Seeding goes through the public batch_write_item API (25 items per
call) on a separate client, so it is not counted.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from bench.common import captured_stdout, moto_account
from bench.ddb_counter import attach_counter
from bench.report import Figure
from sandbox.lambda_events import scheduled_event

NUMBER = 4
NAME = "expirer scaling, items read by one run"
TARGET_ITEMS = 60
SIZES = (20_000, 200_000)
DUE = 50
OPEN_NOT_DUE = 500
TARGET = f"<= {TARGET_ITEMS} items at each size, all {DUE} due expired"
SETTLED_STATUSES = (("paid", "completed"), ("failed", "failed"), ("expired", "expired"))


def _payment(payment_id: str, status: str, group: str, created: float, open_: bool) -> dict[str, Any]:
    item = {
        "payment_id": {"S": payment_id},
        "flavour": {"S": "invoice"},
        "status": {"S": status},
        "status_group": {"S": group},
        "created_at": {"N": repr(created)},
        "updated_at": {"N": repr(created + 30)},
        "expires_at": {"N": repr(created + 900)},
        "webhook_attempts": {"N": "1" if not open_ else "0"},
        "ttl": {"N": str(int(created) + 30 * 86400)},
        "amount": {"N": "12500"},
        "currency": {"S": "UAH"},
        "reference": {"S": f"order-{payment_id[-8:]}"},
        "webhook_url": {"S": "https://merchant.example.com/hooks"},
        "redirect_url": {"S": "https://merchant.example.com/thanks"},
    }
    if open_:
        item["due_pk"] = {"S": "open"}
    else:
        item["webhook_status"] = {"S": "delivered"}
    return item


def seed(client: Any, settled: int, now: float) -> tuple[list[str], list[str]]:
    """Write the table; returns (due ids, open-but-not-due ids)."""
    batch: list[dict[str, Any]] = []

    def put(item: dict[str, Any]) -> None:
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            flush()

    def flush() -> None:
        if not batch:
            return
        pending = {"Payments": list(batch)}
        batch.clear()
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    for i in range(settled):
        status, group = SETTLED_STATUSES[i % len(SETTLED_STATUSES)]
        put(_payment(f"inv_settled{i:07d}", status, group, now - 86400 + i * 0.1, open_=False))
    due = [f"inv_due{i:04d}{secrets.token_hex(4)}" for i in range(DUE)]
    for i, payment_id in enumerate(due):
        put(_payment(payment_id, "pending" if i % 2 else "waiting_for_otp", "pending", now - 1000 - i, open_=True))
    fresh = [f"inv_fresh{i:04d}{secrets.token_hex(4)}" for i in range(OPEN_NOT_DUE)]
    for i, payment_id in enumerate(fresh):
        put(_payment(payment_id, "pending", "pending", now - 60 - i * 0.1, open_=True))
    flush()
    return due, fresh


EXPIRER_RULE = "arn:aws:events:eu-west-1:123456789012:rule/ExpirerEveryMinute"


def one_size(settled: int) -> dict[str, Any]:
    from sandbox.functions import functions

    with moto_account() as admin:
        started = time.perf_counter()
        due, fresh = seed(admin, settled, time.time())
        seed_seconds = time.perf_counter() - started
        total = admin.describe_table(TableName="Payments")["Table"].get("ItemCount")

        function = functions()["ExpirerFunction"]
        function.load()
        from paysandbox.repository import dynamodb

        with attach_counter(dynamodb) as counter, captured_stdout():
            started = time.perf_counter()
            result = function.invoke(scheduled_event(EXPIRER_RULE))
            run_seconds = time.perf_counter() - started
            counts = counter.snapshot()

        # The work was really done.
        if result.get("expired") != DUE or not result.get("complete"):
            raise RuntimeError(f"expirer with {settled} settled: expected {DUE} expired, got {result}")
        statuses = _statuses(admin, due + fresh[:50])
        still_open = [p for p in due if statuses[p] != "expired"]
        if still_open:
            raise RuntimeError(f"{len(still_open)} due payments were not expired")
        if any(statuses[p] != "pending" for p in fresh[:50]):
            raise RuntimeError("the expirer expired payments that were not due")
        if counts["scans"]:
            raise RuntimeError("the expirer scanned the table")
    return {
        "settled": settled,
        "table_items": total,
        "items_read": counts["items_read"],
        "requests": counts["requests"],
        "expired": result["expired"],
        "seed_seconds": round(seed_seconds, 1),
        "run_seconds": round(run_seconds, 2),
    }


def _statuses(client: Any, ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(ids), 100):
        keys = [{"payment_id": {"S": p}} for p in ids[start : start + 100]]
        response = client.batch_get_item(RequestItems={"Payments": {"Keys": keys, "ConsistentRead": True}})
        for item in response["Responses"]["Payments"]:
            found[item["payment_id"]["S"]] = item["status"]["S"]
    return found


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    runs = [one_size(settled) for settled in SIZES]
    met = all(r["items_read"] <= TARGET_ITEMS for r in runs)
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured="; ".join(
            f"{r['items_read']} read / {r['expired']} expired @ {r['settled'] // 1000}k settled" for r in runs
        ),
        met=met,
        data={"due": DUE, "open_not_due": OPEN_NOT_DUE, "runs": runs},
    )
