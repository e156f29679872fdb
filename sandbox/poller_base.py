"""The poller thread every event source shares: poll, and when idle wait for a write (see
``sandbox.wakeups``), a stop, or the fallback interval; plus the helpers batch responses and
filters need."""

from __future__ import annotations

import threading
import traceback
from typing import Any

from sandbox.event_filter import matches_any
from sandbox.functions import Function
from sandbox.wakeups import Wakeups

IDLE_WAIT_SECONDS = 0.25  # Lambda polls a stream about four times a second (here: the fallback)


class Poller(threading.Thread):
    """A daemon thread running ``poll_once`` until stopped; ``poll_once`` returns whether there was work."""

    def __init__(self, function: Function, event_name: str, wakeups: Wakeups | None = None):
        super().__init__(name=f"{function.logical_id}.{event_name}", daemon=True)
        self.function = function
        self.event_name = event_name
        self.idle_seconds = IDLE_WAIT_SECONDS
        self.wakeups = wakeups
        self.polls = 0  # how many times poll_once ran
        self._stopping = threading.Event()
        self._wake = threading.Event()  # set by a write (see sandbox.wakeups) or by stop()
        self.wakes_on = ""  # the service whose writes wake this poller (subclasses set it)

    def run(self) -> None:
        if self.wakeups is not None:
            self.wakeups.subscribe(self.wakes_on, self._wake)
        try:
            while not self._stopping.is_set():
                self._wake.clear()  # a write from here on wakes the wait below at once
                try:
                    self.polls += 1
                    busy = self.poll_once()
                except Exception:  # the emulator going away at shutdown, or a bug: keep the poller alive
                    if self._stopping.is_set():
                        return
                    traceback.print_exc()
                    busy = False
                if not busy:
                    self.sleep(self.idle_wait())
        finally:
            if self.wakeups is not None:
                self.wakeups.unsubscribe(self.wakes_on, self._wake)

    def sleep(self, seconds: float) -> None:
        """Idle until a write wakes the poller, it is stopped, or ``seconds`` pass."""
        self._wake.wait(seconds)

    def idle_wait(self) -> float:
        return self.idle_seconds

    def poll_once(self) -> bool:
        raise NotImplementedError

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        self._wake.set()
        if self.is_alive():
            self.join(timeout)
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False)

    def invoke(self, event: dict[str, Any]) -> tuple[Any, bool]:
        """(response, ok): a raised exception is a failed invocation, as in Lambda."""
        try:
            return self.function.invoke(event), True
        except Exception:
            traceback.print_exc()
            return None, False


def failed_identifiers(response: Any, identifiers: list[str]) -> list[str] | None:
    """The partial batch response's failed ids; None means the whole batch failed (invalid response)."""
    if response is None:
        return []
    if not isinstance(response, dict):
        return []
    failures = response.get("batchItemFailures")
    if failures is None:
        return []
    ids = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in identifiers:
            return None
        ids.append(identifier)
    return ids


def passes(filter_criteria: dict[str, Any] | None, record: dict[str, Any]) -> bool:
    """FilterCriteria: a record passes when any filter's pattern matches (no filters: all pass)."""
    filters = (filter_criteria or {}).get("Filters") or []
    return not filters or matches_any([f["Pattern"] for f in filters], record)
