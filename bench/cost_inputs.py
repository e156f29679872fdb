"""Figure 7's measured inputs: figure 3's full lifecycle profile, or (only when figure 3
failed) a partial lifecycle measured here, and one empty expirer run (the fixed schedule cost).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

from bench.common import captured_stdout, median, moto_account
from bench.cost_pricing import SAMPLE_LIFECYCLES, Invocation, LifecycleProfile
from bench.ddb_counter import attach_counter, item_size
from bench.report import Figure


def measure_partial_lifecycle(count: int = SAMPLE_LIFECYCLES) -> tuple[LifecycleProfile, Invocation]:
    """create invoice -> operator confirm, ``count`` times, then one expirer run (nothing due).

    Returns the per-lifecycle profile and the expirer's empty run (priced as a fixed cost).
    """
    from bench.handler_overhead import invoice_event
    from sandbox.functions import functions

    found = functions()
    create, confirm, expirer = found["CreatePaymentFunction"], found["ConfirmFunction"], found["ExpirerFunction"]
    with moto_account() as admin:
        for function in (create, confirm, expirer):
            function.load()
        from paysandbox.repository import dynamodb

        with attach_counter(dynamodb) as counter:
            invoices = [invoice_event(f"lifecycle-{i}") for i in range(count)]
            created = _timed_invocations("create", create, invoices)
            ids = [answer["payment_id"] for answer in created.answers]
            confirmed = _timed_invocations("confirm", confirm, [_confirm_event(p) for p in ids])
            incomplete = [answer for answer in confirmed.answers if answer["status"] != "PAYMENT_COMPLETED"]
            if incomplete:
                raise RuntimeError(f"confirm did not complete: {incomplete[0]}")
            per_lifecycle = counter.snapshot()
            counter.reset()
            expirer_ms, expirer_logs = _one_empty_expirer_run(expirer)

        stored = [admin.get_item(TableName="Payments", Key={"payment_id": {"S": p}})["Item"] for p in ids[:20]]
        if any(item["status"]["S"] != "paid" for item in stored):
            raise RuntimeError("a confirmed payment is not stored as paid")

    profile = LifecycleProfile(
        label="PARTIAL: create invoice + operator confirm (+ expirer finds nothing); "
        "no checkout, no webhook delivery yet",
        partial=True,
        invocations=[created.invocation(count), confirmed.invocation(count)],
        dynamodb_read_units=per_lifecycle["read_units"] / count,
        dynamodb_write_units=per_lifecycle["write_units"] / count,
        dynamodb_requests={k: v / count for k, v in per_lifecycle["requests"].items()},
        stored_bytes=_paid_payment_bytes(stored),
    )
    return profile, Invocation("ExpirerFunction", 0, expirer_ms, expirer.memory, False, float(expirer_logs))


@dataclass
class TimedInvocations:
    """One function invoked once per event: CPU milliseconds each, log bytes in all, the answers."""

    function: Any  # sandbox.functions.Function
    durations_ms: list[float]
    log_bytes: int
    answers: list[dict[str, Any]]

    def invocation(self, count: int) -> Invocation:
        """The function once per lifecycle (of ``count``), at its median duration, through API Gateway."""
        duration_ms, log_bytes = median(self.durations_ms), self.log_bytes / count
        return Invocation(self.function.logical_id, 1, duration_ms, self.function.memory, True, log_bytes)


def _timed_invocations(phase: str, function: Any, events: list[dict[str, Any]]) -> TimedInvocations:
    """Invoke ``function`` with each event; every answer must be a 200."""
    durations, answers = [], []
    with captured_stdout() as logs:
        for event in events:
            started = time.process_time()
            response = function.invoke(event)
            durations.append((time.process_time() - started) * 1000)
            if response["statusCode"] != 200:
                raise RuntimeError(f"{phase} failed: {response}")
            answers.append(json.loads(response["body"]))
    return TimedInvocations(function, durations, logs.bytes_written, answers)


def _confirm_event(payment_id: str) -> dict[str, Any]:
    """The operator's ``POST /api/v2/confirm-payment`` for one payment."""
    from sandbox.apigw import proxy_event

    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["SERVICE_AUTH_TOKEN"]}
    body = json.dumps({"payment_id": payment_id})
    return proxy_event("POST", "/api/v2/confirm-payment", headers=headers, body=body)


def _one_empty_expirer_run(expirer: Any) -> tuple[float, int]:
    """One scheduled run that must expire nothing: its CPU milliseconds and log bytes."""
    from bench.expirer_scaling import EXPIRER_RULE
    from sandbox.lambda_events import scheduled_event

    with captured_stdout() as logs:
        started = time.process_time()
        run = expirer.invoke(scheduled_event(EXPIRER_RULE))
        expirer_ms = (time.process_time() - started) * 1000
    if run.get("expired") != 0:
        raise RuntimeError(f"the expirer expired confirmed payments: {run}")
    return expirer_ms, logs.bytes_written


def _paid_payment_bytes(stored: list[dict[str, Any]]) -> float:
    """Median bytes a paid payment keeps: in the table and, keys only, in the by-status index."""
    index_bytes = median(
        [float(item_size({k: i[k] for k in ("payment_id", "status_group", "created_at")})) for i in stored]
    )
    return median([float(item_size(item)) for item in stored]) + index_bytes + 2 * 100


def measure_empty_expirer_run(runs: int = 5) -> Invocation:
    """The every-minute expirer finding nothing due (the fixed monthly cost): warm median."""
    from bench.expirer_scaling import EXPIRER_RULE
    from sandbox.functions import functions
    from sandbox.lambda_events import scheduled_event

    expirer = functions()["ExpirerFunction"]
    durations, log_bytes = [], 0
    with moto_account():
        expirer.load()
        expirer.invoke(scheduled_event(EXPIRER_RULE))  # warm up
        for _ in range(runs):
            with captured_stdout() as logs:
                started = time.process_time()
                result = expirer.invoke(scheduled_event(EXPIRER_RULE))
                durations.append((time.process_time() - started) * 1000)
            log_bytes += logs.bytes_written
            if result.get("expired") != 0:
                raise RuntimeError(f"the expirer expired something in an empty table: {result}")
    return Invocation("ExpirerFunction", 0, median(durations), expirer.memory, False, log_bytes / runs)


def full_lifecycle_profile(earlier: dict[str, Figure] | None) -> LifecycleProfile | None:
    """Figure 3's profile (running figure 3 now when this run has not); None if it failed."""
    lifecycle = (earlier or {}).get("lifecycle_requests")
    if lifecycle is None:
        from bench import lifecycle_requests

        lifecycle = lifecycle_requests.run()
    if lifecycle.not_run is None and "profile" in lifecycle.data:
        return LifecycleProfile.from_dict(lifecycle.data["profile"])
    return None
