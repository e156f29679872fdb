"""What each function's IAM role allows, from template.yaml, and which recorded calls it refuses.

The template is expanded by aws-sam-translator (``cloudformation.translate``: policy templates
such as ``DynamoDBReadPolicy`` become their real statements), then every statement's resources
are resolved to the names the local runs give the template's resources: tables, queues and
secrets are named after their logical ids (``harness/fake_aws.py``, the integration queues,
``test_cloud_secrets``), in moto's account and the process's region. A secret's ARN ends in a
random six-character suffix, so its Ref resolves to ``<name>-??????``.

Approximations, all in the permissive direction: an ``Fn::If`` grants both branches (the SES
statement exists when a sender is configured, which is when the checkout sends mail), and IAM
conditions are not evaluated. Only Allow statements exist in the template.
"""

from __future__ import annotations

import itertools
import os
import re
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from harness.aws_calls import ACCOUNT_ID, Call
from sandbox.template import load_template, parameter_values
from tests.template.cloudformation import translate


def _branches(node: Any) -> list[Any]:
    """Both branches of an ``Fn::If`` (recursively); nothing for ``AWS::NoValue``."""
    if isinstance(node, dict) and "Fn::If" in node:
        _, when_true, when_false = node["Fn::If"]
        return _branches(when_true) + _branches(when_false)
    if node == {"Ref": "AWS::NoValue"}:
        return []
    return [node]


class Resolver:
    """Ref, GetAtt and Sub of the template's resources, as names of the local run."""

    def __init__(self, template: dict[str, Any]):
        region = os.environ.get("AWS_REGION", "")
        self.types = {name: resource["Type"] for name, resource in template["Resources"].items()}
        self.pseudo = {"AWS::Region": region, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws"}
        self.parameters = parameter_values(template)
        self.arn = f"arn:aws:{{}}:{region}:{ACCOUNT_ID}:{{}}"

    def values(self, node: Any) -> list[str]:
        """Every string ``node`` can be (an ``Fn::If`` gives two); empty values are dropped."""
        found: list[str] = []
        for branch in _branches(node):
            if isinstance(branch, str):
                found.append(branch)
            elif "Ref" in branch:
                found.append(self.ref(branch["Ref"]))
            elif "Fn::GetAtt" in branch:
                found.append(self.attribute(*branch["Fn::GetAtt"]))
            elif "Fn::Sub" in branch:
                found.extend(self.sub(branch["Fn::Sub"]))
            else:
                raise ValueError(f"IAM check: cannot resolve {branch!r} in a policy")
        return [value for value in found if value]

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if self.types.get(name) == "AWS::SecretsManager::Secret":
            return self.arn.format("secretsmanager", f"secret:{name}-??????")
        return name  # tables and queues are named after their logical ids

    def attribute(self, name: str, attribute: str) -> str:
        kind = self.types.get(name)
        if kind == "AWS::DynamoDB::Table" and attribute in ("Arn", "StreamArn"):
            return self.arn.format("dynamodb", f"table/{name}") + ("/stream/*" if attribute == "StreamArn" else "")
        if kind == "AWS::SQS::Queue" and attribute in ("Arn", "QueueName"):
            return self.arn.format("sqs", name) if attribute == "Arn" else name
        raise ValueError(f"IAM check: cannot resolve {name}.{attribute} in a policy")

    def sub(self, argument: str | list[Any]) -> list[str]:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        names = sorted(set(re.findall(r"\$\{([^}!]+)\}", text)))
        choices = []
        for name in names:
            if name in variables:
                choices.append(self.values(variables[name]))
            elif "." in name:
                choices.append([self.attribute(*name.split(".", 1))])
            else:
                choices.append([self.ref(name)])
        results = []
        for combination in itertools.product(*choices):
            result = text
            for name, value in zip(names, combination, strict=True):
                result = result.replace("${" + name + "}", value)
            results.append(result)
        return results


Grants = dict[str, list[tuple[list[str], list[str]]]]


@cache
def granted() -> Grants:
    """``grants_of`` the template.yaml of this checkout, translated once per run."""
    return grants_of(load_template())


def grants_of(template: dict[str, Any]) -> Grants:
    """Per function (logical id): its Allow statements as (actions, resolved resources)."""
    translated = translate(template)
    resolver = Resolver(translated)
    resources = translated["Resources"]
    grants: Grants = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        statements = grants.setdefault(name, [])
        for policy in itertools.chain.from_iterable(_branches(p) for p in role.get("Policies", [])):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                resolved = [value for target in targets for value in resolver.values(target)]
                statements.append(([a.lower() for a in actions], resolved))
    return grants


def is_granted(call: Call, grants: Grants | None = None) -> bool:
    """IAM's matching: actions case-insensitively, both with ``*`` and ``?`` wildcards."""
    return any(
        any(fnmatchcase(call.action.lower(), action) for action in actions)
        and any(fnmatchcase(call.resource, resource) for resource in resources)
        for actions, resources in (grants or granted()).get(call.function, [])
    )


def ungranted(calls: dict[Call, str]) -> str:
    """A report of every call no statement of its function allows ("" when all are allowed).

    Only the template's functions are held to it: a function a test builds itself (a stand-in
    handler for the sandbox's pollers, e.g. ``make_function("StreamFn")``) has no policy, and
    what its body calls is the test's own instrumentation."""
    grants = granted()
    refused = sorted(call for call in calls if call.function in grants and not is_granted(call, grants))
    if not refused:
        return ""
    lines = [f"{len(refused)} AWS call(s) the function's IAM policy in template.yaml does not allow:"]
    for call in refused:
        lines.append(f"  {call.function}  {call.action}  on {call.resource}  (first in {calls[call] or '?'})")
    lines.append("Grant them in the function's Policies (moto has no IAM: in AWS they would be AccessDenied).")
    return "\n".join(lines)
