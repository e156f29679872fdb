"""Small helpers the benchmarks share: medians, interleaved measuring, quiet stdout, a fresh moto account (harness)."""

from __future__ import annotations

import math
import os
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

# moto must be imported before any layer module creates its module-level boto3 client, so
# that client gets moto's stub handler (moto registers it with botocore on import).
import moto  # noqa: F401

# One fresh moto account for tests and benchmarks alike; imported from here by every figure.
from harness.fake_aws import moto_account  # noqa: F401


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def shown_ratio(ratio: float) -> float:
    """Two decimals, rounded UP so a miss never displays as within target (1.503 -> 1.51)."""
    return math.ceil(round(ratio * 100, 6)) / 100


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


First = TypeVar("First")
Second = TypeVar("Second")


def interleaved(
    first: Callable[[int], First], second: Callable[[int], Second], warmup: int, iterations: int
) -> tuple[list[First], list[Second]]:
    """Each measurement ``iterations`` times after ``warmup`` unrecorded rounds, alternating
    which goes first so neither always runs in the state the other left. Each call gets its
    round's number (0, 1, ... across warm-up and measured rounds); results in round order."""
    for n in range(warmup):
        first(n)
        second(n)
    firsts: list[First] = []
    seconds: list[Second] = []
    for i in range(iterations):
        if i % 2:
            firsts.append(first(warmup + i))
            seconds.append(second(warmup + i))
        else:
            seconds.append(second(warmup + i))
            firsts.append(first(warmup + i))
    return firsts, seconds


@dataclass
class Captured:
    bytes_written: int = 0


@contextmanager
def captured_stdout() -> Iterator[Captured]:
    """Send fd 1 (handler logs and EMF metrics) to a temp file; report how many bytes it got.

    Powertools' Logger keeps its own reference to sys.stdout, so only an fd-level redirect
    catches everything a handler prints; the byte count feeds the CloudWatch Logs estimate.
    """
    import sys

    sys.stdout.flush()
    captured = Captured()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield captured
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            captured.bytes_written = os.fstat(sink.fileno()).st_size


@contextmanager
def local_sandbox(**env: str) -> Iterator[Any]:
    """``python -m sandbox`` started as a user would (a subprocess on free 127.0.0.1 ports),
    stopped with SIGTERM at the end, also when the benchmark fails.

    Start-up and readiness come from harness/sandbox_process.py (the end-to-end tests'
    launcher), so benchmarks and tests run the sandbox the same way. A sandbox that does not
    exit 0 on SIGTERM fails the benchmark; when the benchmark itself failed, the end of the
    sandbox's log is printed to stderr instead, as it usually says why.
    """
    import subprocess
    import sys
    from pathlib import Path

    from harness.sandbox_process import start_sandbox

    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as folder:
        sandbox = start_sandbox(Path(folder), **env)
        succeeded = False
        try:
            yield sandbox
            succeeded = True
        finally:
            try:
                exit_code: int | None = sandbox.stop()
            except subprocess.TimeoutExpired:
                sandbox.process.kill()
                sandbox.process.wait()
                exit_code = None
            if not succeeded:
                print(f"[bench] sandbox log (end):\n{sandbox.output()[-3000:]}", file=sys.stderr, flush=True)
        if exit_code != 0:
            raise RuntimeError(f"the sandbox did not stop cleanly on SIGTERM (exit {exit_code})")
