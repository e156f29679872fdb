"""Figure 3's counting: every DynamoDB request the product makes, step by step, and proof
that none escaped.

A ``DynamoDBCounter`` (``bench/ddb_counter.py``) sits on every DynamoDB client a product
module holds and on any created during a step; moto's own tally of the requests it served
must equal the counters' sum, or the step fails.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.ddb_counter import DynamoDBCounter, attach_counter

KINDS = ("reads", "writes", "queries", "scans")


def product_dynamodb_clients() -> list[Any]:
    """Every DynamoDB client a product module holds at module level (layer + loaded handlers)."""
    from botocore.client import BaseClient

    found: dict[int, Any] = {}
    for name, module in list(sys.modules.items()):
        if not (name.startswith("paysandbox") or name.endswith("Function_app")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, BaseClient) and value.meta.service_model.service_name == "dynamodb":
                found[id(value)] = value
    return list(found.values())


@contextmanager
def counting_new_clients(counter: DynamoDBCounter, images_from: Any) -> Iterator[None]:
    """Attach ``counter`` to any DynamoDB client created while this block runs (lazy clients)."""
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            attach_counter(client, counter, images_from=images_from)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.session.Session.create_client = original  # type: ignore[method-assign]


@contextmanager
def moto_census() -> Iterator[Counter[str]]:
    """Every DynamoDB (and Streams) request moto serves in this block, by X-Amz-Target,
    whichever client made it: the check that the counter missed nothing."""
    from moto.core.botocore_stubber import BotocoreStubber

    seen: Counter[str] = Counter()
    original = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target") or b""
        target = target.decode() if isinstance(target, bytes) else target
        if target.startswith(("DynamoDB_", "DynamoDBStreams_")):
            seen[target] += 1
        return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]


class CountedSteps:
    """Counts the product's DynamoDB requests step by step, and proves it missed none.

    The counter sits on every DynamoDB client the product modules hold now and on any created
    during a step. The benchmark's own client (``admin``) reads items around writes for exact
    write units; it has its own counter. After each step the requests moto served must equal
    the two counts added up, or the step fails.
    """

    def __init__(self, admin: Any) -> None:
        self.admin = admin
        self.counter = DynamoDBCounter()
        for client in product_dynamodb_clients():
            attach_counter(client, self.counter, images_from=admin)
        self.own = attach_counter(admin)
        self.last: dict[str, Any] = {}

    def __enter__(self) -> CountedSteps:
        return self

    def __exit__(self, *exc: object) -> None:
        # A counter left on the layer's client would keep reading items back (and be caught).
        self.counter.detach()
        self.own.detach()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.counter.reset()
        self.own.reset()
        with moto_census() as census, counting_new_clients(self.counter, self.admin):
            yield
        served = sum(n for target, n in census.items() if target.startswith("DynamoDB_"))
        counted = sum(self.counter.requests.values()) + sum(self.own.requests.values())
        if served != counted:
            raise RuntimeError(f"step {name!r}: moto served {served} DynamoDB requests, the counters saw {counted}")
        self.last = self.counter.snapshot()


@dataclass
class Step:
    name: str
    function: str
    snapshot: dict[str, Any]
    invocations: int = 1
    via_api: bool = True


@dataclass
class Lifecycle:
    """One measured lifecycle: per-step DynamoDB work, stream calls, timings, log bytes."""

    steps: list[Step] = field(default_factory=list)
    stream_calls: Counter[str] = field(default_factory=Counter)
    durations_ms: dict[str, list[float]] = field(default_factory=dict)  # per function
    log_bytes: dict[str, int] = field(default_factory=dict)  # per function


def totals(steps: list[Step]) -> dict[str, Any]:
    """The steps' snapshots added up."""
    requests: Counter[str] = Counter()
    summed: dict[str, float] = {k: 0 for k in (*KINDS, "total", "items_read", "read_units", "write_units")}
    summed["index_write_units"] = 0
    for step in steps:
        requests.update(step.snapshot["requests"])
        for key in summed:
            summed[key] += step.snapshot[key]
    return {"requests": dict(requests), **summed}
