"""Figure 1 - cold start proxy, on the build as shipped, under python3.13.

``make build`` first (``sam build`` plus the shipped .pyc files), then for every
AWS::Serverless::Function in template.yaml a fresh python3.13 (isolated: ``-I -S``, and ``-B``
because Lambda's code directories are read-only) does what Lambda's init phase does: the
function's directory, the layer's ``python/`` and the runtime's boto3 on sys.path (see
``bench/shipped_build.py``), the function's environment (from the template, with fake
region/credentials), import the handler module by path and let its module-level clients be
created. Timed from inside the probe, median of RUNS fresh processes, interleaved with the
baseline `import boto3; boto3.client("dynamodb")` in the same interpreter with the same
runtime packages, so machine noise hits both alike. The same build without its bytecode is
measured too (SOURCE_RUNS each), to show what shipping it saves.

The figure is CPU time (``time.process_time``) of that init: this 2-core machine is shared,
and wall time mostly measured how long a probe waited for a core (ratios swung from 1.3x to
1.7x between runs under load). Importing is CPU-bound (the files are in the page cache), and
in Lambda a cold start runs on the function's own CPU share. Wall medians are recorded too.

The probe itself and its checks are in ``bench/cold_start_probe.py``; for a function over
target, ``-X importtime`` runs attribute the extra time to packages (``bench/import_costs.py``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ROOT, shipped_build
from bench.cold_start_probe import baseline_env, check, function_env, probe
from bench.common import median, shown_ratio
from bench.import_costs import import_costs, median_costs
from bench.report import Figure

NUMBER = 1
NAME = "cold start proxy (import + clients, fresh interpreter)"
TARGET_RATIO = 1.5
TARGET = f"every function <= {TARGET_RATIO}x baseline"
RUNS = 11
IMPORTTIME_RUNS = 3  # -X importtime runs per function; the attribution shown is their median
SOURCE_RUNS = 5  # runs per function of the build without bytecode (for comparison only)


@dataclass
class Probes:
    """What one run of the figure probes: the baseline and every function, as shipped and
    without bytecode, each with its probe arguments, environment and working directory."""

    python: str
    build_dir: Path
    layer: Path
    baseline: list[str]
    shipped: dict[str, list[str]]
    source_only: dict[str, list[str]]
    envs: dict[str, dict[str, str]]
    cwds: dict[str, str]
    baseline_info: dict[str, Any] = field(default_factory=dict)

    def run(
        self, name: str, args: dict[str, list[str]] | None = None, importtime: bool = False
    ) -> tuple[dict[str, Any], str]:
        if name == "baseline":
            return probe(self.baseline, baseline_env(), str(ROOT), importtime)
        return probe((args or self.shipped)[name], self.envs[name], self.cwds[name], importtime)


def _probes() -> Probes:
    """Build as shipped (``make build``), and the probe arguments of every template function."""
    from sandbox.functions import functions
    from sandbox.template import load_template

    template = load_template()
    found = functions(template)
    if not found:
        raise RuntimeError("template.yaml has no AWS::Serverless::Function")
    python = shipped_build.python313()
    build_dir = shipped_build.build(shipped_build.CACHE / "build")
    layer = shipped_build.layer_python(build_dir)
    runtime = str(shipped_build.runtime_dir(python))
    overlay = str(shipped_build.native_overlay(layer, python))
    source_dir = _without_bytecode(build_dir, shipped_build.CACHE / "build-source-only")

    def function_args(root: Path, name: str) -> list[str]:
        module_path, _, attribute = found[name].handler.rpartition(".")
        paths = [str(root / name), overlay, str(shipped_build.layer_python(root)), runtime]
        return ["function", json.dumps(paths), str(root / name / f"{module_path}.py"), attribute]

    return Probes(
        python=python,
        build_dir=build_dir,
        layer=layer,
        baseline=["baseline", json.dumps([runtime]), "", ""],
        shipped={name: function_args(build_dir, name) for name in found},
        source_only={name: function_args(source_dir, name) for name in found},
        envs={name: function_env(fn, template) for name, fn in found.items()},
        cwds={name: str(build_dir / name) for name in found},
    )


def _warm_up_and_check(probes: Probes) -> None:
    """One discarded run each (warms the page cache; nothing is written: -B), checked."""
    probes.baseline_info = probes.run("baseline")[0]
    for name in probes.shipped:
        check(name, probes.run(name)[0], str(probes.layer), str(probes.build_dir))


def _interleaved(probes: Probes) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """CPU and wall times of RUNS rounds, each round the baseline then every function."""
    cpu: dict[str, list[float]] = {"baseline": [], **{name: [] for name in probes.shipped}}
    wall: dict[str, list[float]] = {name: [] for name in cpu}
    for _ in range(RUNS):
        for name in cpu:
            info = probes.run(name)[0]
            cpu[name].append(info["init_ms"])
            wall[name].append(info["wall_ms"])
    return cpu, wall


def _without_bytecode_ms(probes: Probes) -> dict[str, float]:
    """Median CPU time of every function from the same build without its .pyc files."""
    samples: dict[str, list[float]] = {name: [] for name in probes.source_only}
    for _ in range(SOURCE_RUNS):
        for name in samples:
            samples[name].append(probes.run(name, probes.source_only)[0]["init_ms"])
    return {name: median(values) for name, values in samples.items()}


def _function_result(
    probes: Probes, name: str, cpu: list[float], wall: list[float], baseline_ms: float, source_ms: float
) -> dict[str, Any]:
    traced = [probes.run(name, importtime=True) for _ in range(IMPORTTIME_RUNS)]
    info = traced[0][0]
    baseline_modules = set(probes.baseline_info["modules"])
    ms = median(cpu)
    return {
        "median_ms": round(ms, 1),
        "ratio": shown_ratio(ms / baseline_ms),
        "met": ms / baseline_ms <= TARGET_RATIO,
        "clients": info["clients"],
        "extra_modules": len(set(info["modules"]) - baseline_modules),
        "samples_ms": [round(s, 1) for s in cpu],
        "wall_median_ms": round(median(wall), 1),
        "without_bytecode_median_ms": round(source_ms, 1),
        "without_bytecode_ratio": shown_ratio(source_ms / baseline_ms),
        **median_costs([import_costs(stderr, baseline_modules) for _, stderr in traced]),
    }


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    probes = _probes()
    _warm_up_and_check(probes)
    cpu, wall = _interleaved(probes)
    source_ms = _without_bytecode_ms(probes)
    baseline_ms = median(cpu["baseline"])
    per_function = {
        name: _function_result(probes, name, cpu[name], wall[name], baseline_ms, source_ms[name])
        for name in probes.shipped
    }
    worst = max(per_function, key=lambda n: per_function[n]["ratio"])
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=f"worst {worst} {per_function[worst]['ratio']}x ("
        + ", ".join(f"{n.removesuffix('Function')} {v['ratio']}x" for n, v in per_function.items())
        + f"; baseline {baseline_ms:.0f} ms CPU; as shipped, python3.13)",
        met=all(v["met"] for v in per_function.values()),
        data={
            "runs": RUNS,
            "baseline_ms": round(baseline_ms, 1),
            "baseline_client_ms": round(probes.baseline_info["client_ms"], 1),
            "baseline_samples_ms": [round(s, 1) for s in cpu["baseline"]],
            "baseline_wall_median_ms": round(median(wall["baseline"]), 1),
            "clock": "CPU time of the init (time.process_time)",
            "interpreter": probes.python,
            "measured_on": "make build output with its shipped .pyc, read-only (-B), isolated (-I -S)",
            "functions": per_function,
        },
    )


def _without_bytecode(build_dir: Path, target: Path) -> Path:
    """A copy of the build without its .pyc files: what a deploy shipped before."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(build_dir, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def details(figure: Figure) -> list[str]:
    """Lines printed under the table: where the time goes for functions over target."""
    lines = []
    for name, info in figure.data.get("functions", {}).items():
        if info["met"]:
            continue
        lines.append(
            f"{name} is {info['ratio']}x the baseline ({info['median_ms']} ms vs {figure.data['baseline_ms']} ms)."
            f" Self time of modules the baseline does not import (paysandbox.repository's includes creating"
            f" its DynamoDB client, ~{figure.data['baseline_client_ms']} ms in the baseline too):"
        )
        lines += [f"    {pkg:<28} {ms:>7.1f} ms self" for pkg, ms in info["extra_packages_self_ms"].items()]
        lines.append("  biggest direct imports (cumulative):")
        lines += [f"    {mod:<40} {ms:>7.1f} ms" for mod, ms in info["top_direct_imports_cumulative_ms"].items()]
    return lines
