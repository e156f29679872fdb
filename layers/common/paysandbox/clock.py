"""Time in one format: ISO 8601 UTC with millisecond precision and a ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_epoch() -> float:
    return time.time()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
