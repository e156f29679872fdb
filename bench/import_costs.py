"""Figure 1's attribution: where a function's init time goes beyond the baseline's.

From ``python -X importtime`` output: the self time of every module the baseline does not
import, summed per package (per module for paysandbox, where a fix would go), and the biggest
imports the handler makes directly, by cumulative time. Several runs are merged by median.
"""

from __future__ import annotations

from typing import Any

from bench.common import median


def import_costs(stderr: str, baseline_modules: set[str], top: int = 8) -> dict[str, Any]:
    """From ``-X importtime``, over modules the baseline does not import: self time per package
    (per module for paysandbox) and the biggest direct imports by cumulative time."""
    by_package: dict[str, int] = {}
    direct: list[tuple[int, str]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line[len("import time:") :].split("|")
        self_us, cumulative_us, raw_name = int(parts[0]), int(parts[1]), parts[2]
        module = raw_name.strip()
        depth = (len(raw_name) - len(raw_name.lstrip(" ")) - 1) // 2
        if module not in baseline_modules:
            # First-party modules by name (that is where a fix goes), others by package.
            package = module if module.startswith("paysandbox") else module.split(".")[0]
            by_package[package] = by_package.get(package, 0) + self_us
        if depth == 0 and module not in baseline_modules:
            direct.append((cumulative_us, module))
    packages = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    return {
        "extra_packages_self_ms": {name: round(us / 1000, 1) for name, us in packages},
        "top_direct_imports_cumulative_ms": {name: round(us / 1000, 1) for us, name in sorted(direct)[::-1][:top]},
    }


def median_costs(runs: list[dict[str, dict[str, float]]], top: int = 8) -> dict[str, dict[str, float]]:
    """Per key, the median over several ``import_costs`` results (a missing entry counts 0)."""
    merged: dict[str, dict[str, float]] = {}
    for section in runs[0]:
        names = {name for run in runs for name in run[section]}
        values = {name: round(median([run[section].get(name, 0.0) for run in runs]), 1) for name in names}
        merged[section] = dict(sorted(values.items(), key=lambda kv: -kv[1])[:top])
    return merged
