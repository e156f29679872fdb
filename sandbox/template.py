"""Reading ``template.yaml``: the one source of truth for tables, queues, functions, routes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that understands CloudFormation's short-form tags (!Ref, !GetAtt, ...)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@lru_cache(maxsize=4)
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return template


def resources_of_type(resource_type: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load_template()
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def filter_patterns(function: str, event: str, template: dict[str, Any] | None = None) -> list[str]:
    """The FilterCriteria patterns of one event source of a function, as written in the template."""
    template = template or load_template()
    properties = template["Resources"][function]["Properties"]["Events"][event]["Properties"]
    return [f["Pattern"] for f in (properties.get("FilterCriteria") or {}).get("Filters", [])]


def table_definitions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``create_table`` arguments for every DynamoDB table, named after its logical id.

    Also returns the TTL attribute under the private key ``_ttl_attribute``.
    """
    tables = {}
    for name, resource in resources_of_type("AWS::DynamoDB::Table", template).items():
        props = resource["Properties"]
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ttl = props.get("TimeToLiveSpecification", {})
        if ttl.get("Enabled"):
            kwargs["_ttl_attribute"] = ttl["AttributeName"]
        tables[name] = kwargs
    return tables


def create_tables(dynamodb: Any, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Create every table of the template with the given DynamoDB client (moto or emulator)."""
    created = {}
    for name, kwargs in table_definitions(template).items():
        ttl_attribute = kwargs.pop("_ttl_attribute", None)
        description = dynamodb.create_table(**kwargs)["TableDescription"]
        if ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
            )
        created[name] = description
    return created


def parameter_values(template: dict[str, Any] | None = None, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Every template parameter's value: the override if given, else its default."""
    template = template or load_template()
    values = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values.update(overrides or {})
    return values


def condition_is_true(name: str, template: dict[str, Any], parameters: dict[str, str]) -> bool:
    """Evaluate one of the template's Conditions (Equals/Not/And/Or/Condition over Refs)."""

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return parameters.get(node["Ref"], node["Ref"])
        return node

    def truth(node: Any) -> bool:
        if isinstance(node, dict):
            if "Fn::Equals" in node:
                left, right = node["Fn::Equals"]
                return str(value(left)) == str(value(right))
            if "Fn::Not" in node:
                return not truth(node["Fn::Not"][0])
            if "Fn::And" in node:
                return all(truth(n) for n in node["Fn::And"])
            if "Fn::Or" in node:
                return any(truth(n) for n in node["Fn::Or"])
            if "Condition" in node:
                return truth(template["Conditions"][node["Condition"]])
        raise ValueError(f"unsupported condition: {node!r}")

    return truth(template["Conditions"][name])


def resolve_ifs(node: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """``node`` with every Fn::If replaced by its chosen branch and AWS::NoValue dropped."""
    no_value = object()

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            if set(item) == {"Fn::If"}:
                condition, when_true, when_false = item["Fn::If"]
                chosen = when_true if condition_is_true(condition, template, parameters) else when_false
                return walk(chosen)
            if item == {"Ref": "AWS::NoValue"}:
                return no_value
            resolved = {k: walk(v) for k, v in item.items()}
            return {k: v for k, v in resolved.items() if v is not no_value}
        if isinstance(item, list):
            return [v for v in (walk(i) for i in item) if v is not no_value]
        return item

    result = walk(node)
    return None if result is no_value else result
