"""Teams table access. Every team item sits in one partition (``pk = "team"``, sort key the
team id), so reading one team is a GetItem and listing them is a Query: never a Scan."""

from __future__ import annotations

from typing import Any

from paysandbox.repository import ConditionFailed, dynamodb, from_item, required_table, to_attr, to_item
from paysandbox.settings import get_settings

PARTITION = "team"


def _table() -> str:
    return required_table(get_settings().teams_table, "TEAMS_TABLE")


def _key(team_id: str) -> dict[str, Any]:
    return {"pk": {"S": PARTITION}, "team_id": {"S": team_id}}


def put_new(item: dict[str, Any]) -> None:
    """Create a team unless it exists; raises ConditionFailed otherwise."""
    try:
        dynamodb.put_item(
            TableName=_table(),
            Item=to_item({**item, "pk": PARTITION}),
            ConditionExpression="attribute_not_exists(team_id)",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as exc:
        raise ConditionFailed(None) from exc


def get(team_id: str) -> dict[str, Any] | None:
    item = dynamodb.get_item(TableName=_table(), Key=_key(team_id), ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def list_all() -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": PARTITION}},
    }
    found: list[dict[str, Any]] = []
    while True:
        response = dynamodb.query(**kwargs)
        found.extend(from_item(i) for i in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return found
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def update(team_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Set ``values`` on an existing team; raises ConditionFailed when it does not exist."""
    names = {f"#v{i}": k for i, k in enumerate(values)}
    attrs = {f":v{i}": to_attr(v) for i, v in enumerate(values.values())}
    try:
        response = dynamodb.update_item(
            TableName=_table(),
            Key=_key(team_id),
            UpdateExpression="SET " + ", ".join(f"#v{i} = :v{i}" for i in range(len(values))),
            ConditionExpression="attribute_exists(team_id)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=attrs,
            ReturnValues="ALL_NEW",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as exc:
        raise ConditionFailed(None) from exc
    return from_item(response["Attributes"])


def delete(team_id: str) -> bool:
    """Delete a team; False when there was none."""
    response = dynamodb.delete_item(TableName=_table(), Key=_key(team_id), ReturnValues="ALL_OLD")
    return "Attributes" in response
