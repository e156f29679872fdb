"""Figure 3 - DynamoDB requests per full checkout lifecycle. NOT IMPLEMENTED YET.

To fill in (needs the checkout and webhook_sender functions): under moto (``moto_account``),
attach ``bench.ddb_counter.attach_counter(paysandbox.repository.dynamodb)`` (and any other
DynamoDB / DynamoDB Streams client the sender uses), then run one lifecycle through the real
handlers: create invoice -> checkout with card 4444 -> submit the one-time code -> paid ->
the stream record handed to WebhookSenderFunction -> webhook delivered once to a local
receiver. ``counter.snapshot()`` gives reads / writes / queries / scans separately.

Return a Figure with ``met = total <= TARGET_REQUESTS and scans == 0`` and put a
``bench.cost_model.LifecycleProfile`` (``dataclasses.asdict``) in ``data["profile"]``: the cost
model (figure 7) prices that instead of its own partial lifecycle.
"""

from __future__ import annotations

from bench.report import Figure

NUMBER = 3
NAME = "DynamoDB requests per full checkout lifecycle"
TARGET_REQUESTS = 8
TARGET = f"<= {TARGET_REQUESTS} requests, 0 scans"


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    raise NotImplementedError("needs checkout + webhook_sender functions")
