"""The environment handlers see locally: the template's variables, resolved, plus local overrides.

All functions run in one Python process, so they share one ``os.environ``. We set the union
of every function's (resolved) variables once, before any handler is imported, and refuse
to start if two functions give one variable different values. Swapping ``os.environ``
per invocation would not work: Powertools reads ``POWERTOOLS_*`` at import time and the
domain package parses its settings once per process, exactly as in a Lambda container, so
a per-invoke swap would be silently ignored. Today every variable comes from ``Globals``,
so the union is exact; a future per-function difference that conflicts fails loudly here.
"""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Mapping
from typing import Any

from sandbox.functions import Function
from sandbox.stack import Stack
from sandbox.template import resolve_ifs

# Variables a user may override for the local sandbox (plus a few harmless knobs).
LOCAL_OVERRIDES = (
    "PAYMENT_TTL_SECONDS",
    "RETENTION_DAYS",
    "WEBHOOK_MAX_ATTEMPTS",
    "WEBHOOK_RETRY_DELAYS",
    "WEBHOOK_TIMEOUT_SECONDS",
    "ALLOW_PRIVATE_WEBHOOK_TARGETS",
    "SANDBOX_SHOW_OTP",
    "REQUIRE_API_KEYS",
    "SES_SENDER",
    "PUBLIC_BASE_URL",
    "POWERTOOLS_LOG_LEVEL",
)
# Local defaults that differ from the cloud's: receivers on localhost must work.
LOCAL_DEFAULTS = {"ALLOW_PRIVATE_WEBHOOK_TARGETS": "true"}


class EnvironmentConflict(ValueError):
    pass


def secret_variables(
    functions: Mapping[str, Function], template: dict[str, Any], parameters: Mapping[str, str]
) -> dict[str, str]:
    """Secret logical id -> the environment variable that carries its value locally.

    A handler variable ``X_ARN: !Ref SomeSecret`` means the secret is read from ``X`` when
    set (``paysandbox.secret_store``), so ``SomeSecret``'s local value lives in ``X``.
    """
    secret_ids = {
        name for name, res in (template.get("Resources") or {}).items() if res["Type"] == "AWS::SecretsManager::Secret"
    }
    found = {}
    for function in functions.values():
        for variable, raw in function.environment.items():
            value = resolve_ifs(raw, template, dict(parameters))  # e.g. !If [CreateX, !Ref X, !Ref ExistingXArn]
            if isinstance(value, dict) and value.get("Ref") in secret_ids and variable.endswith("_ARN"):
                found[value["Ref"]] = variable.removesuffix("_ARN")
    return found


def secret_values(variables: Mapping[str, str], environ: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
    """Each secret's value from the environment, or a fresh random one; and which were generated."""
    values, generated = {}, set()
    for secret_id, variable in variables.items():
        given = environ.get(variable) or (environ.get("PAYMENT_WEBHOOK_SECRET") if variable == "WEBHOOK_SECRET" else "")
        if not given:
            given = random_secrets.token_urlsafe(30)
            generated.add(secret_id)
        values[secret_id] = given
    return values, generated


def function_environment(function: Function, stack: Stack, environ: Mapping[str, str]) -> dict[str, str]:
    """One function's variables as Lambda would see them here, with the local overrides."""
    resolved = {}
    for name, raw in function.environment.items():
        value = resolve_ifs(raw, stack.template, stack.parameters)
        if isinstance(value, dict) and value.get("Ref") in stack.secrets:
            resolved[name] = ""  # locally the value comes from the plain variable (see above)
        else:
            resolved[name] = str(stack.resolve(value))
    for name in LOCAL_OVERRIDES:
        if name in resolved and name in environ:
            resolved[name] = environ[name]
        elif name in resolved and name in LOCAL_DEFAULTS:
            resolved[name] = LOCAL_DEFAULTS[name]
    return resolved


def shared_environment(
    functions: Mapping[str, Function], stack: Stack, environ: Mapping[str, str], secret_vars: Mapping[str, str]
) -> dict[str, str]:
    """The union of every function's environment, plus the secrets' plain variables."""
    union: dict[str, str] = {}
    owner: dict[str, str] = {}
    for function in functions.values():
        for name, value in function_environment(function, stack, environ).items():
            if name in union and union[name] != value:
                raise EnvironmentConflict(
                    f"{owner[name]} and {function.logical_id} set {name} differently; "
                    "the local sandbox runs all functions in one process and cannot give them different values."
                )
            union[name], owner[name] = value, function.logical_id
    for secret_id, variable in secret_vars.items():
        union[variable] = stack.secrets[secret_id]
    return union
