"""The one table `make bench` prints (its last column is "met", "missed", "n/a", "not run (...)"
or "FAILED ...", so a script can read it), and bench/results.json (`python -m bench.report` prints
the latest results.json as Markdown, for docs/benchmarks.md).

A figure is met only when it was measured and its ratio/count is within target; a figure
that could not run says why and is never counted as met.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"


@dataclass
class Figure:
    number: int
    name: str
    target: str
    measured: str = ""
    # True / False when there is a target and a measurement; None when there is no target
    # (the cost model) or the figure did not run.
    met: bool | None = None
    not_run: str | None = None  # reason, when the benchmark could not run yet
    partial: bool = False  # measured, but over less than the full scenario (says so)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.not_run is not None:
            return f"not run ({self.not_run})"
        if self.met is None:
            return "n/a (partial)" if self.partial else "n/a"
        verdict = "met" if self.met else "missed"
        return f"{verdict} (partial)" if self.partial else verdict


def not_run(number: int, name: str, target: str, reason: str) -> Figure:
    return Figure(number=number, name=name, target=target, not_run=reason)


def table(figures: list[Figure]) -> str:
    """A plain-text table: figure, measured, target, met?."""
    rows = [("figure", "measured", "target", "met?")]
    for figure in figures:
        rows.append(
            (f"{figure.number}. {figure.name}", figure.measured or "-", figure.target, figure.verdict),
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(figures: list[Figure]) -> str:
    lines = ["| figure | measured | target | met? |", "|---|---|---|---|"]
    for figure in figures:
        cells = (f"{figure.number}. {figure.name}", figure.measured or "-", figure.target, figure.verdict)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def write_json(figures: list[Figure], meta: dict[str, Any], path: Path = RESULTS_PATH) -> None:
    document = {
        "meta": meta,
        "figures": [{**asdict(f), "verdict": f.verdict} for f in figures],
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def markdown_from_results(path: Path = RESULTS_PATH) -> str:
    """The latest results.json as a Markdown table (for docs/benchmarks.md)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    figures = []
    for saved in document["figures"]:
        fields = {k: v for k, v in saved.items() if k != "verdict"}
        figures.append(Figure(**fields))
    meta = document["meta"]
    return markdown_table(figures) + f"\n\n_{meta['date_utc']}, Python {meta['python']}, {meta['machine']}._"


if __name__ == "__main__":  # python -m bench.report: print the latest results as Markdown
    print(markdown_from_results())
