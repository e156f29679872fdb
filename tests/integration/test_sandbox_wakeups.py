"""Webhooks leave as soon as the payment is written, not on the stream poller's next tick.

``python -m sandbox`` runs as a user starts it, with the pollers' fallback period stretched to
30 s (``SANDBOX_POLL_SECONDS``): a webhook that arrives well before that was woken by the write.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.sandbox_process import TOKEN, Sandbox, start_sandbox
from tests.integration.conftest import Receiver
from tests.support import wait_for

OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
FALLBACK_SECONDS = 30
WITHIN = 15  # seconds a webhook may take here (a loaded CI machine), half the fallback period


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    started = start_sandbox(tmp_path, SANDBOX_POLL_SECONDS=str(FALLBACK_SECONDS))
    yield started
    if started.process.poll() is None:
        assert started.stop() == 0


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def create(sandbox: Sandbox, tx_id: str, callback_url: str) -> str:
    body = {
        "version": "v2",
        "tx_id": tx_id,
        "order_id": f"order-{tx_id}",
        "user_id": "user-1",
        "amount": 4990,
        "callback_url": callback_url,
    }
    status, created = sandbox.request("POST", "/api/v2/payments", body)
    assert status == 200, created
    return str(created["payment_id"])


def confirm(sandbox: Sandbox, payment_id: str) -> None:
    status, answer = sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": payment_id}, OPERATOR)
    assert status == 200 and answer["status"] == "PAYMENT_COMPLETED", answer


def test_a_confirm_wakes_the_stream_poller_instead_of_waiting_for_its_tick(sandbox: Sandbox, hooks: Receiver) -> None:
    # The poller's fallback tick is 30 s away; the webhook comes because the confirm woke it.
    for n in range(3):  # and again after the poller went back to waiting
        payment_id = create(sandbox, f"wake-{n}", hooks.url())
        confirm(sandbox, payment_id)
        wait_for(lambda n=n: len(hooks.requests) == n + 1, timeout=WITHIN)
        assert f'"payment_id": "{payment_id}"' in hooks.requests[-1].body.decode()


def test_a_burst_of_confirms_is_delivered_once_each_without_poll_ticks(sandbox: Sandbox, hooks: Receiver) -> None:
    payment_ids = [create(sandbox, f"burst-{n}", hooks.url()) for n in range(30)]
    for payment_id in payment_ids:
        confirm(sandbox, payment_id)
    wait_for(lambda: len(hooks.requests) >= len(payment_ids), timeout=WITHIN)
    delivered = sorted(r.body.decode().split('"payment_id": "')[1].split('"')[0] for r in hooks.requests)
    assert delivered == sorted(payment_ids)
