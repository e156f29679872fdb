"""The state file's round trip on the emulator, and the webhook of a transition the stop cut off."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from harness.streams import StreamReader
from sandbox.deployment import deploy_template
from sandbox.stack import Stack
from sandbox.state import StateStore
from tests.integration.emulator import REGION, _emulator_server, emulator, stack  # noqa: F401  (fixtures)


def _payment(payment_id: str, status: str) -> dict[str, Any]:
    now = str(time.time())
    return {
        "payment_id": {"S": payment_id},
        "flavour": {"S": "invoice"},
        "status": {"S": status},
        "amount": {"N": "12500"},
        "webhook_url": {"S": "http://127.0.0.1:9/hook"},
        "created_at": {"N": now},
        "updated_at": {"N": now},
        "expires_at": {"N": now},
        "status_group": {"S": "completed" if status == "paid" else "pending"},
    }


def _stream(emulator: SimpleNamespace, stack: Stack) -> list[dict[str, Any]]:  # noqa: F811
    """Every record on the Payments stream so far."""
    return StreamReader(emulator.dynamodbstreams, stack.get_att("Payments", "StreamArn")).read_all()


def test_a_snapshot_restores_items_and_queued_jobs_with_their_remaining_delay(
    tmp_path: Path,
    emulator: SimpleNamespace,  # noqa: F811
    stack: Stack,  # noqa: F811
) -> None:
    waiting = _payment("inv_waiting", "waiting_for_otp")
    emulator.dynamodb.put_item(TableName=stack.ref("Payments"), Item=waiting)
    retry_queue = stack.attributes[("WebhookRetryQueue", "QueueUrl")]
    emulator.sqs.send_message(QueueUrl=retry_queue, MessageBody='{"job": "later"}', DelaySeconds=600)
    emulator.sqs.send_message(QueueUrl=retry_queue, MessageBody='{"job": "now"}')
    StateStore(tmp_path, stack, emulator).save({"WEBHOOK_SECRET": "kept"})

    # a fresh emulator, as after a restart
    urllib.request.urlopen(urllib.request.Request(f"{emulator.url}/moto-api/reset", method="POST"), timeout=10)
    fresh = deploy_template(emulator, REGION, {"WEBHOOK_SECRET": "kept", "SERVICE_AUTH_TOKEN": "t"}).stack
    counts = StateStore(tmp_path, fresh, emulator).restore()

    assert counts["payments"] == 1 and counts["queued jobs"] == 2
    item = emulator.dynamodb.get_item(TableName=fresh.ref("Payments"), Key={"payment_id": {"S": "inv_waiting"}})
    assert item["Item"] == waiting
    queue = fresh.attributes[("WebhookRetryQueue", "QueueUrl")]
    received = emulator.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in received] == ['{"job": "now"}']  # the other still waits its ~600 s
    attributes = emulator.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    environ = {"SERVICE_AUTH_TOKEN": "chosen"}
    assert StateStore.reuse_secrets(tmp_path, environ) == ["WEBHOOK_SECRET"]  # a generated secret stays the same
    assert environ == {"SERVICE_AUTH_TOKEN": "chosen", "WEBHOOK_SECRET": "kept"}
    assert StateStore.reuse_secrets(tmp_path, {"WEBHOOK_SECRET": "set-by-you"}) == []  # never over a chosen one


def test_a_final_transition_the_sender_never_saw_is_written_again_so_its_webhook_goes_out(
    tmp_path: Path,
    emulator: SimpleNamespace,  # noqa: F811
    stack: Stack,  # noqa: F811
) -> None:
    from paysandbox.repository.deliveries import attempt_sk
    from paysandbox.webhook_events import event_id_for

    sent_sk = attempt_sk(event_id_for("inv_sent", "paid"), 0, 1)
    state = {
        "format": 1,
        "tables": {
            "Payments": [_payment("inv_unsent", "paid"), _payment("inv_sent", "paid")],
            "WebhookLogs": [{"payment_id": {"S": "inv_sent"}, "sk": {"S": sent_sk}}],
        },
        "queues": {},
    }
    (tmp_path / "state.json").write_text(json.dumps(state))

    counts = StateStore(tmp_path, stack, emulator).restore()

    transitions = [
        (r["dynamodb"]["Keys"]["payment_id"]["S"], r["dynamodb"]["OldImage"]["status"]["S"])
        for r in _stream(emulator, stack)
        if r["eventName"] == "MODIFY" and r["dynamodb"]["NewImage"]["status"]["S"] == "paid"
    ]
    assert transitions == [("inv_unsent", "pending")]  # what the sender's stream filter passes
    assert counts["replayed events"] == 1


def test_a_refund_the_sender_saw_is_not_sent_again_and_one_it_missed_is_sent_as_the_refund(
    tmp_path: Path,
    emulator: SimpleNamespace,  # noqa: F811
    stack: Stack,  # noqa: F811
) -> None:
    from paysandbox.repository.deliveries import attempt_sk
    from paysandbox.webhook_events import event_id_for

    def refunded(payment_id: str, refund_id: str) -> dict[str, Any]:
        item = {**_payment(payment_id, "paid"), "status": {"S": "refunded"}, "status_group": {"S": "refunded"}}
        return {**item, "refund_event": {"S": refund_id}, "amount_refunded": {"N": "12500"}}

    seen_sk = attempt_sk(event_id_for("inv_seen", "refund:re_seen"), 0, 1)
    state = {
        "format": 1,
        "tables": {
            "Payments": [refunded("inv_seen", "re_seen"), refunded("inv_missed", "re_missed")],
            "WebhookLogs": [{"payment_id": {"S": "inv_seen"}, "sk": {"S": seen_sk}}],
        },
        "queues": {},
    }
    (tmp_path / "state.json").write_text(json.dumps(state))

    counts = StateStore(tmp_path, stack, emulator).restore()

    from paysandbox.refund_events import refund_id_of

    records = _stream(emulator, stack)
    announced = [refund_id_of(r) for r in records]
    assert [a for a in announced if a] == ["re_missed"]  # the refund's own record, once
    modified = {r["dynamodb"]["Keys"]["payment_id"]["S"] for r in records if r["eventName"] == "MODIFY"}
    assert "inv_seen" not in modified  # no second event (by status) for a refund already sent
    assert counts["replayed events"] == 1


def test_a_stop_does_not_wait_for_a_periodic_snapshot_and_the_final_save_has_everything(
    tmp_path: Path,
    emulator: SimpleNamespace,  # noqa: F811
    stack: Stack,  # noqa: F811
) -> None:
    import threading

    from tests.support import wait_for

    emulator.dynamodb.put_item(TableName=stack.ref("Payments"), Item=_payment("inv_kept", "pending"))
    scanning, release = threading.Event(), threading.Event()

    def hold_the_first_scan(**_: Any) -> None:
        if not scanning.is_set():
            scanning.set()
            release.wait(10)

    emulator.dynamodb.meta.events.register("before-call.dynamodb.Scan", hold_the_first_scan)
    store = StateStore(tmp_path, stack, emulator)
    store.start_snapshots({"WEBHOOK_SECRET": "kept"}, every=0.01)
    assert scanning.wait(10)  # a periodic snapshot is part-way through its first table
    stopping = threading.Thread(target=store.stop_snapshots)
    stopping.start()
    wait_for(lambda: store._stopping.is_set())
    release.set()
    stopping.join(10)

    assert not stopping.is_alive()
    assert not (tmp_path / "state.json").exists()  # abandoned, not finished: the stop's save comes next
    store.save({"WEBHOOK_SECRET": "kept"})
    saved = json.loads((tmp_path / "state.json").read_text())
    assert [i["payment_id"]["S"] for i in saved["tables"]["Payments"]] == ["inv_kept"]
