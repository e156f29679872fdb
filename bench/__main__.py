"""`make bench`: run every figure in order, print one table, write bench/results.json.

    python -m bench                 # all figures (about 5 minutes on 2 cores)
    python -m bench --only cold_start   # one figure, by module name or number

A benchmark that is not implemented yet shows as "not run (reason)"; one whose own
correctness check fails shows as FAILED and makes the exit status 1. Neither counts as met.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback

import bench  # noqa: F401  (fake AWS environment before anything imports boto3)
from bench.report import RESULTS_PATH, Figure, not_run, table, write_json

# In figure order. cost_model reads figure 3's result when it has one.
MODULES = (
    "cold_start",
    "handler_overhead",
    "lifecycle_requests",
    "expirer_scaling",
    "webhook_latency",
    "throughput",
    "cost_model",
    "gateway_overhead",
    "memory",
    "auth_cost",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run one figure: module name (e.g. cold_start) or figure number")
    args = parser.parse_args(argv)

    selected = list(MODULES)
    if args.only:
        selected = [m for m in MODULES if args.only in (m, str(importlib.import_module(f"bench.{m}").NUMBER))]
        if not selected:
            parser.error(f"unknown figure {args.only!r}; one of {', '.join(MODULES)}")

    figures: dict[str, Figure] = {}
    failed: set[str] = set()
    for name in selected:
        module = importlib.import_module(f"bench.{name}")
        print(f"[bench] {module.NUMBER}. {module.NAME} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            figure = module.run(figures)
        except NotImplementedError as reason:
            figure = not_run(module.NUMBER, module.NAME, module.TARGET, str(reason))
        except Exception as error:  # the benchmark's own correctness check (or a crash)
            traceback.print_exc()
            figure = Figure(module.NUMBER, module.NAME, module.TARGET, measured=f"FAILED: {error}"[:120], met=False)
            failed.add(name)
        figure.data.setdefault("seconds", round(time.perf_counter() - started, 1))
        print(f"[bench]    {figure.verdict} in {figure.data['seconds']} s", file=sys.stderr, flush=True)
        figures[name] = figure

    ordered = sorted(figures.values(), key=lambda f: f.number)
    print(table(ordered))
    for name, figure in figures.items():
        details = getattr(importlib.import_module(f"bench.{name}"), "details", None)
        lines = details(figure) if details and figure.not_run is None and name not in failed else []
        if lines:
            print()
            print("\n".join(lines))
    write_json(
        ordered,
        {
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        },
        path=RESULTS_PATH,
    )
    print(f"\n(written to {RESULTS_PATH})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
