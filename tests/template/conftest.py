"""Template tests need the SAM CLI from .venv-sam (its own virtualenv, see requirements-sam.txt).

`make test` creates it before pytest runs. Run alone without it, these tests skip with the
command to run; under CI=true a missing SAM CLI is a failure, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import ROOT

SAM_CLI = ROOT / ".venv-sam" / "bin" / "sam"


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    if not SAM_CLI.exists():
        message = f"SAM CLI not found at {SAM_CLI}: run `make sam-setup` (make test does it first)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SAM_CLI


@pytest.fixture(scope="session")
def sam_env() -> dict[str, str]:
    """Environment for SAM CLI subprocesses: no telemetry, and none of the test run's fake AWS
    credentials are needed (validate and build work offline from AWS)."""
    env = dict(os.environ)
    env["SAM_CLI_TELEMETRY"] = "0"
    return env
