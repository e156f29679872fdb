"""Figure 3, refund path: the DynamoDB requests of one refund and of its webhook.

Run on the first lifecycle's paid payment with the same handlers, counter and stream poller:
``POST /api/payments/{id}/refunds`` (ConfirmFunction, operator token, the whole amount), then
the stream read through the template's filter and the sender invoked, as for the payment's own
webhook; the stream is read once more so the sender's bookkeeping write must be filtered out.

Target: the refund is one conditional write (plus the one read of the finder every operator
route makes); its webhook costs what a webhook costs (3 writes when delivered at once).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.lifecycle_counting import Step
    from bench.lifecycle_driver import Bench

REFUND_TARGET_WRITES = 1
REFUND_TARGET_READS = 1
WEBHOOK_TARGET_WRITES = 3
TARGET = (
    f"refund: {REFUND_TARGET_WRITES} conditional write + {REFUND_TARGET_READS} read (the finder); "
    f"its webhook <= {WEBHOOK_TARGET_WRITES} writes"
)


def run_refund(bench: Bench, payment_id: str) -> list[Step]:
    """Refund the payment in full and deliver its webhook; returns the two counted steps."""
    from sandbox.apigw import proxy_event

    bench.lifecycle.steps = []
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["SERVICE_AUTH_TOKEN"]}
    path = f"/api/payments/{payment_id}/refunds"
    with bench.step("refund (POST /api/payments/{id}/refunds)", "ConfirmFunction"):
        event = proxy_event(
            "POST",
            path,
            headers=headers,
            body="{}",
            resource="/api/payments/{payment_id}/refunds",
            path_parameters={"payment_id": payment_id},
        )
        response = bench.invoke("ConfirmFunction", event)
    if response["statusCode"] != 200 or json.loads(response["body"]).get("status") != "succeeded":
        raise RuntimeError(f"the refund answered {response['statusCode']}: {response['body']}")
    before = len(bench.receiver.requests)
    with bench.step("refund webhook (stream -> WebhookSenderFunction)", "WebhookSenderFunction", False):
        for _ in range(2):  # the refund's record, then the sender's own bookkeeping write
            passing, _read = bench.poller.poll()
            if passing:
                result = bench.invoke("WebhookSenderFunction", {"Records": passing})
                if result != {"batchItemFailures": []}:
                    raise RuntimeError(f"the sender reported failures: {result}")
    hooks = [json.loads(r.body) for r in bench.receiver.requests[before:]]
    if [h.get("event") for h in hooks] != ["payment.refunded"] or hooks[0].get("status") != "refunded":
        raise RuntimeError(f"the receiver got {hooks!r}, not one payment.refunded")
    return list(bench.lifecycle.steps)


def summary(steps: list[Step]) -> tuple[str, bool]:
    """The measured text and whether the target is met."""
    refund, webhook = (s.snapshot for s in steps)
    met = (
        refund["writes"] == REFUND_TARGET_WRITES
        and refund["reads"] <= REFUND_TARGET_READS
        and refund["queries"] == refund["scans"] == 0
        and webhook["writes"] <= WEBHOOK_TARGET_WRITES
        and webhook["reads"] + webhook["queries"] + webhook["scans"] == 0
    )
    text = (
        f"refund path {refund['total']} ({refund['reads']} read, {refund['writes']} conditional write) "
        f"+ webhook {webhook['total']} ({webhook['writes']} writes): {'met' if met else 'MISSED'} ({TARGET})"
    )
    return text, met


def as_data(steps: list[Step]) -> dict[str, Any]:
    from dataclasses import asdict

    return {"steps": [asdict(s) for s in steps], "target": TARGET}
