"""Figure 8 - local gateway overhead.

``POST /api/create-invoice`` over HTTP through the local API Gateway stand-in
(``sandbox.gateway``: a keep-alive ``http.client`` connection, the threaded server, routing,
the proxy event, the response) against the same CreatePaymentFunction handler called in
this process with the same proxy event, both under moto, interleaved with alternating order,
median per call. The difference is what the local gateway adds to every request; before
TCP_NODELAY and one send per response, Nagle's algorithm alone added ~40 ms of waiting.

Judged in CPU time of the whole process (``time.process_time`` covers the client and the
server thread alike), as figures 1 and 2 are: on this shared 2-core machine every thread
hand-off of the HTTP side also waits for a free core, which is load, not gateway work. Wall
medians are shown beside it, and a Nagle-type stall would show there at once (tens of ms).

Correctness: every answer is 200 with a new pending payment, and every payment is stored.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import captured_stdout, interleaved, median, moto_account, shown_ratio
from bench.keep_alive import KeepAliveClient
from bench.report import Figure

NUMBER = 8
NAME = "local gateway overhead, POST /api/create-invoice over HTTP vs in-process"
TARGET_RATIO = 1.3
TARGET = f"<= {TARGET_RATIO}x"
WARMUP = 30
ITERATIONS = 400
FUNCTION = "CreatePaymentFunction"


def _body(reference: str) -> bytes:
    return json.dumps(
        {
            "amount": 12_500,
            "reference": reference,
            "webhook_url": "https://merchant.example.com/hooks",
            "redirect_url": "https://merchant.example.com/thanks",
        }
    ).encode()


Timings = list[tuple[float, float]]  # (wall, cpu) seconds per call


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    over_http, in_process = measure()
    http_ms, direct_ms = (median([cpu for _, cpu in side]) * 1000 for side in (over_http, in_process))
    http_wall, direct_wall = (median([wall for wall, _ in side]) * 1000 for side in (over_http, in_process))
    ratio = shown_ratio(http_ms / direct_ms)
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=f"{ratio:.2f}x CPU ({http_ms:.2f} vs {direct_ms:.2f} ms; wall {http_wall:.1f} vs {direct_wall:.1f})",
        met=ratio <= TARGET_RATIO,
        data={
            "iterations": ITERATIONS,
            "ratio": ratio,
            "http_median_ms": round(http_ms, 3),
            "in_process_median_ms": round(direct_ms, 3),
            "overhead_ms": round(http_ms - direct_ms, 3),
            "http_wall_median_ms": round(http_wall, 3),
            "in_process_wall_median_ms": round(direct_wall, 3),
        },
    )


def measure() -> tuple[Timings, Timings]:
    """The same create-invoice over HTTP through the gateway and in-process, interleaved under moto.

    Raises unless every invoice answered 200 is stored, once.
    """
    from sandbox.apigw import proxy_event
    from sandbox.functions import functions
    from sandbox.gateway import Gateway, api_routes

    created: list[str] = []
    with moto_account() as dynamodb, captured_stdout():
        loaded = functions()
        gateway = Gateway(api_routes(loaded), port=0).start()
        function = loaded[FUNCTION]
        client = KeepAliveClient(gateway.server.server_address[1])
        try:

            def via_http(n: int) -> tuple[float, float]:
                started, cpu = time.perf_counter(), time.process_time()
                status, answer = client.send("POST", "/api/create-invoice", _body(f"via_http-{n}"))
                elapsed = time.perf_counter() - started, time.process_time() - cpu
                _check(status, answer, created)
                return elapsed

            def direct(n: int) -> tuple[float, float]:
                started, cpu = time.perf_counter(), time.process_time()
                event = proxy_event(
                    "POST",
                    "/api/create-invoice",
                    resource="/api/create-invoice",
                    headers={"Content-Type": "application/json"},
                    body=_body(f"direct-{n}"),
                )
                result: dict[str, Any] = function.invoke(event)
                elapsed = time.perf_counter() - started, time.process_time() - cpu
                _check(int(result["statusCode"]), str(result["body"]).encode(), created)
                return elapsed

            over_http, in_process = interleaved(via_http, direct, WARMUP, ITERATIONS)
        finally:
            client.close()
            gateway.stop()
        stored = dynamodb.describe_table(TableName="Payments")["Table"].get("ItemCount")
        count = sum(1 for _ in _scan_ids(dynamodb))
    if count != len(created) or len(set(created)) != len(created):
        raise RuntimeError(f"{len(created)} invoices answered 200 but {count} stored (ItemCount {stored})")
    return over_http, in_process


def _check(status: int, answer: bytes, created: list[str]) -> None:
    body = json.loads(answer)
    if status != 200 or body.get("status") != "pending":
        raise RuntimeError(f"create-invoice answered {status}: {answer[:200]!r}")
    created.append(body["payment_id"])


def _scan_ids(dynamodb: Any) -> Any:
    """Every stored payment id (the benchmark's own check; the product never scans)."""
    for page in dynamodb.get_paginator("scan").paginate(TableName="Payments", ProjectionExpression="payment_id"):
        yield from page["Items"]


def details(figure: Figure) -> list[str]:
    data = figure.data
    return [
        f"Figure 8: {data['iterations']} create-invoice requests each way, interleaved: over HTTP through the local"
        f" gateway (keep-alive) median {data['http_median_ms']} ms CPU, the same handler in-process"
        f" {data['in_process_median_ms']} ms: the gateway adds {data['overhead_ms']} ms of work per request;"
        f" wall medians {data['http_wall_median_ms']} vs {data['in_process_wall_median_ms']} ms.",
    ]
