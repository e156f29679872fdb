"""Figure 6 - local sandbox throughput.

``python -m sandbox`` runs as a user starts it (a subprocess on free 127.0.0.1 ports); 8
concurrent clients, each on its own keep-alive HTTP connection (as a ``requests.Session``
would be), POST ``/api/create-invoice`` back to back for 10 s. Reported: invoices created
per second (200 answers over the time from the common start to the last answer) and the
p50 / p95 latency of a request as a client sees it.

Correctness: any non-200 answer, connection error or answer without a new payment id fails
the benchmark; afterwards the operator API must count exactly as many pending payments as
there were 200 answers (the sandbox is fresh, so every stored payment is one of ours).

What this measures: the sandbox runs each function's invocations one at a time (one warm
"container" per function, as a Lambda container handles one request at a time), so all 8
clients queue for the single CreatePaymentFunction container; the figure is that one
container's throughput on this machine (with the DynamoDB emulator in the same process),
not the deployed API's, where Lambda adds containers as concurrency grows.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import local_sandbox, percentile
from bench.keep_alive import KeepAliveClient
from bench.report import Figure

NUMBER = 6
NAME = "local sandbox throughput (8 clients, 10 s)"
TARGET = "invoices/s reported, 0 errors"
CLIENTS = 8
SECONDS = 10.0


@dataclass
class Client:
    """One client's results: latencies of its 200 answers, the payment ids, what went wrong."""

    latencies: list[float] = field(default_factory=list)  # seconds
    payment_ids: list[str] = field(default_factory=list)
    finished_at: float = 0.0
    errors: list[str] = field(default_factory=list)


def invoice_body(client: int, number: int) -> bytes:
    return json.dumps(
        {
            "amount": 12_500,
            "reference": f"bench-{client}-{number}",
            "webhook_url": "https://merchant.example.com/hooks",
            "redirect_url": "https://merchant.example.com/thanks",
        }
    ).encode()


def create_invoices(port: int, index: int, start: threading.Barrier, until: list[float], result: Client) -> None:
    """POST create-invoice back to back on one keep-alive connection until the deadline; stop at the first error."""
    with KeepAliveClient(port) as client:
        try:
            client.connect()
            start.wait()
            number = 0
            while time.perf_counter() < until[0]:
                sent = time.perf_counter()
                status, body = client.send("POST", "/api/create-invoice", invoice_body(index, number))
                answered = time.perf_counter()
                if status != 200:
                    result.errors.append(f"HTTP {status}: {body[:200]!r}")
                    return
                payment_id = json.loads(body).get("payment_id")
                if not payment_id:
                    result.errors.append(f"200 without a payment_id: {body[:200]!r}")
                    return
                result.latencies.append(answered - sent)
                result.payment_ids.append(payment_id)
                result.finished_at = answered
                number += 1
        except Exception as error:  # a refused or dropped connection is an error too
            result.errors.append(f"{type(error).__name__}: {error}")
            start.abort()  # never leave the others waiting at the barrier


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    token = secrets.token_urlsafe(16)
    with local_sandbox(SERVICE_AUTH_TOKEN=token) as sandbox:
        results, started = drive_clients(sandbox.api_port)
        payment_ids = check_every_invoice_stored(sandbox, token, results)

    latencies_ms = [s * 1000 for client in results for s in client.latencies]
    elapsed = max(client.finished_at for client in results) - started
    per_second = len(payment_ids) / elapsed
    p50, p95 = percentile(latencies_ms, 0.50), percentile(latencies_ms, 0.95)
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=f"{per_second:.0f} invoices/s, 0 errors (p50 {p50:.0f} ms, p95 {p95:.0f} ms; one container)",
        met=True,  # reached only with zero errors and every invoice stored
        data={
            "clients": CLIENTS,
            "duration_s": round(elapsed, 2),
            "invoices": len(payment_ids),
            "invoices_per_second": round(per_second, 1),
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(max(latencies_ms), 1),
            "per_client": [len(client.payment_ids) for client in results],
            "errors": 0,
            "note": "one warm container per function: the sandbox serialises invocations of CreatePaymentFunction",
        },
    )


def drive_clients(port: int) -> tuple[list[Client], float]:
    """CLIENTS clients creating invoices for SECONDS from a common start; their results and that start."""
    results = [Client() for _ in range(CLIENTS)]
    until = [0.0]  # set once every client is connected, so all get the full 10 s

    def all_connected() -> None:
        until[0] = time.perf_counter() + SECONDS

    start = threading.Barrier(CLIENTS + 1, action=all_connected)
    threads = [
        threading.Thread(target=create_invoices, args=(port, i, start, until, results[i])) for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client could not connect: reported below
        start.wait()
    for thread in threads:
        thread.join()
    return results, until[0] - SECONDS


def check_every_invoice_stored(sandbox: Any, token: str, results: list[Client]) -> list[str]:
    """Raise unless no client failed, every 200 carried a new payment id and the sandbox counts
    exactly those payments; the payment ids."""
    errors = [error for client in results for error in client.errors]
    if errors:
        raise RuntimeError(f"{len(errors)} of {CLIENTS} clients failed, first: {errors[0]}")
    payment_ids = [p for client in results for p in client.payment_ids]
    if len(set(payment_ids)) != len(payment_ids):
        raise RuntimeError("two 200 answers carried the same payment id")
    status, listing = sandbox.request(
        "GET", "/api/v2/pending-payments?status=pending&limit=1", headers={"Authorization": f"Bearer {token}"}
    )
    if status != 200 or listing.get("pending_count") != len(payment_ids):
        raise RuntimeError(f"{len(payment_ids)} invoices answered 200 but the sandbox counts {listing}")
    return payment_ids


def details(figure: Figure) -> list[str]:
    data = figure.data
    return [
        f"Figure 6: {data['invoices']} invoices from {data['clients']} keep-alive clients in {data['duration_s']} s"
        f" = {data['invoices_per_second']}/s, 0 errors, all stored; latency p50 {data['p50_ms']} ms,"
        f" p95 {data['p95_ms']} ms, max {data['max_ms']} ms; per client {data['per_client']}.",
        "  The sandbox runs one invocation at a time per function (one warm container, like a Lambda"
        " container), so this is one CreatePaymentFunction container's throughput; the 8 clients queue for it.",
    ]
