"""`make build` (sam build: python3.13, arm64, no container) and what it produces.

Slow (a real `sam build` resolving arm64 wheels from PyPI, a minute at most) but part of
`make test`. The built artefacts are checked as Lambda will see them:

- the layer's code sits under ``python/`` (Lambda puts ``/opt/python`` on ``sys.path``), with the
  domain package and the pinned runtime dependencies, built for cp313 on aarch64;
- nothing from test or development tooling, and no boto3/botocore (the runtime has them);
- every handler imports, and the API handlers answer a request, from the build output.

How the import check works on this x86_64 machine with Python 3.11: the layer's compiled
extension modules (pydantic_core's ``.so`` for cpython-313-aarch64) cannot load here. The check
runs the project interpreter isolated from its site-packages (``python -I -S -B``) with ``sys.path``
= function dir, then an overlay holding the host's build of *only* the packages whose native
modules cannot load (after asserting the host has the very same version), then the layer's
``python/`` dir, then the host's boto3/botocore standing in for the Lambda runtime's. Everything
else - the domain package, Powertools, pydantic's Python code - is imported from the build
output, and the probe reports where every loaded module came from so the test can assert it.
"""

from __future__ import annotations

import importlib.machinery
import io
import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import pytest

from harness.fake_aws import fake_aws_environment
from sandbox.apigw import proxy_event
from sandbox.template import load_template
from tests.support import ROOT

pytestmark = pytest.mark.slow

# Provided by the Lambda Python runtime; vendoring them only grows the layer.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
# Development and test tooling that must never reach a function or the layer.
DEV_PACKAGES = (
    "boto3", "botocore", "s3transfer", "moto", "pytest", "_pytest", "pytest_httpserver", "playwright",
    "mypy", "ruff", "cfnlint", "cfn_lint", "samtranslator", "samcli", "yaml", "werkzeug", "responses",
    "sandbox", "tests", "bench",
)  # fmt: skip
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory, sam_cli: Path, sam_env: dict[str, str]) -> Path:
    target = tmp_path_factory.mktemp("sam-build") / "build"
    result = subprocess.run(
        ["make", "--no-print-directory", "build", f"SAM_BUILD_DIR={target}"],
        cwd=ROOT,
        env=sam_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"make build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert "Build Succeeded" in result.stdout + result.stderr
    return target


def _sam_resources(resource_type: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in load_template()["Resources"].items() if r["Type"] == resource_type}


def _layer_python(build_dir: Path) -> Path:
    (layer,) = _sam_resources("AWS::Serverless::LayerVersion")
    return build_dir / layer / "python"


def _top_level(directory: Path) -> set[str]:
    return {p.name.removesuffix(".py") for p in directory.iterdir() if not p.name.endswith((".dist-info", ".data"))}


def _pins() -> dict[str, str]:
    lines = (ROOT / "layers" / "common" / "requirements.txt").read_text().splitlines()
    return dict(line.split("==", 1) for line in (x.split("#")[0].strip() for x in lines) if "==" in line)


def _dist_versions(directory: Path) -> dict[str, str]:
    versions = {}
    for info in directory.glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        versions[re.sub(r"[-_.]+", "-", name).lower()] = version
    return versions


def test_layer_holds_the_domain_package_and_pinned_runtime_dependencies_for_arm64(build_dir: Path) -> None:
    python = _layer_python(build_dir)
    assert python.is_dir(), "the layer's code must be under python/ (Lambda's /opt/python)"
    source = ROOT / "layers" / "common" / "paysandbox"
    expected = {p.relative_to(source) for p in source.rglob("*.py")}
    built = {p.relative_to(python / "paysandbox") for p in (python / "paysandbox").rglob("*.py")}
    assert expected and expected <= built
    assert {"aws_lambda_powertools", "pydantic", "pydantic_core", "standardwebhooks"} <= _top_level(python)
    versions = _dist_versions(python)
    for name, version in _pins().items():
        assert versions.get(re.sub(r"[-_.]+", "-", name).lower()) == version, name
    native = [p.name for p in python.rglob("*.so")]
    assert native, "expected pydantic_core's compiled module"
    assert all("cpython-313-aarch64-linux-gnu" in n for n in native), native


def test_nothing_from_development_or_the_runtime_is_vendored(build_dir: Path) -> None:
    python = _layer_python(build_dir)
    assert not _top_level(python) & set(DEV_PACKAGES), _top_level(python) & set(DEV_PACKAGES)
    for name, function in _sam_resources("AWS::Serverless::Function").items():
        built = build_dir / name
        source = ROOT / function["Properties"]["CodeUri"]
        assert not list(built.glob("*.dist-info")), f"{name} vendors packages; they belong in the layer"
        assert _top_level(built) <= _top_level(source) | {"requirements", "__pycache__"}, name  # + shipped .pyc
        assert not _top_level(built) & set(DEV_PACKAGES), name


PROBE = r"""
import importlib.util, json, os, sys
paths, function_dir, handler, event = json.loads(sys.stdin.read())
sys.path[:0] = paths
module_name, attribute = handler.rsplit(".", 1)
spec = importlib.util.spec_from_file_location(module_name, os.path.join(function_dir, module_name + ".py"))
module = importlib.util.module_from_spec(spec)
sys.modules[module_name] = module
spec.loader.exec_module(module)
answer = None
if event is not None:
    class Context:
        function_name = "probe"; function_version = "$LATEST"; memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:probe"
        aws_request_id = "probe-request"; log_group_name = "/aws/lambda/probe"; log_stream_name = "probe"
        def get_remaining_time_in_millis(self): return 10_000
    answer = getattr(module, attribute)(event, Context())
origins = {name: getattr(m, "__file__", None) for name, m in list(sys.modules.items())}
print(json.dumps({"answer": answer, "origins": origins}))
"""


def _overlay_for_native_packages(python: Path, overlay: Path) -> set[str]:
    """Symlink the host's build of each layer package whose compiled modules cannot load here."""
    host_site = Path(sysconfig.get_paths()["purelib"])
    # Only the host's own tagged suffix (".cpython-311-x86_64-linux-gnu.so") is known to load:
    # a bare ".so" or ".abi3.so" built for aarch64 would not.
    loadable = importlib.machinery.EXTENSION_SUFFIXES[0]
    replaced = set()
    for extension in python.rglob("*.so"):
        if extension.name.endswith(loadable):
            continue
        package = extension.relative_to(python).parts[0]
        if package in replaced:
            continue
        layer_version = next(v for k, v in _dist_versions(python).items() if k.replace("-", "_") == package)
        host_version = next(v for k, v in _dist_versions(host_site).items() if k.replace("-", "_") == package)
        assert host_version == layer_version, f"host {package} {host_version} != layer {layer_version}"
        (overlay / package).symlink_to(host_site / package)
        replaced.add(package)
    return replaced


def _runtime_stand_in(runtime: Path) -> None:
    host_site = Path(sysconfig.get_paths()["purelib"])
    for package in RUNTIME_PACKAGES:
        candidate = host_site / package
        if candidate.is_dir():
            (runtime / package).symlink_to(candidate)
        elif (host_site / f"{package}.py").exists():
            (runtime / f"{package}.py").symlink_to(host_site / f"{package}.py")


def test_every_handler_imports_and_answers_from_the_build_output(build_dir: Path, tmp_path: Path) -> None:
    python = _layer_python(build_dir)
    overlay, runtime = tmp_path / "native-overlay", tmp_path / "lambda-runtime"
    overlay.mkdir()
    runtime.mkdir()
    replaced = _overlay_for_native_packages(python, overlay)
    assert replaced == {"pydantic_core"}  # the one compiled dependency today
    _runtime_stand_in(runtime)

    env = {
        "PATH": os.environ["PATH"],
        **fake_aws_environment(key="probe"),
        "POWERTOOLS_SERVICE_NAME": "paysandbox",
        "POWERTOOLS_METRICS_NAMESPACE": "PaySandbox",
        "PAYMENTS_TABLE": "Payments",
        "WEBHOOK_LOGS_TABLE": "WebhookLogs",
    }
    layer_prefix = str(python)
    for name, function in _sam_resources("AWS::Serverless::Function").items():
        function_dir = build_dir / name
        events = (function["Properties"].get("Events") or {}).values()
        is_api = any(e["Type"] == "Api" for e in events)
        event = proxy_event("GET", "/no-such-route/probe") if is_api else None
        search_path = [str(function_dir), str(overlay), str(python), str(runtime)]
        request = [search_path, str(function_dir), function["Properties"]["Handler"], event]
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-B", "-c", PROBE],  # -B: no .pyc into the build
            input=json.dumps(request),
            env={**env, "AWS_LAMBDA_FUNCTION_NAME": name},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{name} does not import from the build:\n{result.stderr[-3000:]}"
        assert result.stdout.strip(), f"{name} printed nothing: {result.stderr[-2000:]}"
        probe = json.loads(result.stdout.strip().splitlines()[-1])
        origins = {m: f for m, f in probe["origins"].items() if f}
        stdlib = sysconfig.get_paths()["stdlib"]
        for module, path in origins.items():
            top = module.split(".")[0]
            if path.startswith(stdlib) and "site-packages" not in path:
                continue
            if top in replaced:
                assert path.startswith(str(overlay)), (name, module, path)
            elif top in RUNTIME_PACKAGES:  # the runtime's, unless the layer vendors a small one (jmespath)
                assert path.startswith((str(runtime), layer_prefix)), (name, module, path)
            else:
                assert path.startswith((layer_prefix, str(function_dir))), f"{name}: {module} from {path}"
        assert origins["paysandbox"].startswith(layer_prefix)
        if "pydantic" in origins:  # the expirer and the sender run without it (cold start)
            assert origins["pydantic"].startswith(layer_prefix)
        assert origins["aws_lambda_powertools"].startswith(layer_prefix)
        if is_api:
            answer = probe["answer"]
            assert answer["statusCode"] == 404, (name, answer)
            headers = {**answer.get("headers", {}), **{k: v[0] for k, v in answer.get("multiValueHeaders", {}).items()}}
            if headers.get("Content-Type", "").startswith("application/json"):
                assert json.loads(answer["body"])["error"]["code"] == "route_not_found"
            else:  # the customer-facing checkout answers with its HTML "not found" page
                assert headers.get("Content-Type", "").startswith("text/html"), (name, headers)


def _sizes(directory: Path) -> tuple[int, int]:
    """(bytes unzipped, bytes as a deployment zip) of a built function or layer directory."""
    files = [p for p in sorted(directory.rglob("*")) if p.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(directory).as_posix())
    return sum(p.stat().st_size for p in files), len(buffer.getvalue())


def test_report_artifact_sizes(build_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = [*_sam_resources("AWS::Serverless::LayerVersion"), *_sam_resources("AWS::Serverless::Function")]
    sizes = {
        name: dict(zip(("unzipped_bytes", "zipped_bytes"), _sizes(build_dir / name), strict=True)) for name in names
    }
    for size in sizes.values():
        assert size["zipped_bytes"] > 0 and size["unzipped_bytes"] > 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "build-sizes.json").write_text(json.dumps(sizes, indent=2) + "\n")
    lines = [f"{'artefact':<28}{'unzipped':>12}{'zipped':>12}"]
    lines += [
        f"{n:<28}{s['unzipped_bytes'] / 1024:>10.1f}KB{s['zipped_bytes'] / 1024:>10.1f}KB" for n, s in sizes.items()
    ]
    with capsys.disabled():
        print("\nsam build artefact sizes (also tests/artifacts/build-sizes.json):\n" + "\n".join(lines))


def test_make_build_says_how_to_get_python313_when_there_is_none(tmp_path: Path, sam_cli: Path) -> None:
    # A PATH with make and nothing else: no python3.13, no pyenv (its shims included). sam_cli:
    # .venv-sam exists, so make goes straight to the python3.13 check.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    make = next(Path(p) / "make" for p in os.environ["PATH"].split(os.pathsep) if (Path(p) / "make").exists())
    (bin_dir / "make").symlink_to(make)
    result = subprocess.run(
        [str(bin_dir / "make"), "--no-print-directory", "build", f"SAM_BUILD_DIR={tmp_path / 'never'}"],
        cwd=ROOT,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "sam build needs python3.13" in result.stderr
    assert "pyenv install 3.13" in result.stderr
    assert not (tmp_path / "never").exists()


# ---------------------------------------------------------------- shipped bytecode

COMPILE_PROBE = r"""
import importlib.machinery, importlib.util, json, os, sys
paths, function_dir, handler = json.loads(sys.stdin.read())
sys.path[:0] = paths
compiled = []
to_code = importlib.machinery.SourceFileLoader.source_to_code
def recording(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = recording
module_name = handler.rsplit(".", 1)[0]
spec = importlib.util.spec_from_file_location(module_name, os.path.join(function_dir, module_name + ".py"))
module = importlib.util.module_from_spec(spec)
sys.modules[module_name] = module
spec.loader.exec_module(module)
print(json.dumps({"compiled": compiled, "version": list(sys.version_info[:2])}))
"""


def test_every_module_ships_python313_bytecode_that_lambda_uses_as_is(build_dir: Path) -> None:
    """Lambda's code directories are read-only: without shipped .pyc files every cold start would
    compile the layer and the handler again. Each .py has an unchecked-hash .pyc for 3.13 (used
    without a look at the source's mtime, which a zip keeps to 2 s only), recording the path the
    file has in Lambda."""
    from bench.shipped_build import python313

    python = python313()
    magic = subprocess.run(
        [python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    checked = 0
    for root in sorted(p for p in build_dir.iterdir() if p.is_dir()):
        lambda_root = "/opt" if (root / "python").is_dir() else "/var/task"
        for source in root.rglob("*.py"):
            compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
            assert compiled.exists(), f"{source} has no shipped bytecode"
            header = compiled.read_bytes()[:16]
            assert header[:4].hex() == magic, compiled
            assert int.from_bytes(header[4:8], "little") == 0b01, f"{compiled} is not unchecked-hash"
            checked += 1
        app = root / "app.py"
        if app.exists():
            read_path = "import marshal, sys; print(marshal.loads(open(sys.argv[1], 'rb').read()[16:]).co_filename)"
            code_path = subprocess.run(
                [python, "-c", read_path, str(root / "__pycache__" / "app.cpython-313.pyc")],
                capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            assert code_path == f"{lambda_root}/app.py"
    assert checked > 400  # the layer's dependencies too, not only our modules

    # Behaviour: a function imports from the read-only build under python3.13 without compiling
    # anything of the build. (The functions that need pydantic_core, built for aarch64, cannot
    # load it here; bench figure 1 runs them with an x86_64 build of it.)
    runtime = build_dir.parent / "lambda-runtime-313"
    runtime.mkdir(exist_ok=True)
    _runtime_stand_in(runtime)
    layer = _layer_python(build_dir)
    for name in ("ExpirerFunction", "WebhookSenderFunction"):
        handler = _sam_resources("AWS::Serverless::Function")[name]["Properties"]["Handler"]
        result = subprocess.run(
            [python, "-I", "-S", "-B", "-c", COMPILE_PROBE],
            input=json.dumps([[str(build_dir / name), str(layer), str(runtime)], str(build_dir / name), handler]),
            env={"PATH": os.environ["PATH"], "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
                 "AWS_ACCESS_KEY_ID": "probe", "AWS_SECRET_ACCESS_KEY": "probe"},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{name}:\n{result.stderr[-3000:]}"
        probe = json.loads(result.stdout.strip().splitlines()[-1])
        assert probe["version"] == [3, 13]
        from_build = [path for path in probe["compiled"] if path.startswith(str(build_dir))]
        assert from_build == [], f"{name} compiled {from_build[:5]} at import"
