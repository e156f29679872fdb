"""Which AWS calls each Lambda function's handler makes: what its IAM policy must allow.

Moto has no IAM, so a call the template forgot to grant passes every local test and fails in
the cloud (AccessDenied). ``record_calls()`` adds a botocore hook to every botocore session
created afterwards (moto installs its own stub the same way), so the layer's module-level
clients, the lazily created ones and Powertools' own Secrets Manager client are all seen.
``watch_handler`` wraps a loaded handler module's entry so that a call made while it runs is
attributed to its function; calls made outside a handler (test set-up, the sandbox's own
emulator calls) are not recorded, nor calls made from inside another call (a benchmark's
botocore hook reading an item with its own client is not the handler's request).
``tests/template/iam_grants.py`` checks the record against the template.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from contextvars import ContextVar
from types import ModuleType
from typing import Any, NamedTuple

ACCOUNT_ID = "123456789012"  # moto's default account, the one the tests and the sandbox use


class Call(NamedTuple):
    function: str  # the template's logical id
    action: str  # IAM action, e.g. dynamodb:BatchGetItem
    resource: str  # the ARN IAM authorises it on


_running: ContextVar[str | None] = ContextVar("running_function", default=None)
recorded: dict[Call, str] = {}  # call -> where it was first seen (the running test, if any)


def record_calls() -> None:
    """Hook every botocore session created from now on (call before any client exists)."""
    from botocore.handlers import BUILTIN_HANDLERS

    if ("before-parameter-build", _record) not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(("before-parameter-build", _record))


def watch_handler(function: str, module: ModuleType, entry: str) -> None:
    """Replace ``module.<entry>`` by a wrapper naming ``function`` as the caller while it runs."""
    original: Callable[..., Any] = getattr(module, entry)

    @functools.wraps(original)
    def running_as_function(*args: Any, **kwargs: Any) -> Any:
        token = _running.set(function)
        try:
            return original(*args, **kwargs)
        finally:
            _running.reset(token)

    setattr(module, entry, running_as_function)


def _inside_another_call() -> bool:
    """Whether a botocore API call is already under way further up this thread's stack."""
    import inspect

    from botocore.client import BaseClient

    api_call = inspect.unwrap(BaseClient._make_api_call).__code__
    frame, seen = inspect.currentframe(), 0
    while frame is not None:
        seen += frame.f_code is api_call
        frame = frame.f_back
    return seen > 1


def _record(params: dict[str, Any], model: Any, **_: Any) -> None:
    function = _running.get()
    if function is None or _inside_another_call():
        return
    action = f"{model.service_model.signing_name}:{model.name}"
    where = os.environ.get("PYTEST_CURRENT_TEST", "").split(" (")[0]
    for resource in _resources(model.service_model.signing_name, params):
        recorded.setdefault(Call(function, action, resource), where)


def _resources(service: str, params: dict[str, Any]) -> list[str]:
    """The ARNs IAM checks for one request; ``*`` when this module does not know the operation
    (the check then fails until a statement grants ``*`` or this learns the operation)."""
    region = os.environ.get("AWS_REGION", "")
    prefix = f"arn:aws:{service}:{region}:{ACCOUNT_ID}"
    if service == "dynamodb":
        tables = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
        index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
        return [f"{prefix}:table/{table}{index}" for table in tables] or ["*"]
    if service == "sqs" and "QueueUrl" in params:
        return [f"{prefix}:{params['QueueUrl'].rstrip('/').rsplit('/', 1)[-1]}"]
    if service == "secretsmanager" and "SecretId" in params:
        secret = params["SecretId"]
        return [secret if secret.startswith("arn:") else f"{prefix}:secret:{secret}"]
    if service == "ses" and "Source" in params:
        return [f"{prefix}:identity/{params['Source']}"]
    return ["*"]
