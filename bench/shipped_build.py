"""The build as Lambda runs it, reproduced on this machine: `make build` output under python3.13.

- ``python313()``: the Lambda runtime's Python version (PATH first, else pyenv's newest 3.13,
  the same rule as the Makefile's ``build``).
- ``build(target)``: ``make build SAM_BUILD_DIR=target`` - ``sam build`` plus the shipped
  bytecode - so what is measured is exactly what a deploy uploads.
- ``runtime_dir(python)``: what the Lambda runtime itself provides (boto3, botocore and their
  dependencies), copied from the project's virtualenv and compiled for 3.13, as the runtime
  ships them.
- ``native_overlay(layer_python, python)``: the layer's compiled packages are built for aarch64;
  this machine loads the same versions built for x86_64 cp313 instead (``pip download`` once).
  Everything else - the domain, Powertools, pydantic's Python code, the handlers and their
  shipped ``.pyc`` - comes from the build output.

Everything is cached under ``.aws-sam/bench/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
import zipfile
from functools import cache
from pathlib import Path

from bench import ROOT

CACHE = ROOT / ".aws-sam" / "bench"
# What the Lambda Python runtime provides (vendoring them only grows the layer).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


@cache
def python313() -> str:
    """Absolute path of a python3.13, or RuntimeError saying how to get one."""
    candidates = [shutil.which("python3.13") or ""]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
        versions = sorted(
            Path(root, "versions").glob("3.13*"), key=lambda p: [int(x) for x in re.findall(r"\d+", p.name)]
        )
        candidates += [str(v / "bin" / "python3.13") for v in reversed(versions)]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13), sys.executable)"],
            capture_output=True,
            text=True,
            check=False,
        )
        ok, _, executable = probe.stdout.strip().partition(" ")
        if probe.returncode == 0 and ok == "True":
            return executable
    raise RuntimeError("python3.13 not found (pyenv install 3.13, or your OS package python3.13)")


def build(target: Path) -> Path:
    """``make build`` into ``target``; returns it."""
    done = subprocess.run(
        ["make", "--no-print-directory", "build", f"SAM_BUILD_DIR={target}"],
        cwd=ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"make build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return target


def layer_python(build_dir: Path) -> Path:
    (layer,) = [p for p in build_dir.iterdir() if (p / "python").is_dir()]
    return layer / "python"


def runtime_dir(python: str) -> Path:
    """The runtime's packages (same versions as the project's venv), compiled for 3.13."""
    host_site = Path(sysconfig.get_paths()["purelib"])
    botocore = next(host_site.glob("botocore-*.dist-info")).name
    target = CACHE / "runtime-313"
    stamp = target / ".from"
    if stamp.exists() and stamp.read_text() == botocore:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for package in RUNTIME_PACKAGES:
        source = host_site / package
        if source.is_dir():
            shutil.copytree(source, target / package, ignore=shutil.ignore_patterns("__pycache__"))
        elif (host_site / f"{package}.py").exists():
            shutil.copy2(host_site / f"{package}.py", target / f"{package}.py")
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(target)], check=True, timeout=600)
    stamp.write_text(botocore)
    return target


def native_overlay(layer: Path, python: str) -> Path:
    """x86_64 cp313 builds of every layer package whose compiled modules cannot load here."""
    target = CACHE / "native-313"
    target.mkdir(parents=True, exist_ok=True)
    loadable = subprocess.run(
        [python, "-c", "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    versions = {
        info.name.removesuffix(".dist-info").rsplit("-", 1)[0].lower(): info.name.removesuffix(".dist-info").rsplit(
            "-", 1
        )[1]
        for info in layer.glob("*.dist-info")
    }
    for extension in layer.rglob("*.so"):
        if extension.name.endswith(loadable):
            continue
        package = extension.relative_to(layer).parts[0]
        version = versions[package.lower()]
        marker = target / f".{package}-{version}"
        if marker.exists():
            continue
        wheels = CACHE / "wheels"
        subprocess.run(
            [python, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--no-deps",
             f"{package}=={version}", "-d", str(wheels)],
            check=True,
            timeout=300,
        )  # fmt: skip
        wheel = next(wheels.glob(f"{package}-{version}-cp313-*.whl"))
        shutil.rmtree(target / package, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target, [n for n in archive.namelist() if n.startswith(f"{package}/")])
        subprocess.run([python, "-m", "compileall", "-q", str(target / package)], check=True, timeout=120)
        marker.touch()
    return target
