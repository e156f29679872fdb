"""``Paysandbox-Simulate`` (docs/refunds-and-test-helpers.md): a merchant asks the gateway to misbehave, to test its
own timeouts and retries. ``status=500|502|503|504|429`` answers that status in the JSON
error shape before anything is read or written (so no payment and no idempotency record is
left behind); ``latency_ms=N`` (0..10000) delays the answer, real or simulated. Values join
with commas: ``status=503,latency_ms=2000``. Anything else is a 422 that changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from paysandbox.errors import PaySandboxError, ValidationFailed

HEADER = "paysandbox-simulate"
STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_LATENCY_MS = 10_000
RETRY_AFTER = frozenset({429, 503})


class SimulatedFailure(PaySandboxError):
    """The answer a merchant asked for; ``retry_after`` goes out as the Retry-After header."""

    code = "simulated_failure"

    def __init__(self, status: int):
        super().__init__(f"Simulated {status}, as the Paysandbox-Simulate header asked.")
        self.status = status
        if status in RETRY_AFTER:
            self.retry_after = "1"


@dataclass(frozen=True)
class Simulation:
    status: int | None = None
    latency_ms: int = 0


def _invalid(problem: str) -> ValidationFailed:
    return ValidationFailed(
        "Paysandbox-Simulate takes status=500|502|503|504|429 and latency_ms=0..10000, comma-separated.",
        details=[{"field": "Paysandbox-Simulate", "problem": problem}],
    )


def parse(value: str) -> Simulation:
    status: int | None = None
    latency: int | None = None
    for part in value.split(","):
        name, sep, raw = (p.strip() for p in part.partition("="))
        if not sep or not raw.isascii() or not raw.isdigit() or len(raw) > 6:
            raise _invalid(f"{name or 'a part'} needs a whole-number value")
        if name == "status" and status is None and int(raw) in STATUSES:
            status = int(raw)
        elif name == "latency_ms" and latency is None and int(raw) <= MAX_LATENCY_MS:
            latency = int(raw)
        else:
            raise _invalid(f"{name} is unknown, repeated or out of range")
    return Simulation(status, latency or 0)


def apply(value: str | None) -> None:
    """Before the route runs: wait and/or fail as asked; nothing when the header is absent."""
    if value is None:
        return
    simulation = parse(value)
    if simulation.latency_ms:
        time.sleep(simulation.latency_ms / 1000)
    if simulation.status is not None:
        raise SimulatedFailure(simulation.status)
