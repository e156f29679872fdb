"""Expiry of payments left open past their ``expires_at``, for the scheduled expirer.

Reads only the sparse ``by-expiry`` index of open payments and moves each due one with the
same conditional write as every transition; pydantic-free for a lean cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from paysandbox import clock, transitions
from paysandbox.repository import ConditionFailed
from paysandbox.repository import payments as store
from paysandbox.states import Status


@dataclass
class ExpiryRun:
    expired: int = 0
    lost_races: int = 0
    due_seen: int = 0
    complete: bool = True


def expire_due(has_time: Callable[[], bool], *, page_size: int = 50, max_per_run: int = 1000) -> ExpiryRun:
    """Expire open payments past their expiry, reading only the sparse index of open ones.

    Bounded by ``has_time`` (the Lambda's remaining time) and ``max_per_run``; safe to run
    concurrently, since each expiry is a conditional write and a lost race is just counted.
    """
    run = ExpiryRun()
    now = clock.now_epoch()
    start_key = None
    while True:
        ids, start_key = store.query_due(now, page_size, start_key)
        run.due_seen += len(ids)
        for payment_id in ids:
            if not has_time() or run.expired + run.lost_races >= max_per_run:
                run.complete = False
                return run
            try:
                transitions.apply(payment_id, Status.EXPIRED, extra={"expired_at": now}, now=now)
                run.expired += 1
            except ConditionFailed:
                run.lost_races += 1
        if not start_key:
            return run
