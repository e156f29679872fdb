"""The template's stateful resources on the emulator, and its intrinsics resolved to them.

``deploy(template, clients, ...)`` creates the tables (TTL, streams), queues (with their
attributes and redrive policies pointing at the emulator's ARNs) and secrets, all named
after their logical ids, and returns a ``Stack`` that resolves ``!Ref``/``!GetAtt``/``!Sub``
the way CloudFormation would have on this "account": parameters to their defaults (or the
local overrides), tables to their names, queues to their URLs, ``.Arn`` to emulator ARNs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.template import condition_is_true, create_tables, resources_of_type

ACCOUNT_ID = "123456789012"  # moto's default account

# SQS queue properties that are queue attributes under the same name.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "SqsManagedSseEnabled",
)


class UnresolvableReference(ValueError):
    pass


@dataclass
class Stack:
    """What the template's intrinsics mean on the emulator."""

    region: str
    parameters: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> !Ref value
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)  # (id, attr) -> value
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> secret value
    template: dict[str, Any] = field(default_factory=dict)  # for its Conditions

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "paysandbox-local",
            "AWS::NoValue": "",
        }

    def ref(self, name: str) -> str:
        for source in (self.parameters, self.refs, self.pseudo()):
            if name in source:
                return source[name]
        raise UnresolvableReference(f"!Ref {name} has no local meaning")

    def get_att(self, name: str, attribute: str) -> str:
        try:
            return self.attributes[(name, attribute)]
        except KeyError:
            raise UnresolvableReference(f"!GetAtt {name}.{attribute} has no local meaning") from None

    def condition(self, name: str) -> bool:
        return condition_is_true(name, self.template, self.parameters)

    def exists(self, resource: dict[str, Any]) -> bool:
        """Whether CloudFormation would create the resource (its Condition, if any, holds)."""
        return "Condition" not in resource or self.condition(resource["Condition"])

    def queue_url(self, arn: str) -> str:
        for (name, attribute), value in self.attributes.items():
            if attribute == "Arn" and value == arn and (name, "QueueUrl") in self.attributes:
                return self.attributes[(name, "QueueUrl")]
        raise UnresolvableReference(f"{arn} is not a queue of this template")

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsics anywhere inside ``value`` (plain values pass through)."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            name, attribute = value["Fn::GetAtt"]
            return self.get_att(name, attribute)
        if set(value) == {"Fn::If"}:
            condition, when_true, when_false = value["Fn::If"]
            return self.resolve(when_true if self.condition(condition) else when_false)
        if set(value) == {"Fn::Sub"}:
            return self._sub(value["Fn::Sub"])
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(p)) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, spec: str | list[Any]) -> str:
        text, variables = (spec, {}) if isinstance(spec, str) else (spec[0], self.resolve(spec[1]))

        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def table_arn(region: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}"


def deploy(
    template: dict[str, Any],
    dynamodb: Any,
    sqs: Any,
    secretsmanager: Any,
    *,
    region: str,
    parameters: dict[str, str],
    secret_values: dict[str, str],
) -> Stack:
    """Create the template's tables, queues and secrets on the emulator."""
    stack = Stack(region=region, parameters=parameters, template=template)

    for name, description in create_tables(dynamodb, template).items():
        stack.refs[name] = name
        stack.attributes[(name, "Arn")] = description["TableArn"]
        if description.get("LatestStreamArn"):
            stack.attributes[(name, "StreamArn")] = description["LatestStreamArn"]

    queues = {n: r for n, r in resources_of_type("AWS::SQS::Queue", template).items() if stack.exists(r)}
    # Dead-letter queues first: a redrive policy names its target's ARN.
    for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n].get("Properties", {})):
        props = stack.resolve(queues[name].get("Properties") or {})
        queue_name = props.get("QueueName") or (f"{name}.fifo" if props.get("FifoQueue") else name)
        attributes = {key: _attribute(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        stack.refs[name] = url
        stack.attributes.update({(name, "Arn"): arn, (name, "QueueUrl"): url, (name, "QueueName"): queue_name})

    for name, resource in resources_of_type("AWS::SecretsManager::Secret", template).items():
        if not stack.exists(resource):
            continue
        props = stack.resolve(resource.get("Properties") or {})
        value = secret_values[name]
        created = secretsmanager.create_secret(
            Name=props.get("Name") or name, SecretString=value, Description=props.get("Description", "")
        )
        stack.refs[name] = created["ARN"]
        stack.attributes[(name, "Id")] = created["ARN"]
        stack.secrets[name] = value

    return stack


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
