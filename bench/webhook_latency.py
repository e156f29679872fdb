"""Figure 5 - local sandbox webhook latency.

``python -m sandbox`` runs as a user starts it (a subprocess on free 127.0.0.1 ports) next to
a real HTTP receiver on 127.0.0.1 (threaded, answers 200). v2 payments whose
``callback_url`` is the receiver are created over HTTP and confirmed through
``POST /api/v2/confirm-payment`` (operator token) over HTTP. A payment's latency is the time
from its confirm response arriving at the client to its ``payment.completed`` webhook
arriving at the receiver (both on this process's ``perf_counter``). The path in between is
the sandbox's: DynamoDB stream -> stream poller (woken by the write, see ``sandbox.wakeups``;
its 0.25 s poll is only the fallback) -> WebhookSenderFunction (up to ``ParallelizationFactor``
batches at once) -> HTTP POST.

The figure is 100 confirms made one at a time (each after the previous webhook arrived and a
random pause within one fallback poll interval): the latency one merchant sees. A second run
of 100 confirms back to back is judged too (its p50): webhooks then queue behind the sender,
so it measures the delivery rate under a burst.

Correctness, checked before anything is reported: every one of the 200 webhooks arrived
exactly once (none missing, no duplicate, nothing for an unknown payment, also after a short
grace period), each verified with the X-Signature receiver code of docs/webhooks.md and the
``WEBHOOK_SECRET`` the sandbox was started with, and each payment then reads
``webhook_status == "delivered"`` through the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.common import local_sandbox, percentile
from bench.report import Figure
from harness.receiver import Received, Receiver, Reply
from sandbox.pollers import IDLE_WAIT_SECONDS as POLL_INTERVAL_SECONDS

NUMBER = 5
NAME = "local sandbox webhook latency (100 confirms)"
P50_TARGET_MS = 50
P95_TARGET_MS = 150
BURST_P50_TARGET_MS = 500
TARGET = f"p50 <= {P50_TARGET_MS} ms, p95 <= {P95_TARGET_MS} ms; burst p50 <= {BURST_P50_TARGET_MS} ms"
PAYMENTS = 100
ARRIVAL_TIMEOUT_SECONDS = 30  # for the last webhook after the last confirm
DUPLICATE_GRACE_SECONDS = 1.0  # a duplicate would come from the same poller within this


def spec_signature(secret: str, payload: Any) -> str:
    """X-Signature exactly as docs/webhooks.md tells receivers to compute it."""
    return hmac.new(secret.encode(), json.dumps(payload, sort_keys=True).encode(), hashlib.sha256).hexdigest()


@dataclass
class Arrival:
    at: float  # perf_counter when the request body had been read
    verified: bool
    event: str


class Arrivals:
    """What a merchant's webhook endpoint saw, per payment_id; ``serving()`` puts it behind
    the harness receiver (a real HTTP server on 127.0.0.1 answering 200)."""

    def __init__(self, secret: str):
        self.secret = secret
        self.arrivals: dict[str, list[Arrival]] = {}
        self.unreadable = 0  # bodies that were not JSON with a payment_id
        self.url = ""  # set while serving
        self._changed = threading.Condition()

    def record(self, at: float, body: bytes, signature: str) -> None:
        try:
            payload = json.loads(body)
            payment_id = str(payload["payment_id"])
        except (ValueError, KeyError, TypeError):
            with self._changed:
                self.unreadable += 1
                self._changed.notify_all()
            return
        verified = hmac.compare_digest(spec_signature(self.secret, payload), signature)
        with self._changed:
            self.arrivals.setdefault(payment_id, []).append(Arrival(at, verified, str(payload.get("event"))))
            self._changed.notify_all()

    def wait_for(self, payment_ids: set[str], timeout: float) -> None:
        """Until every one of ``payment_ids`` has arrived at least once, or the timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not payment_ids <= self.arrivals.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(left)

    @contextmanager
    def serving(self) -> Iterator[Arrivals]:
        with Receiver() as http:
            http.plan = self._answer
            self.url = http.url("/webhooks")
            yield self

    def _answer(self, request: Received, n: int) -> Reply:
        self.record(request.at, request.body, request.headers.get("X-Signature", ""))
        return Reply(200)


def check_each_arrived_once(receiver: Arrivals, confirmed: dict[str, float]) -> None:
    """Raise unless every confirmed payment's webhook arrived exactly once, verified, and nothing else came."""
    missing = sorted(set(confirmed) - receiver.arrivals.keys())
    unexpected = sorted(receiver.arrivals.keys() - set(confirmed))
    duplicated = sorted(p for p, seen in receiver.arrivals.items() if len(seen) > 1)
    unverified = sorted(p for p, seen in receiver.arrivals.items() if not all(a.verified for a in seen))
    wrong_event = sorted(
        p for p, seen in receiver.arrivals.items() if any(a.event != "payment.completed" for a in seen)
    )
    problems = {
        "missing": missing,
        "for unknown payments": unexpected,
        "delivered more than once": duplicated,
        "bad X-Signature": unverified,
        "not payment.completed": wrong_event,
    }
    found = [f"{len(ids)} {what} (e.g. {ids[:3]})" for what, ids in problems.items() if ids]
    if receiver.unreadable:
        found.append(f"{receiver.unreadable} unreadable bodies")
    if found:
        raise RuntimeError(f"webhooks of {len(confirmed)} confirmed payments: " + "; ".join(found))


def check_recorded_as_delivered(sandbox: Any, token: str, payment_ids: list[str]) -> None:
    """The sandbox recorded each delivery as the receiver saw it (the operator's list, one page)."""
    status, listing = sandbox.request(
        "GET", "/api/v2/pending-payments?status=completed&limit=500", headers={"Authorization": f"Bearer {token}"}
    )
    if status != 200 or listing.get("next_cursor"):
        raise RuntimeError(f"list completed payments: {status} {str(listing)[:300]}")
    views = listing["payments"]
    wrong = [p for p in payment_ids if views.get(p, {}).get("webhook_status") != "delivered"]
    if wrong:
        raise RuntimeError(f"{len(wrong)} payments not recorded as delivered, e.g. {views.get(wrong[0])}")


def create_payments(sandbox: Any, callback_url: str, prefix: str) -> list[str]:
    payment_ids = []
    for i in range(PAYMENTS):
        body = {
            "version": "v2",
            "tx_id": f"{prefix}-{i}",
            "order_id": f"order-{i}",
            "user_id": "bench-user",
            "amount": 4_990,
            "callback_url": callback_url,
        }
        status, created = sandbox.request("POST", "/api/v2/payments", body)
        if status != 200 or created.get("status") != "PENDING":
            raise RuntimeError(f"create v2 payment: {status} {created}")
        payment_ids.append(created["payment_id"])
    return payment_ids


def confirm(sandbox: Any, payment_id: str, token: str) -> float:
    """Confirm over HTTP as the operator; returns perf_counter when the response had been read."""
    status, answer = sandbox.request(
        "POST", "/api/v2/confirm-payment", {"payment_id": payment_id}, {"Authorization": f"Bearer {token}"}
    )
    answered = time.perf_counter()
    if status != 200 or answer.get("status") != "PAYMENT_COMPLETED":
        raise RuntimeError(f"confirm {payment_id}: {status} {answer}")
    return answered


def latencies_ms(receiver: Arrivals, confirmed: dict[str, float]) -> list[float]:
    return [(receiver.arrivals[p][0].at - answered) * 1000 for p, answered in confirmed.items()]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.50), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "max_ms": round(max(values), 1),
        "min_ms": round(min(values), 1),
    }


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    run_id = secrets.token_hex(4)  # tx_ids unique per run, though every run starts a fresh sandbox
    token, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(16)  # the sandbox's, for this run
    receiver = Arrivals(secret)
    with (
        receiver.serving(),
        local_sandbox(SERVICE_AUTH_TOKEN=token, WEBHOOK_SECRET=secret, ALLOW_PRIVATE_WEBHOOK_TARGETS="true") as sandbox,
    ):
        one_by_one = confirm_one_at_a_time(sandbox, receiver, token, f"bench-{run_id}-single")
        burst, confirm_seconds, delivery_seconds = confirm_in_a_burst(sandbox, receiver, token, f"bench-{run_id}-burst")
        time.sleep(DUPLICATE_GRACE_SECONDS)
        check_each_arrived_once(receiver, {**one_by_one, **burst})
        check_recorded_as_delivered(sandbox, token, [*one_by_one, *burst])

    single = summary(latencies_ms(receiver, one_by_one))
    burst_latencies = latencies_ms(receiver, burst)
    queued = summary(burst_latencies)
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=f"p50 {single['p50_ms']:.0f} ms, p95 {single['p95_ms']:.0f} ms (max {single['max_ms']:.0f} ms);"
        f" burst of {PAYMENTS}: p50 {queued['p50_ms'] / 1000:.1f} s, p95 {queued['p95_ms'] / 1000:.1f} s",
        met=single["p50_ms"] <= P50_TARGET_MS
        and single["p95_ms"] <= P95_TARGET_MS
        and queued["p50_ms"] <= BURST_P50_TARGET_MS,
        data={
            "payments": PAYMENTS,
            "one_at_a_time": single,
            "burst": {
                **queued,
                "confirms_per_second": round(PAYMENTS / confirm_seconds, 1),
                "webhooks_per_second": round(PAYMENTS / delivery_seconds, 1),
                # The stream poller may run the sender while the confirm response is on its way.
                "arrived_before_confirm_response": sum(1 for ms in burst_latencies if ms < 0),
            },
            "delivered_exactly_once_and_verified": len(one_by_one) + len(burst),
        },
    )


def confirm_one_at_a_time(sandbox: Any, receiver: Arrivals, token: str, prefix: str) -> dict[str, float]:
    """The figure: one confirm at a time, as an operator or a test suite does; each after its
    predecessor's webhook and a random pause within one stream poll interval, so the confirms
    fall at every point of the poller's cycle. Payment id -> when its confirm was answered."""
    pace = random.Random(NUMBER)  # the same think times every run
    confirmed: dict[str, float] = {}
    for payment_id in create_payments(sandbox, receiver.url, prefix):
        time.sleep(pace.uniform(0, POLL_INTERVAL_SECONDS))
        confirmed[payment_id] = confirm(sandbox, payment_id, token)
        receiver.wait_for({payment_id}, ARRIVAL_TIMEOUT_SECONDS)
    return confirmed


def confirm_in_a_burst(
    sandbox: Any, receiver: Arrivals, token: str, prefix: str
) -> tuple[dict[str, float], float, float]:
    """PAYMENTS confirms back to back (one client, as fast as it can): webhooks queue behind the
    sender, so this shows the sandbox's delivery rate; latencies grow with the burst. Returns
    when each confirm was answered, and the seconds the confirms and the deliveries took."""
    burst: dict[str, float] = {}
    burst_ids = create_payments(sandbox, receiver.url, prefix)
    started = time.perf_counter()
    for payment_id in burst_ids:
        burst[payment_id] = confirm(sandbox, payment_id, token)
    confirm_seconds = time.perf_counter() - started
    receiver.wait_for(set(burst), ARRIVAL_TIMEOUT_SECONDS)
    delivery_seconds = max(receiver.arrivals[p][0].at for p in burst if p in receiver.arrivals) - started
    return burst, confirm_seconds, delivery_seconds


def details(figure: Figure) -> list[str]:
    data = figure.data
    single, burst = data["one_at_a_time"], data["burst"]
    return [
        f"Figure 5: confirm response -> webhook at a 127.0.0.1 receiver, {data['payments']} v2 payments confirmed"
        f" over HTTP one at a time: min {single['min_ms']} ms, p50 {single['p50_ms']} ms,"
        f" p95 {single['p95_ms']} ms, max {single['max_ms']} ms (the target's figure).",
        f"  Burst of {data['payments']} confirms back to back ({burst['confirms_per_second']} confirms/s):"
        f" webhooks delivered at {burst['webhooks_per_second']}/s (up to ParallelizationFactor batches at once),"
        f" so they queue: p50 {burst['p50_ms']} ms, p95 {burst['p95_ms']} ms, max {burst['max_ms']} ms.",
        f"  All {data['delivered_exactly_once_and_verified']} webhooks arrived exactly once with a valid X-Signature.",
    ]
