"""Figure 9 - local sandbox memory.

``python -m sandbox`` runs as a user starts it (a subprocess on free 127.0.0.1 ports). Its
resident set size (``VmRSS`` from ``/proc/<pid>/status``) is read once it is up and idle,
then after 5,000 v2 payments were created and confirmed over HTTP by 4 keep-alive clients,
each confirmation's webhook delivered to a receiver on 127.0.0.1 (the stream poller, the
sender and the emulator all do their work), and once more after the last webhook arrived.
The payments stay in the emulator's memory, as they would in a sandbox used for a day; the
target is that the process grows by less than half of what it needs idle.

Correctness: every create and confirm answered 200 and every webhook arrived.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path

from bench.common import local_sandbox
from bench.keep_alive import KeepAliveClient
from bench.report import Figure
from bench.webhook_latency import Arrivals

NUMBER = 9
NAME = "local sandbox memory (RSS), idle vs after 5,000 payments"
TARGET_RATIO = 1.5
TARGET = f"after <= {TARGET_RATIO}x idle"
PAYMENTS = 5_000
CLIENTS = 4
ARRIVAL_TIMEOUT_SECONDS = 120


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _payment_body(run_id: str, n: int, callback_url: str) -> dict[str, object]:
    return {
        "version": "v2",
        "tx_id": f"mem-{run_id}-{n}",
        "order_id": f"order-{n}",
        "user_id": "bench-user",
        "amount": 4_990,
        "callback_url": callback_url,
    }


class Refused(RuntimeError):
    """The sandbox answered a create or confirm with something other than success."""


def _create_and_confirm(client: KeepAliveClient, token: str, body: dict[str, object]) -> str:
    """One v2 payment created, then confirmed by the operator; its id. Raises ``Refused``."""
    status, raw = client.send("POST", "/api/v2/payments", body)
    answer = json.loads(raw)
    if status != 200:
        raise Refused(f"create {status}: {answer}")
    confirm = {"payment_id": answer["payment_id"]}
    status, raw = client.send("POST", "/api/v2/confirm-payment", confirm, {"Authorization": f"Bearer {token}"})
    result = json.loads(raw)
    if status != 200 or result.get("status") != "PAYMENT_COMPLETED":
        raise Refused(f"confirm {status}: {result}")
    return str(answer["payment_id"])


def _pay(port: int, token: str, callback_url: str, numbers: range, run_id: str, errors: list[str]) -> list[str]:
    """Create and confirm v2 payments on one keep-alive connection; returns their ids.

    The first failure stops this client and is appended to ``errors``."""
    paid: list[str] = []
    with KeepAliveClient(port) as client:
        try:
            for n in numbers:
                paid.append(_create_and_confirm(client, token, _payment_body(run_id, n, callback_url)))
        except Refused as refused:
            errors.append(str(refused))
        except Exception as error:  # a dropped connection is an error of the figure
            errors.append(f"{type(error).__name__}: {error}")
    return paid


def _pay_concurrently(port: int, token: str, callback_url: str, run_id: str) -> set[str]:
    """``PAYMENTS`` paid by ``CLIENTS`` threads, each on its own connection; their ids."""
    errors: list[str] = []
    results: list[list[str]] = [[] for _ in range(CLIENTS)]
    share = PAYMENTS // CLIENTS

    def client(index: int) -> None:
        numbers = range(index * share, (index + 1) * share)
        results[index] = _pay(port, token, callback_url, numbers, run_id, errors)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed, first: {errors[0]}")
    return {p for ids in results for p in ids}


def _wait_for_every_webhook(receiver: Arrivals, paid: set[str]) -> None:
    receiver.wait_for(paid, ARRIVAL_TIMEOUT_SECONDS)
    missing = paid - receiver.arrivals.keys()
    if len(paid) != PAYMENTS or missing:
        raise RuntimeError(f"{len(paid)} of {PAYMENTS} paid; {len(missing)} webhooks missing")


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    token, secret, run_id = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_hex(4)
    receiver = Arrivals(secret)
    with (
        receiver.serving(),
        local_sandbox(SERVICE_AUTH_TOKEN=token, WEBHOOK_SECRET=secret, ALLOW_PRIVATE_WEBHOOK_TARGETS="true") as sandbox,
    ):
        pid = sandbox.process.pid
        time.sleep(1.0)  # settle: the banner is printed just before the pollers' first reads
        idle = rss_mib(pid)
        started = time.perf_counter()
        paid = _pay_concurrently(sandbox.api_port, token, receiver.url, run_id)
        seconds = time.perf_counter() - started
        after_requests = rss_mib(pid)
        _wait_for_every_webhook(receiver, paid)
        after = rss_mib(pid)
        # Printed now: the sandbox's stop (its final state save) can still fail the figure.
        print(f"[bench] figure 9: {idle:.0f} MiB idle, {after:.0f} MiB after {PAYMENTS:,} payments", flush=True)
    return _figure(idle, after_requests, after, seconds)


def _figure(idle: float, after_requests: float, after: float, seconds: float) -> Figure:
    ratio = after / idle
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=f"{ratio:.2f}x ({idle:.0f} MiB idle, {after:.0f} MiB after {PAYMENTS:,} paid and delivered)",
        met=ratio <= TARGET_RATIO,
        data={
            "payments": PAYMENTS,
            "idle_mib": round(idle, 1),
            "after_requests_mib": round(after_requests, 1),
            "after_webhooks_mib": round(after, 1),
            "ratio": round(ratio, 3),
            "seconds": round(seconds, 1),
        },
    )


def details(figure: Figure) -> list[str]:
    data = figure.data
    return [
        f"Figure 9: RSS {data['idle_mib']} MiB idle; {data['after_requests_mib']} MiB after {data['payments']:,}"
        f" v2 payments created and confirmed in {data['seconds']} s by {CLIENTS} keep-alive clients;"
        f" {data['after_webhooks_mib']} MiB once every webhook had arrived (the data stays in the emulator).",
    ]
