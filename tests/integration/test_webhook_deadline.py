"""One total deadline per webhook attempt: ``WEBHOOK_TIMEOUT_SECONDS`` bounds
resolution, connect (the next address too), sending and the whole response.

The receivers are real servers on 127.0.0.1; one trickles its answer one byte a second, so
no single socket read ever times out. The assertions read what the product recorded for each
attempt (outcome, error, duration) through the operator API.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator

import pytest

from harness.receiver import Receiver, Reply
from paysandbox import targets
from tests.integration.conftest import Pipeline
from tests.support import OPERATOR, on_payment, v2_body

DEADLINE = 2.0
SLACK_MS = 900  # scheduling on a loaded 2-core machine; far below a second trickled byte


def _paid(merchant, operator, url: str, tx: str) -> str:
    assert merchant.call("POST", "/api/v2/payments", v2_body(tx_id=tx, callback_url=url))[0] == 200
    assert operator.call("POST", "/api/v2/confirm-payment", {"payment_id": f"pay_{tx}"}, headers=OPERATOR)[0] == 200
    return f"pay_{tx}"


def _attempts(operator, payment_id: str) -> list[dict]:
    status, body, _ = on_payment(operator, "GET", payment_id, "/webhooks", headers=OPERATOR)
    assert status == 200
    return list(body["deliveries"])


def _ended_at_the_deadline(attempt: dict) -> None:
    assert attempt["outcome"] == "failed" and attempt["response_status"] is None
    assert f"timed out after {DEADLINE:g}s" in attempt["error"]
    assert DEADLINE * 1000 - 50 <= attempt["duration_ms"] <= DEADLINE * 1000 + SLACK_MS, attempt["duration_ms"]


@pytest.fixture
def deadline(settings_env: pytest.MonkeyPatch) -> float:
    settings_env.setenv("WEBHOOK_TIMEOUT_SECONDS", str(DEADLINE))
    return DEADLINE


def test_a_trickling_receiver_costs_one_deadline_and_holds_no_one_else_up(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, deadline: float
) -> None:
    receiver.plan = lambda request, n: Reply(200, b"ok", trickle=1.0) if request.path == "/slow" else Reply(200)
    slow = _paid(merchant, operator, receiver.url("/slow"), "tx-slow")
    other = _paid(merchant, operator, receiver.url("/other"), "tx-other")

    pipeline.pump_stream()  # one batch, the trickling merchant first

    (slow_attempt,) = _attempts(operator, slow)
    _ended_at_the_deadline(slow_attempt)
    (other_attempt,) = _attempts(operator, other)
    assert other_attempt["outcome"] == "delivered"
    # The other merchant's webhook went out one deadline after the slow one started, not after
    # the slow receiver finished (its 60-odd bytes at one a second would take a minute).
    from datetime import datetime

    started = {a["payment_id"]: datetime.fromisoformat(a["timestamp"]) for a in (slow_attempt, other_attempt)}
    waited = (started[other] - started[slow]).total_seconds()
    assert waited <= DEADLINE + SLACK_MS / 1000, waited


def test_the_next_address_after_a_refused_connect_shares_the_same_deadline(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, deadline: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hooks.merchant.test resolves to 127.0.0.2 (nothing listens there: refused) and then to
    # 127.0.0.1, where the receiver trickles.
    addresses = [ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.1")]
    monkeypatch.setattr(targets, "resolve", lambda host, port: addresses)
    receiver.plan = lambda request, n: Reply(200, b"ok", trickle=1.0)
    port = receiver.server.server_address[1]
    payment_id = _paid(merchant, operator, f"http://hooks.merchant.test:{port}/hook", "tx-two")

    pipeline.pump_stream()

    assert len(receiver.requests) == 1  # the second address was tried ...
    (attempt,) = _attempts(operator, payment_id)
    _ended_at_the_deadline(attempt)  # ... within the one deadline


@pytest.fixture
def hanging_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A resolver that answers only when the test ends (getaddrinfo has no timeout)."""
    released = threading.Event()

    def resolve(host: str, port: int) -> list[ipaddress.IPv4Address]:
        released.wait(60)
        raise OSError("resolver gave up")

    monkeypatch.setattr(targets, "resolve", resolve)
    yield released
    released.set()


def test_resolution_counts_against_the_deadline(
    pipeline: Pipeline, merchant, operator, deadline: float, hanging_dns: threading.Event
) -> None:
    payment_id = _paid(merchant, operator, "http://slow-dns.merchant.test/hook", "tx-dns")
    pipeline.pump_stream()
    (attempt,) = _attempts(operator, payment_id)
    _ended_at_the_deadline(attempt)
    assert "resolving the host" in attempt["error"]
