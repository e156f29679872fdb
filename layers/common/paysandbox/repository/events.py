"""Events (docs/events.md) in the WebhookLogs table: no item of their own.

An event is stored once, by the webhook sender, as the claim of its first attempt (attempt 1
of chain 0, see ``repository.deliveries``). That item also carries:
- ``event_team`` + ``event_seq`` (``<write time>#<event_id>``): the sparse ``by-team`` index,
  one partition per team in write order, which the events API lists (never a Scan). It
  projects only the event type, so the result of an attempt writes nothing to it; a listing
  reads each page's records from the table;
- ``event_ref`` (the event id): the sparse ``by-event`` index, to find an event by its id;
- ``delivery_status`` / ``delivery_attempts`` / ``last_response_status``: the event's delivery
  across all its chains, written with the first attempt's result (same write) and, for later
  attempts, by one more update.
"""

from __future__ import annotations

import contextlib
from typing import Any

from paysandbox.repository import batch_get, dynamodb, from_item, required_table, to_attr
from paysandbox.settings import get_settings

TEAM_INDEX = "by-team"
EVENT_INDEX = "by-event"
CURSOR_KEYS = {"payment_id": str, "sk": str, "event_team": str, "event_seq": str}
MAX_PAGES = 10  # reads per listing request, so a narrow filter cannot make one request unbounded


def _table() -> str:
    return required_table(get_settings().webhook_logs_table, "WEBHOOK_LOGS_TABLE")


def index_fields(team: str, event_id: str, written_at: float) -> dict[str, Any]:
    """What the first attempt's claim adds so that it is also the event's record."""
    return {
        "event_team": team,
        "event_seq": f"{written_at:017.6f}#{event_id}",
        "event_ref": event_id,
        "delivery_status": "pending",
        "delivery_attempts": 0,
    }


def locate(event_id: str) -> dict[str, Any] | None:
    """The keys, team and sequence of an event, from its id (one read of the by-event index)."""
    response = dynamodb.query(
        TableName=_table(),
        IndexName=EVENT_INDEX,
        KeyConditionExpression="event_ref = :e",
        ExpressionAttributeValues={":e": {"S": event_id}},
        Limit=1,
    )
    items = response.get("Items") or []
    return from_item(items[0]) if items else None


def get(payment_id: str, sk: str) -> dict[str, Any] | None:
    response = dynamodb.get_item(
        TableName=_table(), Key={"payment_id": {"S": payment_id}, "sk": {"S": sk}}, ConsistentRead=True
    )
    item = response.get("Item")
    return from_item(item) if item else None


def record_delivery(payment_id: str, sk: str, status: str, response_status: int | None, *, attempts: int) -> None:
    """Count ``attempts`` more attempts of the event and set its delivery status."""
    values: dict[str, Any] = {":st": {"S": status}, ":n": to_attr(attempts)}
    expression = "SET delivery_status = :st"
    if response_status is not None:
        expression += ", last_response_status = :rs"
        values[":rs"] = to_attr(response_status)
    if attempts:
        expression += " ADD delivery_attempts :n"
    else:
        del values[":n"]
    # An event stored before the events API (or gone by retention) has nothing to count.
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=_table(),
            Key={"payment_id": {"S": payment_id}, "sk": {"S": sk}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(event_ref)",
            ExpressionAttributeValues=values,
        )


# What ``by-team`` holds besides its own keys and the table's (``payment_id``, ``sk``): the
# event type, written once with the claim, so no later write of the event's record touches
# the index. A filter on anything else (the delivery status) is applied to the records read.
INDEXED_FILTERS = frozenset({"event", "payment_id"})


def query(
    team: str,
    *,
    limit: int,
    oldest_first: bool,
    after_seq: str | None,
    start_key: dict[str, Any] | None,
    filters: dict[str, list[str]],
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One team's events from the by-team index, filtered by attribute values (each a list of
    accepted values). Returns the events and the key to continue from (None at the end).

    The index holds the event's keys and type only; each page's records are read from the
    table (one BatchGetItem), and a filter on what changes after the claim (the delivery
    status) is applied to them.
    """
    kwargs = _team_query(team, oldest_first, after_seq, {f: v for f, v in filters.items() if f in INDEXED_FILTERS})
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    on_records = {f: set(v) for f, v in filters.items() if f not in INDEXED_FILTERS}
    found: list[dict[str, Any]] = []
    last_key: dict[str, Any] | None = None
    for _ in range(MAX_PAGES):
        # Limit counts items read before any filter, so the page ends exactly after the last
        # item read: the continuation key never skips one.
        response = dynamodb.query(**kwargs, Limit=limit - len(found))
        keys = [{"payment_id": i["payment_id"], "sk": i["sk"]} for i in response.get("Items", [])]
        # Eventually consistent, as the index the keys came from (half the read units); one
        # that retention removed meanwhile is left out.
        records = batch_get(_table(), keys, consistent=False) if keys else []
        found.extend(r for r in records if r.get("event_team") == team and _accepted(r, on_records))
        last_key = response.get("LastEvaluatedKey")
        if not last_key or len(found) >= limit:
            break
        kwargs["ExclusiveStartKey"] = last_key
    return found, last_key


def _accepted(record: dict[str, Any], filters: dict[str, set[str]]) -> bool:
    return all(record.get(field) in accepted for field, accepted in filters.items())


def _team_query(team: str, oldest_first: bool, after_seq: str | None, filters: dict[str, list[str]]) -> dict[str, Any]:
    """Query arguments for one team's partition of by-team, with a filter on indexed attributes."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":t": {"S": team}}
    condition = "event_team = :t"
    if after_seq is not None:
        condition += " AND event_seq > :after"
        values[":after"] = {"S": after_seq}
    clauses = []
    for i, (field, accepted) in enumerate(filters.items()):
        names[f"#f{i}"] = field
        options = []
        for j, value in enumerate(accepted):
            values[f":f{i}_{j}"] = {"S": value}
            options.append(f":f{i}_{j}")
        clauses.append(f"#f{i} IN ({', '.join(options)})")
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": TEAM_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": oldest_first,
    }
    if clauses:
        kwargs["FilterExpression"] = " AND ".join(clauses)
        kwargs["ExpressionAttributeNames"] = names
    return kwargs
