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

import http.client
import json
import secrets
import threading
import time
from pathlib import Path

from bench.common import local_sandbox
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


def _pay(port: int, token: str, callback_url: str, numbers: range, run_id: str, errors: list[str]) -> list[str]:
    """Create and confirm v2 payments on one keep-alive connection; returns their ids."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    paid: list[str] = []
    try:
        for n in numbers:
            body = {
                "version": "v2",
                "tx_id": f"mem-{run_id}-{n}",
                "order_id": f"order-{n}",
                "user_id": "bench-user",
                "amount": 4_990,
                "callback_url": callback_url,
            }
            connection.request("POST", "/api/v2/payments", json.dumps(body), {"Content-Type": "application/json"})
            created = connection.getresponse()
            answer = json.loads(created.read())
            if created.status != 200:
                errors.append(f"create {created.status}: {answer}")
                return paid
            connection.request(
                "POST",
                "/api/v2/confirm-payment",
                json.dumps({"payment_id": answer["payment_id"]}),
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            confirmed = connection.getresponse()
            result = json.loads(confirmed.read())
            if confirmed.status != 200 or result.get("status") != "PAYMENT_COMPLETED":
                errors.append(f"confirm {confirmed.status}: {result}")
                return paid
            paid.append(answer["payment_id"])
    except Exception as error:  # a dropped connection is an error of the figure
        errors.append(f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    return paid


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
        errors: list[str] = []
        results: list[list[str]] = [[] for _ in range(CLIENTS)]
        share = PAYMENTS // CLIENTS

        def client(index: int) -> None:
            numbers = range(index * share, (index + 1) * share)
            results[index] = _pay(sandbox.api_port, token, receiver.url, numbers, run_id, errors)

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        if errors:
            raise RuntimeError(f"{len(errors)} clients failed, first: {errors[0]}")
        paid = {p for ids in results for p in ids}
        after_requests = rss_mib(pid)
        receiver.wait_for(paid, ARRIVAL_TIMEOUT_SECONDS)
        missing = paid - receiver.arrivals.keys()
        if len(paid) != PAYMENTS or missing:
            raise RuntimeError(f"{len(paid)} of {PAYMENTS} paid; {len(missing)} webhooks missing")
        after = rss_mib(pid)
        # Printed now: the sandbox's stop (its final state save) can still fail the figure.
        print(f"[bench] figure 9: {idle:.0f} MiB idle, {after:.0f} MiB after {PAYMENTS:,} payments", flush=True)

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
