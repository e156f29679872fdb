"""What ``make run`` prints (docs/local-sandbox.md): one readable line per request and per webhook attempt.

All handlers share one process, so they share Powertools' logger (one ``logging`` logger per
service name, one handler, one formatter holding the Lambda context keys). Two invocations
in different threads would label each other's lines: ``install`` wraps every handler so that
each invocation's context lives in its thread, and a filter on the shared handler writes
that context into each record (record attributes win over the formatter's shared keys).

``LOG_FORMAT=json`` keeps Powertools' JSON lines (with the right context); otherwise a
readable formatter replaces it, and expirer runs that expired nothing print nothing.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from sandbox.functions import Function

_invocation = threading.local()
CONTEXT_KEYS = ("function_name", "function_request_id", "function_arn", "function_memory_size")


def raw_json(environ: Mapping[str, str]) -> bool:
    return environ.get("LOG_FORMAT", "").strip().lower() == "json"


def install(functions: Mapping[str, Function], *, json_lines: bool) -> None:
    """Per-invocation log context for every loaded handler; readable lines unless ``json_lines``."""
    for function in functions.values():
        module = function.load()
        name = function.handler.rpartition(".")[2]
        entry = getattr(module, name)
        if not getattr(entry, "_sandbox_context", False):
            setattr(module, name, _with_context(entry))
    # Metrics are off locally; Powertools still warns once per function that it had none to publish.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    for handler in _powertools_handlers(functions):
        if not any(isinstance(f, InvocationContext) for f in handler.filters):
            handler.addFilter(InvocationContext())
        if not json_lines:
            handler.addFilter(quiet)
            handler.setFormatter(Readable())


def _with_context(entry: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def invoke(event: Any, context: Any) -> Any:
        previous = getattr(_invocation, "context", None)
        _invocation.context = context
        try:
            response = entry(event, context)
        finally:
            _invocation.context = previous
        _note_error_code(response)
        return response

    invoke._sandbox_context = True  # type: ignore[attr-defined]
    return invoke


def _powertools_handlers(functions: Mapping[str, Function]) -> list[logging.Handler]:
    """The handlers of the handlers' own Powertools loggers (one per service name)."""
    from aws_lambda_powertools import Logger

    found: list[logging.Handler] = []
    for function in functions.values():
        for value in vars(function.load()).values():
            if isinstance(value, Logger) and value.registered_handler not in found:
                found.append(value.registered_handler)
    return found


class InvocationContext(logging.Filter):
    """Label a record with the context of the invocation running in its thread."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = getattr(_invocation, "context", None)
        if context is not None:
            record.function_name = context.function_name
            record.function_request_id = context.aws_request_id
            record.function_arn = context.invoked_function_arn
            record.function_memory_size = context.memory_limit_in_mb
        return True


# ---------------------------------------------------------------------- requests


def _note_error_code(response: Any) -> None:
    """Keep an API answer's error code for this thread's request line."""
    code = None
    if isinstance(response, dict) and int(response.get("statusCode") or 200) >= 400:
        try:
            code = json.loads(response.get("body") or "")["error"]["code"]
        except (ValueError, TypeError, KeyError):
            code = None
    _invocation.error_code = code


def readable_request(line: str) -> str:
    """The gateway's access line (``"POST /x HTTP/1.1" 422 -``) as ``[api] POST /x 422 code``."""
    found = re.match(r'^"([^"]*)" (\d{3}) ', line)
    return request_line(found.group(1), found.group(2)) if found else f"[api] {line}"


def request_line(requestline: str, status: str) -> str:
    """``[api] POST /api/create-invoice 422 validation_error`` (query strings left out)."""
    method, _, rest = requestline.partition(" ")
    path = rest.rsplit(" ", 1)[0].split("?", 1)[0]
    code = getattr(_invocation, "error_code", None)
    _invocation.error_code = None
    if code is None and status == "404":
        code = "route_not_found" if not path.startswith("/checkout/") else None
    return f"[api] {method} {path} {status}" + (f" {code}" if code else "")


# ---------------------------------------------------------------------- handler lines


def quiet(record: logging.LogRecord) -> bool:
    """Drop lines that say nothing new: idle expirer runs, the dead-letter echo of an attempt."""
    message = record.getMessage()
    if message == "expirer run":
        return bool(getattr(record, "expired", 0))
    return message != "webhook dead-lettered"


class Readable(LambdaPowertoolsFormatter):
    """Powertools' formatter (the logger calls its key methods) with a one-line rendering."""

    SHOWN = ("payment_id", "to", "code", "error", "card_mask")

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if message == "webhook attempt":
            return webhook_line(record.__dict__)
        if message == "expirer run":
            return f"[expirer] expired {record.__dict__.get('expired')} payment(s)"
        source = getattr(record, "function_name", None) or record.name
        fields = " ".join(f"{k}={record.__dict__[k]}" for k in self.SHOWN if record.__dict__.get(k) is not None)
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        line = f"[{source}] {level}{message}" + (f" ({fields})" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def webhook_line(fields: Mapping[str, Any]) -> str:
    """``[webhook] payment.completed pay_tx-1 -> http://…/hooks: 503, retry in 10 s``."""
    answer = str(fields.get("response_status") or _short(fields.get("error")) or "no answer")
    outcome = str(fields.get("outcome"))
    result = f"delivered ({answer})" if outcome == "delivered" else f"{outcome} ({answer})"
    following = {
        "retry": f", retry in {_seconds(fields.get('retry_in_s'))} s",
        "dead_letter": ", dead-lettered",
        "unscheduled": ", not scheduled yet (the job is retried)",
    }.get(str(fields.get("next")), "")
    attempt = fields.get("attempt")
    return (
        f"[webhook] {fields.get('event')} {fields.get('payment_id')} -> {fields.get('target')}: "
        f"attempt {attempt} {result}{following}"
    )


def _short(error: Any) -> str:
    """``connection failed: NewConnectionError: …: [Errno 111] Connection refused`` -> its last part."""
    text = str(error or "")
    return text.rsplit(": ", 1)[-1] if len(text) > 60 else text


def _seconds(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "?"
    return str(int(number)) if number == int(number) else f"{number:.1f}"
