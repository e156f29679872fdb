"""Wake the stream and queue pollers when something in this process writes.

Lambda's pollers effectively see a record as soon as it is written; a poller that sleeps
between reads adds half its interval to every webhook. The sandbox knows when a write
happens: every handler's AWS client is made from boto3's default session, so an
``after-call`` hook on that session sees each successful DynamoDB or SQS call that may feed
a stream or a queue. The hook only wakes the pollers: they still read the real stream and
queue through the emulator, and their periodic poll stays as the fallback (for writes from
outside this process, e.g. the AWS CLI against the emulator, and for delayed SQS messages).

The product code knows nothing of this: the hook is registered on the session here, in the
sandbox process, before any handler module creates its clients.
"""

from __future__ import annotations

import threading
from typing import Any

# Operations that never change a table or a queue (everything else may, and wakes the pollers).
READ_PREFIXES = ("Get", "Query", "Scan", "Describe", "List", "Receive", "BatchGet", "TransactGet")


class Wakeups:
    """Events to set when a service was written to; each poller subscribes its own for the
    service it reads (a stream poller ``dynamodb``, a queue poller ``sqs``), so a write wakes
    only the pollers that may find something new."""

    def __init__(self) -> None:
        self._events: list[tuple[str, threading.Event]] = []
        self._lock = threading.Lock()
        self.writes = 0  # how many writes were seen

    def subscribe(self, service: str, event: threading.Event) -> None:
        with self._lock:
            self._events.append((service, event))

    def unsubscribe(self, service: str, event: threading.Event) -> None:
        with self._lock:
            if (service, event) in self._events:
                self._events.remove((service, event))

    def notify(self, service: str) -> None:
        with self._lock:
            self.writes += 1
            events = [event for subscribed, event in self._events if subscribed == service]
        for event in events:
            event.set()

    def after_call(self, model: Any = None, http_response: Any = None, event_name: str = "", **_: Any) -> None:
        """botocore ``after-call.<service>.<operation>`` handler: a successful write wakes that service's pollers."""
        name = getattr(model, "name", "")
        ok = http_response is None or getattr(http_response, "status_code", 200) < 300
        if ok and not name.startswith(READ_PREFIXES):
            self.notify(event_name.split(".")[1] if event_name.count(".") >= 2 else "")

    def watch(self, events: Any) -> None:
        """Register on a botocore event system (``boto3.DEFAULT_SESSION.events``)."""
        for service in ("dynamodb", "sqs"):
            events.register(f"after-call.{service}", self.after_call, unique_id=f"sandbox-wakeups-{service}")


# The sandbox's one instance: run.py watches boto3's default session with it, pollers subscribe.
WRITES = Wakeups()


def watch_default_session() -> None:
    """Every client boto3.client(...) creates from now on wakes the pollers after a write."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    WRITES.watch(boto3.DEFAULT_SESSION.events)
