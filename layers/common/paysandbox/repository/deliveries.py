"""WebhookLogs table access (the payment's own webhook fields: ``payment_webhooks``).

Items of one payment (partition ``payment_id``):
- ``attempt#<event_id>#<chain:04d>#<n:03d>``: one delivery attempt. Claimed with a
  conditional put *before* sending (``state=sending`` with a lease), completed after. A
  duplicate job finds the claim and does not send again; a claim whose lease ran out
  (the sender crashed mid-attempt) may be taken over, so a crash never strands an event.
  Every attempt carries its event (type, URL, the exact body sent). Attempt 1 of chain 0,
  claimed when the stream first shows the transition, is therefore also *the event as
  first seen*: retries and redeliveries read the event from it (``get_event``), so the
  happy path writes no separate event item.
- ``event#<event_id>``: only the counter of an event's attempt chains, created by the
  first redeliver (chain 0, from the stream, needs no counter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paysandbox.repository import dynamodb, from_item, required_table, to_attr, to_item
from paysandbox.settings import get_settings

EVENT_PREFIX = "event#"
ATTEMPT_PREFIX = "attempt#"
MAX_LOG_ITEMS = 1000


def _table() -> str:
    return required_table(get_settings().webhook_logs_table, "WEBHOOK_LOGS_TABLE")


def event_sk(event_id: str) -> str:
    return f"{EVENT_PREFIX}{event_id}"


def attempt_sk(event_id: str, chain: int, attempt: int) -> str:
    return f"{ATTEMPT_PREFIX}{event_id}#{chain:04d}#{attempt:03d}"


def get_event(payment_id: str, event_id: str) -> dict[str, Any] | None:
    """The event as first seen: attempt 1 of chain 0 (claimed before anything else is sent)."""
    response = dynamodb.get_item(
        TableName=_table(),
        Key={"payment_id": {"S": payment_id}, "sk": {"S": attempt_sk(event_id, 0, 1)}},
        ConsistentRead=True,
    )
    item = response.get("Item")
    return from_item(item) if item else None


def events_of(payment_id: str) -> list[dict[str, Any]]:
    """Every event of a payment: the first attempt of each event's first chain."""
    return [a for a in attempts_of(payment_id) if int(a.get("chain", -1)) == 0 and int(a.get("attempt_number", 0)) == 1]


def attempts_of(payment_id: str) -> list[dict[str, Any]]:
    return _query_prefix(payment_id, ATTEMPT_PREFIX)


def new_chain(payment_id: str, event_id: str, ttl: float | None) -> int:
    """Allocate the next chain number of an event (the first chain, from the stream, is 0).

    The counter item is created by the first call (``ADD`` on a missing item starts at 0),
    so it costs nothing until an operator redelivers.
    """
    # The expiry is set once, so the counter leaves with the event's attempts.
    response = dynamodb.update_item(
        TableName=_table(),
        Key={"payment_id": {"S": payment_id}, "sk": {"S": event_sk(event_id)}},
        UpdateExpression="ADD chains :one SET #ttl = if_not_exists(#ttl, :ttl)",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": to_attr(ttl)},
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["chains"]["N"])


@dataclass(frozen=True)
class Claim:
    """What ``claim_attempt`` got: ``won`` when this sender now holds the attempt; otherwise
    ``found`` is the attempt as another sender left it (``{}`` if DynamoDB returned no item)."""

    won: bool
    found: dict[str, Any]


def claim_attempt(item: dict[str, Any], now: float) -> Claim:
    """Claim one attempt before sending it.

    An existing claim is taken over only while it is still ``sending`` and its lease has
    run out: the sender that made it died without recording a result.
    """
    try:
        dynamodb.put_item(
            TableName=_table(),
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(sk) OR (#state = :sending AND lease_until < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":sending": {"S": "sending"}, ":now": to_attr(now)},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as exc:
        old = getattr(exc, "response", {}).get("Item")
        return Claim(won=False, found=from_item(old) if old else {})
    return Claim(won=True, found=item)


def update_attempt(payment_id: str, sk: str, values: dict[str, Any]) -> None:
    names, attr_values, sets = {}, {}, []
    for i, (field, value) in enumerate(values.items()):
        names[f"#f{i}"] = field
        if value is None:
            continue
        attr_values[f":v{i}"] = to_attr(value)
        sets.append(f"#f{i} = :v{i}")
    removes = [f"#f{i}" for i, v in enumerate(values.values()) if v is None]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    dynamodb.update_item(
        TableName=_table(),
        Key={"payment_id": {"S": payment_id}, "sk": {"S": sk}},
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=attr_values,
    )


def _query_prefix(payment_id: str, prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "payment_id = :p AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":p": {"S": payment_id}, ":prefix": {"S": prefix}},
        "ConsistentRead": True,
    }
    while len(items) < MAX_LOG_ITEMS:
        response = dynamodb.query(**kwargs)
        items.extend(from_item(i) for i in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return items[:MAX_LOG_ITEMS]
