"""Issue 12 item 8: in the one local process, each log line carries its own invocation's
function name and request id, even while other functions run in other threads."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from sandbox.functions import Function
from sandbox.terminal import install

HANDLER = """
from aws_lambda_powertools import Logger

logger = Logger(service="{service}")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event, context):
    event["injected"].set()  # this invocation's context is now on the shared formatter
    event["go"].wait(10)  # ... while another function's invocation starts in another thread
    logger.info("attempt", extra={{"who": event["who"]}})
    return context.aws_request_id
"""


def _functions(tmp_path: Path) -> dict[str, Function]:
    (tmp_path / "app.py").write_text(HANDLER.format(service=f"context-{uuid.uuid4().hex}"))
    return {
        name: Function(name, tmp_path, "app.lambda_handler", 15, 512, events={}, environment={})
        for name in ("CreatePaymentFunction", "WebhookSenderFunction")
    }


def _interleave(functions: dict[str, Function]) -> dict[str, str]:
    """A starts, B starts, A logs, B logs: each invocation's request id, by function name."""
    events = {name: {"who": name, "injected": threading.Event(), "go": threading.Event()} for name in functions}
    ids: dict[str, str] = {}

    def run(name: str) -> None:
        ids[name] = functions[name].invoke(events[name])

    first, second = (threading.Thread(target=run, args=(name,)) for name in functions)
    a, b = list(functions)
    first.start()
    events[a]["injected"].wait(10)
    second.start()
    events[b]["injected"].wait(10)
    events[a]["go"].set()
    first.join(10)
    events[b]["go"].set()
    second.join(10)
    return ids


@pytest.mark.parametrize("json_lines", [True, False], ids=["LOG_FORMAT=json", "readable"])
def test_each_line_names_its_own_function_and_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], json_lines: bool
) -> None:
    functions = _functions(tmp_path)
    install(functions, json_lines=True)  # the JSON carries every context key, so check it there
    ids = _interleave(functions)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len(lines) == 2
    for line in lines:
        assert line["function_name"] == line["who"]
        assert line["function_request_id"] == ids[line["who"]]
    if not json_lines:
        install(functions, json_lines=False)
        _interleave(functions)
        readable = capsys.readouterr().out.splitlines()
        assert sorted(readable) == ["[CreatePaymentFunction] attempt", "[WebhookSenderFunction] attempt"]


def test_without_the_per_invocation_context_lines_are_mislabelled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The failure this guards against, shown on the same interleaving."""
    functions = _functions(tmp_path)
    _interleave(functions)
    lines: list[dict[str, Any]] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["function_name"] for line in lines if line["who"] == "CreatePaymentFunction"] == [
        "WebhookSenderFunction"
    ]
