"""Shared test set-up: a moto-mocked AWS with the template's own tables, handler loading by
path (every function's module is called ``app``), and API Gateway events.

Environment is fixed before anything imports boto3, so module-level clients in the layer
see the fake region and credentials.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]

from harness.fake_aws import fake_aws_environment, handler_environment, moto_account, use_fake_aws  # noqa: E402

TEST_ENV = {
    **fake_aws_environment(),
    **handler_environment("paysandbox-tests", "test-operator-token", "test-webhook-secret"),
}
use_fake_aws(TEST_ENV)
os.environ.pop("PAYMENT_WEBHOOK_SECRET", None)  # the alias would win over WEBHOOK_SECRET

from harness.aws_calls import record_calls, recorded, watch_handler  # noqa: E402
from sandbox.functions import container_hooks  # noqa: E402

# Every AWS call a handler makes is recorded (before any client exists, so all are hooked) and
# checked at the end of the run against its function's IAM policy (docs/testing.md).
record_calls()
container_hooks.append(lambda function, module: watch_handler(function.logical_id, module, function.entry))

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402, F401  (imported before any handler creates a client)

from harness.sandbox_process import Sandbox, start_sandbox  # noqa: E402
from tests.support import Api  # noqa: E402


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh mocked AWS account holding the template's tables."""
    with moto_account():
        yield


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change environment-derived settings for one test."""
    from paysandbox.settings import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def merchant(aws: None) -> Api:
    return Api("create_payment")


@pytest.fixture
def operator(aws: None) -> Api:
    return Api("confirm")


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Any]:
    """``start(**env)`` starts ``python -m sandbox`` (harness.sandbox_process); any still running
    at the end is killed (the test failed)."""
    started: list[Sandbox] = []

    def start(**env: str) -> Sandbox:
        sandbox = start_sandbox(tmp_path, **env)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a handler made an AWS call its IAM policy does not allow."""
    if not recorded:
        return
    from tests.template.iam_grants import ungranted

    report = ungranted(recorded)
    session.config.stash[IAM_REPORT] = report
    if report and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(IAM_REPORT, "")
    if report:
        terminalreporter.write_sep("=", "IAM: calls template.yaml does not grant", red=True)
        terminalreporter.write_line(report)


IAM_REPORT = pytest.StashKey[str]()
