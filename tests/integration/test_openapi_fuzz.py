"""Schemathesis against the local sandbox started as ``make run`` starts it:
no 5xx, and every answer (status, content type, body) is one the document describes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness.sandbox_process import ROOT, TOKEN, Sandbox, start_sandbox

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("openapi"))
    yield running
    running.stop()


# Loaded from the file the API serves (the schemathesis pytest plugin's lazy loader,
# ``from_fixture``, does not work with pytest 9.2); the first test checks the two are the same.
DOCUMENT = json.loads((ROOT / "functions" / "create_payment" / "openapi.json").read_text(encoding="utf-8"))
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.update(headers={"Authorization": f"Bearer {TOKEN}"})


def test_the_fuzzed_document_is_the_one_the_api_serves(sandbox: Sandbox) -> None:
    assert sandbox.request("GET", "/openapi.json") == (200, DOCUMENT)


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_described_and_none_is_a_server_error(case: Any, sandbox: Sandbox) -> None:
    case.call_and_validate(base_url=sandbox.url, checks=CHECKS)
