"""Payments table access: conditional create, read, conditional transitions, index queries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from paysandbox.repository import ConditionFailed, batch_get, dynamodb, from_item, required_table, to_attr, to_item
from paysandbox.settings import get_settings

# While a payment is open it carries this partition key of the sparse `by-expiry` index.
DUE_PARTITION = "open"
STATUS_INDEX = "by-status"
EXPIRY_INDEX = "by-expiry"
REFERENCE_INDEX = "by-reference"
STATUS_INDEX_KEYS: dict[str, type] = {"payment_id": str, "status_group": str, "created_at": float}
REFERENCE_INDEX_KEYS: dict[str, type] = {"payment_id": str, "reference": str, "created_at": float}


# ``update_if(expiry=...)``: the payment must be unexpired (expires_at > now) or expired.
# A Literal, and a lookup that fails on anything else: a typo cannot invert the check.
Expiry = Literal["unexpired", "expired"]
_EXPIRY_CONDITIONS: dict[str, str] = {"unexpired": "expires_at > :now", "expired": "expires_at <= :now"}


@dataclass(frozen=True)
class Below:
    """In ``update_if(require=...)``: the attribute must exist and be less than ``limit``."""

    limit: int


def _table() -> str:
    return required_table(get_settings().payments_table, "PAYMENTS_TABLE")


def put_new(item: dict[str, Any]) -> None:
    """Create a payment unless its id exists; raises ConditionFailed with the existing one."""
    try:
        dynamodb.put_item(
            TableName=_table(),
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(payment_id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as exc:
        raise ConditionFailed(_old_item(exc)) from exc


def get(payment_id: str) -> dict[str, Any] | None:
    response = dynamodb.get_item(TableName=_table(), Key={"payment_id": {"S": payment_id}}, ConsistentRead=True)
    item = response.get("Item")
    return from_item(item) if item else None


def update_if(
    payment_id: str,
    *,
    from_statuses: set[str],
    set_values: dict[str, Any],
    remove: tuple[str, ...] = (),
    add: dict[str, int] | None = None,
    expiry_condition: Expiry | None = None,
    now: float | None = None,
    require: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Update a payment only while its status is one of ``from_statuses``.

    ``expiry_condition`` adds ``"unexpired"`` (expires_at > now) or ``"expired"``
    (expires_at <= now) to the condition. ``require`` adds one condition per attribute: equal
    to the value given, absent for ``None``, less than ``Below.limit``. Returns the new item;
    raises ConditionFailed with the current item (None when the payment does not exist) when
    the condition does not hold.
    """
    expression = _Expression()
    update = expression.update(set_values, add or {}, remove)
    condition = expression.condition(from_statuses, expiry_condition, now, require or {})
    try:
        response = dynamodb.update_item(
            TableName=_table(),
            Key={"payment_id": {"S": payment_id}},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=expression.names,
            ExpressionAttributeValues=expression.values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as exc:
        raise ConditionFailed(_old_item(exc)) from exc
    return from_item(response["Attributes"])


@dataclass
class _Expression:
    """The names and values one conditional UpdateItem's two expressions share (placeholders
    throughout, so no attribute name can clash with a reserved word)."""

    names: dict[str, str] = field(default_factory=lambda: {"#status": "status"})
    values: dict[str, Any] = field(default_factory=dict)

    def update(self, set_values: dict[str, Any], add: dict[str, int], remove: tuple[str, ...]) -> str:
        sets, adds, removes = [], [], []
        for i, (name, value) in enumerate(set_values.items()):
            self.names[f"#s{i}"], self.values[f":s{i}"] = name, to_attr(value)
            sets.append(f"#s{i} = :s{i}")
        for i, (name, amount) in enumerate(add.items()):
            self.names[f"#a{i}"], self.values[f":a{i}"] = name, to_attr(amount)
            adds.append(f"#a{i} :a{i}")
        for i, name in enumerate(remove):
            self.names[f"#r{i}"] = name
            removes.append(f"#r{i}")
        clauses = [("SET ", sets), (" ADD ", adds), (" REMOVE ", removes)]
        return "".join(keyword + ", ".join(parts) for keyword, parts in clauses if parts).strip()

    def condition(
        self, from_statuses: set[str], expiry: Expiry | None, now: float | None, require: dict[str, Any]
    ) -> str:
        placeholders = []
        for i, status in enumerate(sorted(from_statuses)):
            self.values[f":f{i}"] = {"S": status}
            placeholders.append(f":f{i}")
        condition = f"#status IN ({', '.join(placeholders)})"
        if expiry is not None:
            self.values[":now"] = to_attr(now)
            condition += " AND " + _EXPIRY_CONDITIONS[expiry]
        for i, (name, wanted) in enumerate(require.items()):
            self.names[f"#q{i}"] = name
            if wanted is None:
                condition += f" AND attribute_not_exists(#q{i})"
                continue
            self.values[f":q{i}"] = to_attr(wanted.limit if isinstance(wanted, Below) else wanted)
            condition += f" AND #q{i} {'<' if isinstance(wanted, Below) else '='} :q{i}"
        return condition


def query_due(
    now: float, limit: int, start_key: dict[str, Any] | None = None
) -> tuple[list[str], dict[str, Any] | None]:
    """Ids of open payments whose expiry has passed, oldest first, from the sparse index."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": EXPIRY_INDEX,
        "KeyConditionExpression": "due_pk = :open AND expires_at <= :now",
        "ExpressionAttributeValues": {":open": {"S": DUE_PARTITION}, ":now": to_attr(now)},
        "Limit": limit,
    }
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    response = dynamodb.query(**kwargs)
    ids = [item["payment_id"]["S"] for item in response.get("Items", [])]
    return ids, response.get("LastEvaluatedKey")


def _newest_first(index: str, key: str, value: str, limit: int) -> dict[str, Any]:
    """Query arguments for one partition of ``index``, newest first, ``limit`` per page."""
    return {
        "TableName": _table(),
        "IndexName": index,
        "KeyConditionExpression": f"{key} = :v",
        "ExpressionAttributeValues": {":v": {"S": value}},
        "ScanIndexForward": False,
        "Limit": limit,
    }


def query_group(
    group: str, limit: int, cursor: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a status group, newest first."""
    kwargs = _newest_first(STATUS_INDEX, "status_group", group, limit)
    if cursor:
        kwargs["ExclusiveStartKey"] = cursor
    response = dynamodb.query(**kwargs)
    return _items_still_in(group, response.get("Items", [])), response.get("LastEvaluatedKey")


def _items_still_in(group: str, index_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The index holds keys only (an update that leaves the keys alone costs it nothing); the
    # items come from the table. One that moved to another group meanwhile has left this list.
    items = get_many([i["payment_id"]["S"] for i in index_items])
    return [item for item in items if item.get("status_group") == group]


def iter_group(group: str, *, not_after: float | None, page_size: int) -> Iterator[dict[str, Any]]:
    """A status group newest first, from ``created_at <= not_after`` on, read page by page as
    the caller consumes it (stop iterating and no further page is read)."""
    kwargs = _newest_first(STATUS_INDEX, "status_group", group, page_size)
    if not_after is not None:
        kwargs["KeyConditionExpression"] += " AND created_at <= :c"
        kwargs["ExpressionAttributeValues"][":c"] = to_attr(not_after)
    while True:
        response = dynamodb.query(**kwargs)
        yield from _items_still_in(group, response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def query_reference(
    reference: str, limit: int, cursor: dict[str, Any] | None
) -> tuple[list[str], dict[str, Any] | None]:
    """Ids of the invoices with this reference, newest first (sparse ``by-reference`` index,
    keys only: only invoices carry a reference, and no later update rewrites the entry)."""
    kwargs = _newest_first(REFERENCE_INDEX, "reference", reference, limit)
    if cursor:
        kwargs["ExclusiveStartKey"] = cursor
    response = dynamodb.query(**kwargs)
    return [i["payment_id"]["S"] for i in response.get("Items", [])], response.get("LastEvaluatedKey")


def get_many(payment_ids: list[str]) -> list[dict[str, Any]]:
    """The payments of these ids that exist, in the order given (BatchGetItem, consistent)."""
    return batch_get(_table(), [{"payment_id": {"S": i}} for i in payment_ids])


def count_group(group: str) -> int:
    """Number of payments in a status group (a COUNT query over the index, paged)."""
    total = 0
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": "status_group = :g",
        "ExpressionAttributeValues": {":g": {"S": group}},
        "Select": "COUNT",
    }
    while True:
        response = dynamodb.query(**kwargs)
        total += int(response.get("Count", 0))
        if "LastEvaluatedKey" not in response:
            return total
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _old_item(exc: Exception) -> dict[str, Any] | None:
    item = getattr(exc, "response", {}).get("Item")
    return from_item(item) if item else None
