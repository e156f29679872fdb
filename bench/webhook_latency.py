"""Figure 5 - local sandbox webhook latency. NOT IMPLEMENTED YET.

To fill in (needs the local sandbox, `make run`): start the sandbox on free 127.0.0.1 ports
and a local HTTP receiver; create 100 payments whose webhook_url is the receiver, confirm
each through the operator API over HTTP, and time from the confirm response to the webhook's
arrival (match on payment_id, verify the signature). Report p50 / p95 with
``bench.common.percentile``; every one of the 100 webhooks must arrive exactly once.
"""

from __future__ import annotations

from bench.report import Figure

NUMBER = 5
NAME = "local sandbox webhook latency (100 confirms)"
TARGET = "p50 <= 300 ms, p95 <= 1 s"


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    raise NotImplementedError("needs the local sandbox (make run) with webhook delivery")
