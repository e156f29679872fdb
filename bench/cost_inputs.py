"""Figure 7's measured inputs: figure 3's full lifecycle profile, or (only when figure 3
failed) a partial lifecycle measured here, and one empty expirer run (the fixed schedule cost).
"""

from __future__ import annotations

import json
import os
import time

from bench.common import captured_stdout, median, moto_account
from bench.cost_pricing import SAMPLE_LIFECYCLES, Invocation, LifecycleProfile
from bench.ddb_counter import attach_counter, item_size
from bench.report import Figure


def measure_partial_lifecycle(count: int = SAMPLE_LIFECYCLES) -> tuple[LifecycleProfile, Invocation]:
    """create invoice -> operator confirm, ``count`` times, then one expirer run (nothing due).

    Returns the per-lifecycle profile and the expirer's empty run (priced as a fixed cost).
    """
    from bench.expirer_scaling import EXPIRER_RULE
    from bench.handler_overhead import invoice_event
    from sandbox.apigw import proxy_event
    from sandbox.functions import functions
    from sandbox.lambda_events import scheduled_event

    found = functions()
    create, confirm, expirer = found["CreatePaymentFunction"], found["ConfirmFunction"], found["ExpirerFunction"]
    token = "Bearer " + os.environ["SERVICE_AUTH_TOKEN"]
    with moto_account() as admin:
        for function in (create, confirm, expirer):
            function.load()
        from paysandbox.repository import dynamodb

        timings: dict[str, list[float]] = {"create": [], "confirm": []}
        log_bytes: dict[str, int] = {}
        ids: list[str] = []
        with attach_counter(dynamodb) as counter:
            for phase, function in (("create", create), ("confirm", confirm)):
                with captured_stdout() as logs:
                    for i in range(count):
                        if phase == "create":
                            event = invoice_event(f"lifecycle-{i}")
                        else:
                            body = json.dumps({"payment_id": ids[i]})
                            headers = {"Content-Type": "application/json", "Authorization": token}
                            event = proxy_event("POST", "/api/v2/confirm-payment", headers=headers, body=body)
                        started = time.process_time()
                        response = function.invoke(event)
                        timings[phase].append((time.process_time() - started) * 1000)
                        answer = json.loads(response["body"])
                        if response["statusCode"] != 200:
                            raise RuntimeError(f"{phase} failed: {response}")
                        if phase == "create":
                            ids.append(answer["payment_id"])
                        elif answer["status"] != "PAYMENT_COMPLETED":
                            raise RuntimeError(f"confirm did not complete: {answer}")
                log_bytes[phase] = logs.bytes_written
            per_lifecycle = counter.snapshot()
            counter.reset()
            with captured_stdout() as logs:
                started = time.process_time()
                run = expirer.invoke(scheduled_event(EXPIRER_RULE))
                expirer_ms = (time.process_time() - started) * 1000
            if run.get("expired") != 0:
                raise RuntimeError(f"the expirer expired confirmed payments: {run}")
            expirer_logs = logs.bytes_written

        stored = [admin.get_item(TableName="Payments", Key={"payment_id": {"S": p}})["Item"] for p in ids[:20]]
        if any(item["status"]["S"] != "paid" for item in stored):
            raise RuntimeError("a confirmed payment is not stored as paid")
    # A paid payment lives in the table and, keys only, in the by-status index.
    index_bytes = median(
        [float(item_size({k: i[k] for k in ("payment_id", "status_group", "created_at")})) for i in stored]
    )
    stored_bytes = median([float(item_size(item)) for item in stored]) + index_bytes + 2 * 100

    profile = LifecycleProfile(
        label="PARTIAL: create invoice + operator confirm (+ expirer finds nothing); "
        "no checkout, no webhook delivery yet",
        partial=True,
        invocations=[
            Invocation(
                "CreatePaymentFunction", 1, median(timings["create"]), create.memory, True, log_bytes["create"] / count
            ),
            Invocation(
                "ConfirmFunction", 1, median(timings["confirm"]), confirm.memory, True, log_bytes["confirm"] / count
            ),
        ],
        dynamodb_read_units=per_lifecycle["read_units"] / count,
        dynamodb_write_units=per_lifecycle["write_units"] / count,
        dynamodb_requests={k: v / count for k, v in per_lifecycle["requests"].items()},
        stored_bytes=stored_bytes,
    )
    return profile, Invocation("ExpirerFunction", 0, expirer_ms, expirer.memory, False, float(expirer_logs))


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
