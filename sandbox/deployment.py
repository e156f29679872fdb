"""The template deployed into the emulator: the one sequence ``python -m sandbox`` and the
sandbox's tests both run.

Parameters at their defaults, the secrets' values (taken from ``environ`` or generated), then
every stateful resource created (``sandbox.stack.deploy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.environment import secret_values, secret_variables
from sandbox.functions import Function, functions
from sandbox.stack import Stack, deploy
from sandbox.template import load_template, parameter_values


@dataclass
class Deployment:
    template: dict[str, Any]
    functions: dict[str, Function]
    parameters: dict[str, Any]
    secret_variables: dict[str, str]  # secret's logical id -> the plain variable it feeds
    generated: set[str]  # the secrets whose values were generated (not given in environ)
    stack: Stack


def deploy_template(
    clients: Any, region: str, environ: Mapping[str, str], template: dict[str, Any] | None = None
) -> Deployment:
    """Deploy ``template`` (default: template.yaml) with ``clients`` (``.dynamodb``, ``.sqs``,
    ``.secretsmanager``) bound to the emulator."""
    template = load_template() if template is None else template
    found = functions(template)
    parameters = parameter_values(template)
    variables = secret_variables(found, template, parameters)
    values, generated = secret_values(variables, environ)
    stack = deploy(
        template,
        clients.dynamodb,
        clients.sqs,
        clients.secretsmanager,
        region=region,
        parameters=parameters,
        secret_values=values,
    )
    return Deployment(template, found, parameters, variables, generated, stack)
