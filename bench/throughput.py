"""Figure 6 - local sandbox throughput. NOT IMPLEMENTED YET.

To fill in (needs the local sandbox, `make run`): start it on free 127.0.0.1 ports, run 8
concurrent clients POSTing /api/create-invoice over HTTP for 10 s, count 200 answers per
second; any non-200 answer or connection error fails the benchmark. Check afterwards that
the number of stored invoices equals the number of 200 answers.
"""

from __future__ import annotations

from bench.report import Figure

NUMBER = 6
NAME = "local sandbox throughput (8 clients, 10 s)"
TARGET = "invoices/s reported, 0 errors"


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    raise NotImplementedError("needs the local sandbox (make run) HTTP server")
