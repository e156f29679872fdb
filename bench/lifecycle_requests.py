"""Figure 3 - DynamoDB requests per full checkout lifecycle.

Under moto, one payment goes through the real handlers exactly as a merchant, a browser and
Lambda would drive them:

1. ``POST /api/create-invoice`` (CreatePaymentFunction);
2. ``GET /checkout/{id}``: the card page; its form's ``csrf_token`` is read from the HTML;
3. ``POST /checkout/{id}`` with card 4444 4444 4444 4444, form-urlencoded: 303 and the
   ``psb_otp`` cookie (SANDBOX_SHOW_OTP);
4. ``GET /checkout/{id}`` with that cookie: the code page shows the code, read from it;
5. ``POST /checkout/{id}/otp`` with the code and the page's token: 303, the payment is paid;
6. ``GET /checkout/{id}``: the result page the browser's redirect lands on;
7. Lambda's side: the Payments stream read with moto's real ``get_records``, records kept only
   when they pass the template's FilterCriteria, the WebhookSenderFunction invoked with them;
   the webhook goes to a real HTTP receiver on 127.0.0.1 that answers 200. The stream is read
   once more afterwards: the sender's own bookkeeping write must be filtered out.

Counted: every DynamoDB request made by product code. The counter hooks every DynamoDB client
the product modules hold (``paysandbox.*`` and the loaded handler modules) and any client
created while a step runs. As a completeness check, every DynamoDB request moto serves during
a step is tallied too; it must equal the product's count plus the benchmark's own reads (the
counter reads items around writes with a separate client, to price index writes exactly).
Stream calls (DescribeStream, GetShardIterator, GetRecords) are Lambda's event source mapping:
reported, free, not in the total.

Also one ExpirerFunction run on a table holding one due payment ("expirer path"), a full
refund of the first payment with its webhook ("refund path", ``bench/refund_requests.py``), and the
duration and log bytes of every invocation: ``data["profile"]`` is the full-lifecycle
``LifecycleProfile`` the cost model (figure 7) prices.

Checks: the payment ends ``paid``, the receiver got exactly one webhook and its X-Signature
verifies (HMAC recomputed here, not with product code), ``webhook_status`` is ``delivered``,
the expirer expired the due payment, and moto saw no DynamoDB request the counter missed.

This module is the figure (run, price, print); driving a lifecycle is
``bench/lifecycle_driver.py``, counting its requests ``bench/lifecycle_counting.py``.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

from bench.common import median, moto_account
from bench.lifecycle_counting import Lifecycle, Step, totals
from bench.lifecycle_driver import Bench
from bench.refund_requests import as_data as refund_data
from bench.refund_requests import run_refund
from bench.refund_requests import summary as refund_summary
from bench.report import Figure
from harness.receiver import Receiver

NUMBER = 3
NAME = "DynamoDB requests per full checkout lifecycle"
TARGET_REQUESTS = 8
TARGET_WRITE_UNITS = 11
TARGET = f"<= {TARGET_REQUESTS} requests, <= {TARGET_WRITE_UNITS} WRU, 0 scans"
# Lifecycles after the first, run for stable median durations and log bytes (the cost model's
# inputs); each must make exactly the same requests as the first.
TIMED_LIFECYCLES = 15


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    receiver = Receiver()
    try:
        with moto_account() as admin, Bench(admin, receiver) as bench:
            first, payment_id = bench.run_lifecycle("bench-lifecycle-0")
            payment = bench.check_paid_and_delivered(payment_id, os.environ["WEBHOOK_SECRET"])
            stored = bench.stored_bytes(payment)
            # The timed lifecycles run without the counter's read-backs around writes (those
            # would be billed to the handlers' durations); they are still counted and checked.
            bench.counted.counter.images_from = None
            durations, log_bytes = _timed_lifecycles(bench, first)
            bench.counted.counter.images_from = admin  # exact units again for the expirer path
            refund = run_refund(bench, payment_id)
            expirer = bench.run_expirer()
            memory = {name: f.memory for name, f in bench.functions.items()}
    finally:
        receiver.close()

    total = totals(first.steps)
    profile = lifecycle_profile(first, total, durations, log_bytes, memory, stored)
    return _figure(first, total, expirer, refund, profile)


def _timed_lifecycles(bench: Bench, first: Lifecycle) -> tuple[dict[str, list[float]], dict[str, int]]:
    """``TIMED_LIFECYCLES`` more lifecycles, each checked to make the first's requests; the
    durations and log bytes of every invocation, per function."""
    durations: dict[str, list[float]] = {}
    log_bytes: dict[str, int] = {}
    for i in range(1, TIMED_LIFECYCLES + 1):
        again, again_id = bench.run_lifecycle(f"bench-lifecycle-{i}")
        bench.check_paid_and_delivered(again_id, os.environ["WEBHOOK_SECRET"])
        if [s.snapshot["requests"] for s in again.steps] != [s.snapshot["requests"] for s in first.steps]:
            raise RuntimeError(f"lifecycle {i} made different DynamoDB requests than the first")
        for function, values in again.durations_ms.items():
            durations.setdefault(function, []).extend(values)
        for function, count in again.log_bytes.items():
            log_bytes[function] = log_bytes.get(function, 0) + count
    return durations, log_bytes


def _figure(first: Lifecycle, total: dict[str, Any], expirer: Step, refund: list[Step], profile: Any) -> Figure:
    """The figure: the first lifecycle's requests, the expirer and refund paths, against the target."""
    scans = total["scans"] + expirer.snapshot["scans"]
    refund_text, refund_met = refund_summary(refund)
    met = total["total"] <= TARGET_REQUESTS and total["write_units"] <= TARGET_WRITE_UNITS and scans == 0 and refund_met
    stream_reads = first.stream_calls.get("GetRecords", 0)
    measured = (
        f"{total['total']} requests ({total['reads']} reads, {total['writes']} writes, "
        f"{total['queries']} queries, {total['scans']} scans), {total['write_units']:g} WRU "
        f"({total['index_write_units']:g} index) + {stream_reads} stream GetRecords (free); "
        f"expirer path {expirer.snapshot['total']} ({expirer.snapshot['queries']} query, "
        f"{expirer.snapshot['writes']} write, {expirer.snapshot['scans']} scans); {refund_text}"
    )
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=measured,
        met=met,
        data={
            "steps": [asdict(s) for s in first.steps],
            "total": total,
            "stream_calls": dict(first.stream_calls),
            "expirer_path": asdict(expirer),
            "refund_path": refund_data(refund),
            "timed_lifecycles": TIMED_LIFECYCLES,
            "profile": asdict(profile),
        },
    )


def lifecycle_profile(
    lifecycle: Lifecycle,
    total: dict[str, Any],
    durations: dict[str, list[float]],
    log_bytes: dict[str, int],
    memory: dict[str, int],
    stored_bytes: float,
) -> Any:
    """The cost model's input: invocations per function (with their median durations and log
    bytes per invocation), request units, stored bytes. No SQS on the happy path."""
    from bench.cost_pricing import Invocation, LifecycleProfile

    per_function: dict[str, list[Step]] = {}
    for step in lifecycle.steps:
        per_function.setdefault(step.function, []).append(step)
    invocations = []
    for function, steps in per_function.items():
        count = sum(s.invocations for s in steps)
        invocations.append(
            Invocation(
                function=function,
                per_lifecycle=count,
                duration_ms=median(durations[function]),
                memory_mb=memory[function],
                via_api=steps[0].via_api,
                log_bytes=log_bytes[function] / len(durations[function]),
            )
        )
    return LifecycleProfile(
        label="full lifecycle (figure 3): create invoice, checkout with card 4444 + code, webhook delivered once",
        partial=False,
        invocations=invocations,
        dynamodb_read_units=total["read_units"],
        dynamodb_write_units=total["write_units"],
        dynamodb_requests=dict(total["requests"]),
        stored_bytes=stored_bytes,
        streams_read_units=0.0,  # GetRecords by Lambda's event source mapping are free
        sqs_requests=0.0,  # delivered on the first attempt: no retry job
    )


def details(figure: Figure) -> list[str]:
    data = figure.data
    if not data:
        return []
    lines = ["DynamoDB requests per step (figure 3):"]
    rows = [*data["steps"], {**data["expirer_path"], "name": "[expirer path] " + data["expirer_path"]["name"]}]
    rows += [{**s, "name": "[refund path] " + s["name"]} for s in data.get("refund_path", {}).get("steps", [])]
    for step in rows:
        s = step["snapshot"]
        ops = ", ".join(f"{k} {v}" for k, v in sorted(s["requests"].items())) or "-"
        lines.append(
            f"    {step['name']:<58} {s['total']:>2}  (r {s['reads']} w {s['writes']} q {s['queries']} "
            f"s {s['scans']}; {ops}; {s['write_units']:g} WRU, {s['read_units']:g} RRU)"
        )
    t = data["total"]
    lines.append(
        f"    {'lifecycle total':<58} {t['total']:>2}  (r {t['reads']} w {t['writes']} q {t['queries']} "
        f"s {t['scans']}; {t['write_units']:g} WRU incl. {t['index_write_units']:g} index, {t['read_units']:g} RRU)"
    )
    stream = ", ".join(f"{k} {v}" for k, v in sorted(data["stream_calls"].items()))
    lines.append(f"    stream (Lambda's event source mapping, free, not in the total): {stream}")
    return lines
