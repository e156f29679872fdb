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
