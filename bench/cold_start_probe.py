"""The probe of figure 1: one fresh python3.13 doing what Lambda's init phase does.

``probe()`` runs PROBE in ``python3.13 -I -S -B`` (isolated, and ``-B`` because Lambda's code
directories are read-only): the search path it is given, the handler module imported by path
(or, for the baseline, ``import boto3; boto3.client("dynamodb")``), then a JSON line with the
CPU and wall time of that init, the module-level botocore clients found, every module loaded
and every module compiled from source on the way. ``function_env()`` is the function's
environment from the template, as Lambda would set it (with fake region and credentials);
``check()`` refuses a probe that did not do the work (no callable handler, no client, test or
sandbox code imported, paysandbox not from the build, or bytecode compiled despite the
shipped ``.pyc``).
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from bench import FAKE_AWS_ENV, shipped_build

FORBIDDEN = ("moto", "tests", "sandbox", "pytest", "bench")

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


def resolve(value: Any, template: dict[str, Any]) -> str:
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
    env.update({name: resolve(value, template) for name, value in function.environment.items()})
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


def check(name: str, info: dict[str, Any], layer: str, build_dir: str) -> None:
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
