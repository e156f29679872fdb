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

The probe also checks the work was done: the handler attribute is callable, at least one
module-level botocore client exists, and no moto / test / local-sandbox code got imported.
One extra run per function with ``-X importtime`` attributes the import cost to packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench import FAKE_AWS_ENV, ROOT, shipped_build
from bench.common import median, shown_ratio
from bench.report import Figure

NUMBER = 1
NAME = "cold start proxy (import + clients, fresh interpreter)"
TARGET_RATIO = 1.5
TARGET = f"every function <= {TARGET_RATIO}x baseline"
RUNS = 11
IMPORTTIME_RUNS = 3  # -X importtime runs per function; the attribution shown is their median
FORBIDDEN = ("moto", "tests", "sandbox", "pytest", "bench")

SOURCE_RUNS = 5  # runs per function of the build without bytecode (for comparison only)

# Runs inside the fresh interpreter: argv = [mode, search path (JSON list), module_file, attribute].
PROBE = r"""
import sys, time
started, started_cpu = time.perf_counter(), time.process_time()
mode, paths, module_file, attribute = sys.argv[1:5]
sys.path[:0] = __import__("json").loads(paths)
import importlib.machinery
compiled = []  # modules compiled from source at import (none, when the bytecode is shipped)
_to_code = importlib.machinery.SourceFileLoader.source_to_code
def _recording(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return _to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = _recording
client_ms = 0.0
if mode == "baseline":
    import boto3
    before_client = time.process_time()
    boto3.client("dynamodb")
    client_ms = (time.process_time() - before_client) * 1000
else:
    import importlib.util
    spec = importlib.util.spec_from_file_location("app", module_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu

import json
from botocore.client import BaseClient
owners = [n for n in sys.modules if n == "app" or n.startswith("paysandbox")] if mode != "baseline" else []
found = {}
for owner in owners:
    for name, value in vars(sys.modules[owner]).items():
        if isinstance(value, BaseClient):
            found.setdefault(id(value), f"{owner}.{name}:{value.meta.service_model.service_name}")
clients = sorted(found.values())
print(json.dumps({
    "init_ms": elapsed_cpu * 1000,
    "wall_ms": elapsed * 1000,
    "client_ms": client_ms,
    "clients": clients,
    "handler_callable": mode == "baseline" or callable(getattr(sys.modules["app"], attribute, None)),
    "modules": sorted(sys.modules),
    "compiled": compiled,
    "paysandbox_from": getattr(sys.modules.get("paysandbox"), "__file__", "") or "",
}))
"""


def _resolve(value: Any, template: dict[str, Any]) -> str:
    """A template environment value as Lambda would see it (Refs -> defaults / fake names)."""
    if isinstance(value, dict) and "Ref" in value:
        ref = str(value["Ref"])
        parameter = template.get("Parameters", {}).get(ref)
        if parameter is not None:
            return str(parameter.get("Default", ""))
        resource_type = template["Resources"].get(ref, {}).get("Type", "")
        if resource_type == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{ref}-AbCdEf"
        if resource_type == "AWS::SQS::Queue":
            return f"https://sqs.eu-west-1.amazonaws.com/123456789012/{ref}"
        return ref  # tables are named after their logical ids locally
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return f"arn:aws:local:eu-west-1:123456789012:{resource}/{attribute}"
    return str(value)


def function_env(function: Any, template: dict[str, Any]) -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "LANG", "HOME") if k in os.environ}
    env.update(FAKE_AWS_ENV)
    env.update({name: _resolve(value, template) for name, value in function.environment.items()})
    env.update(
        AWS_LAMBDA_FUNCTION_NAME=function.logical_id,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(function.memory),
    )
    return env


def baseline_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "LANG", "HOME") if k in os.environ}
    return {**env, **FAKE_AWS_ENV}


def probe(args: list[str], env: dict[str, str], cwd: str, importtime: bool = False) -> tuple[dict[str, Any], str]:
    python = shipped_build.python313()
    command = [python, "-I", "-S", "-B", *(["-X", "importtime"] if importtime else []), "-c", PROBE, *args]
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cold-start probe failed for {args[2] or 'baseline'}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


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


def run(earlier: dict[str, Figure] | None = None) -> Figure:
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
        handler = found[name].handler
        module = root / name / f"{handler.rpartition('.')[0]}.py"
        paths = [str(root / name), overlay, str(shipped_build.layer_python(root)), runtime]
        return ["function", json.dumps(paths), str(module), handler.rpartition(".")[2]]

    base_args = ["baseline", json.dumps([runtime]), "", ""]
    args = {name: function_args(build_dir, name) for name in found}
    source_args = {name: function_args(source_dir, name) for name in found}
    envs = {name: function_env(fn, template) for name, fn in found.items()}
    cwds = {name: str(build_dir / name) for name in found}

    # One discarded warm-up each: warms the page cache (nothing is written: -B).
    baseline_info, _ = probe(base_args, baseline_env(), str(ROOT))
    for name in found:
        info, _ = probe(args[name], envs[name], cwds[name])
        _check(name, info, str(layer), str(build_dir))

    samples: dict[str, list[float]] = {"baseline": [], **{name: [] for name in found}}
    wall: dict[str, list[float]] = {"baseline": [], **{name: [] for name in found}}
    for _ in range(RUNS):
        for name in ("baseline", *found):
            info, _ = (
                probe(base_args, baseline_env(), str(ROOT))
                if name == "baseline"
                else probe(args[name], envs[name], cwds[name])
            )
            samples[name].append(info["init_ms"])
            wall[name].append(info["wall_ms"])

    source_samples: dict[str, list[float]] = {name: [] for name in found}
    for _ in range(SOURCE_RUNS):
        for name in found:
            source_samples[name].append(probe(source_args[name], envs[name], cwds[name])[0]["init_ms"])

    baseline_ms = median(samples["baseline"])
    baseline_modules = set(baseline_info["modules"])
    per_function: dict[str, Any] = {}
    for name in found:
        traced = [probe(args[name], envs[name], cwds[name], importtime=True) for _ in range(IMPORTTIME_RUNS)]
        info = traced[0][0]
        ms = median(samples[name])
        per_function[name] = {
            "median_ms": round(ms, 1),
            "ratio": shown_ratio(ms / baseline_ms),
            "met": ms / baseline_ms <= TARGET_RATIO,
            "clients": info["clients"],
            "extra_modules": len(set(info["modules"]) - baseline_modules),
            "samples_ms": [round(s, 1) for s in samples[name]],
            "wall_median_ms": round(median(wall[name]), 1),
            "without_bytecode_median_ms": round(median(source_samples[name]), 1),
            "without_bytecode_ratio": shown_ratio(median(source_samples[name]) / baseline_ms),
            **median_costs([import_costs(stderr, baseline_modules) for _, stderr in traced]),
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
            "baseline_client_ms": round(baseline_info["client_ms"], 1),
            "baseline_samples_ms": [round(s, 1) for s in samples["baseline"]],
            "baseline_wall_median_ms": round(median(wall["baseline"]), 1),
            "clock": "CPU time of the init (time.process_time)",
            "interpreter": python,
            "measured_on": "make build output with its shipped .pyc, read-only (-B), isolated (-I -S)",
            "functions": per_function,
        },
    )


def _without_bytecode(build_dir: Path, target: Path) -> Path:
    """A copy of the build without its .pyc files: what a deploy shipped before."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(build_dir, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _check(name: str, info: dict[str, Any], layer: str, build_dir: str) -> None:
    if not info["handler_callable"]:
        raise RuntimeError(f"{name}: the template's handler is not a callable in its module")
    if not info["clients"]:
        raise RuntimeError(f"{name}: no module-level boto3 client was created at import")
    leaked = [m for m in info["modules"] if m.split(".")[0] in FORBIDDEN]
    if leaked:
        raise RuntimeError(f"{name}: handler import reaches dev/test code: {leaked[:5]}")
    if not info["paysandbox_from"].startswith(layer):
        raise RuntimeError(f"{name}: paysandbox was imported from {info['paysandbox_from']}, not the build")
    compiled = [path for path in info["compiled"] if path.startswith(build_dir)]
    if compiled:
        raise RuntimeError(f"{name}: compiled at import despite the shipped bytecode: {compiled[:5]}")


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
