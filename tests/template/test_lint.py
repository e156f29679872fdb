"""The template passes both linters as they are run by hand and by `make test`.

Real runs of the real tools (cfn-lint from .venv, SAM CLI from .venv-sam): a finding of any
level (error, warning or informational) fails the test, and the tools' own output is shown.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

TEMPLATE = ROOT / "template.yaml"


def run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)


def test_cfn_lint_finds_nothing() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = run([str(cfn_lint), "--include-checks", "I", "--", str(TEMPLATE)])  # informational too
    assert result.returncode == 0, f"cfn-lint findings:\n{result.stdout}{result.stderr}"


def test_sam_validate_lint_passes(sam_cli: Path, sam_env: dict[str, str]) -> None:
    result = run([str(sam_cli), "validate", "--lint", "--template-file", str(TEMPLATE)], env=sam_env)
    assert result.returncode == 0, f"sam validate --lint:\n{result.stdout}{result.stderr}"
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_samconfig_environments_deploy_valid_parameters(sam_cli: Path, sam_env: dict[str, str]) -> None:
    """Each samconfig.toml environment: SAM CLI reads it, and its parameter_overrides name real
    template parameters with values CloudFormation would accept (a typo fails here, not at
    deploy time in someone's account)."""
    import re
    import tomllib

    from sandbox.template import load_template

    parameters = load_template()["Parameters"]
    environments = tomllib.loads((ROOT / "samconfig.toml").read_text())
    environments.pop("version")
    assert {"default", "prod"} <= set(environments)
    for name, config in environments.items():
        deploy = config["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM" and deploy["resolve_s3"] is True, name
        # Teams share accounts: no environment names a stack everyone would deploy onto, and
        # every deploy shows its change set and asks first.
        assert "stack_name" not in {k for section in config.values() for k in section["parameters"]}, name
        assert deploy["confirm_changeset"] is True, name
        overrides = dict(p.split("=", 1) for p in deploy["parameter_overrides"].split())
        assert overrides["Stage"] == ("dev" if name == "default" else name)
        for key, value in overrides.items():
            spec = parameters[key]  # KeyError: not a template parameter
            if "AllowedValues" in spec:
                assert value in [str(v) for v in spec["AllowedValues"]], (name, key, value)
            if "AllowedPattern" in spec:
                assert re.fullmatch(spec["AllowedPattern"], value), (name, key, value)
            if spec["Type"] == "Number":
                assert spec.get("MinValue", float("-inf")) <= float(value) <= spec.get("MaxValue", float("inf"))
        if name == "default":
            continue  # test_sam_validate_lint_passes already runs with [default]
        result = run([str(sam_cli), "validate", "--config-env", name, "--template-file", str(TEMPLATE)], env=sam_env)
        assert result.returncode == 0, f"sam validate --config-env {name}:\n{result.stdout}{result.stderr}"


def test_make_deploy_refuses_to_run_without_a_stack_name() -> None:
    env = {k: v for k, v in os.environ.items() if k != "STACK"}
    result = run(["make", "--no-print-directory", "deploy"], env=env)
    assert result.returncode != 0
    assert "make deploy STACK=paysandbox-<team>" in result.stderr
    assert "sam build" not in result.stdout + result.stderr  # refused before building anything
