"""Refunds on the Payments table: each refund lives on its payment's own item.

A refund is one conditional ``UpdateItem`` on the payment (no item keyed by a bare refund id,
so refunds are scoped exactly as their payment is). The write appends the refund to the
payment's ``refunds`` list, records its id in the ``refund_ids`` set (the idempotency guard),
raises ``amount_refunded`` and, at the full amount, moves the payment to ``refunded`` — all
under one condition that holds only while the payment is ``paid`` and the sum stays within
the amount. DynamoDB conditions have no arithmetic, so the caller passes ``limit`` = amount
minus this refund's amount and the condition compares ``amount_refunded`` with it: ``<``
when the refund leaves something over, ``=`` when it refunds the rest.

The write also sets ``refund_event`` (the refund's id): the webhook sender's stream filter
passes records whose new image has it, and the sender's bookkeeping write removes it, so
each refund reaches the sender as exactly one record (see ``deliveries``).
"""

from __future__ import annotations

from typing import Any, Literal

from paysandbox import scope
from paysandbox.repository import ConditionFailed, dynamodb, from_item, required_table, to_attr
from paysandbox.settings import get_settings
from paysandbox.states import GROUPS, Status

# How this refund leaves the payment: something over, nothing over, or no money moved.
Effect = Literal["partial", "full", "none"]
REFUND_EVENT = "refund_event"


def _table() -> str:
    return required_table(get_settings().payments_table, "PAYMENTS_TABLE")


def add(payment_id: str, refund: dict[str, Any], *, effect: Effect, limit: int, now: float) -> dict[str, Any]:
    """Record ``refund`` on its payment with one conditional write; returns the new item.

    Raises ConditionFailed with the current item when the payment is not ``paid``, already
    holds this refund id, or the refund no longer fits (``limit`` as in the module doc).
    """
    sets, names, values = _recorded(payment_id, refund, effect, now)
    condition, condition_values = _still_fits(refund["refund_id"], effect, limit)
    try:
        response = dynamodb.update_item(
            TableName=_table(),
            Key={"payment_id": {"S": payment_id}},
            UpdateExpression="SET " + ", ".join(sets) + " ADD #ids :rids",
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={**values, **condition_values},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as exc:
        old = getattr(exc, "response", {}).get("Item")
        raise ConditionFailed(from_item(old) if old else None) from exc
    return from_item(response["Attributes"])


def _recorded(
    payment_id: str, refund: dict[str, Any], effect: Effect, now: float
) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """The SET clauses, names and values that record ``refund`` (and, at the full amount, the
    payment's move to ``refunded``); the refund id joins ``refund_ids`` through ``:rids``."""
    names = {"#status": "status", "#refunds": "refunds", "#ids": "refund_ids", "#ar": "amount_refunded"}
    values: dict[str, Any] = {
        ":rids": {"SS": [refund["refund_id"]]},
        ":one": {"L": [to_attr(refund)]},
        ":empty": {"L": []},
        ":now": to_attr(now),
        ":rev": {"S": refund["refund_id"]},
        ":ws": {"S": "pending"},
        ":zero": {"N": "0"},
    }
    sets = [
        "#refunds = list_append(if_not_exists(#refunds, :empty), :one)",
        "updated_at = :now",
        f"{REFUND_EVENT} = :rev",
        "webhook_status = :ws",
        "webhook_attempts = :zero",
    ]
    if effect != "none":
        values[":amt"] = to_attr(refund["amount"])
        sets.append("#ar = if_not_exists(#ar, :zero) + :amt")
    if effect == "full":
        names["#group"] = "status_group"
        values[":refunded"] = {"S": Status.REFUNDED.value}
        values[":group"] = {"S": scope.group_partition(scope.team_of(payment_id), GROUPS[Status.REFUNDED])}
        sets += ["#status = :refunded", "#group = :group", "refunded_at = :now"]
    return sets, names, values


def _still_fits(refund_id: str, effect: Effect, limit: int) -> tuple[str, dict[str, Any]]:
    """The write's condition and its values: paid, this refund not yet recorded, and it fits.

    Fits: what was refunded before is below (partial) or exactly (full) amount - this refund;
    a refund that moves no money must still fit, as a real one would have.
    """
    condition = "#status = :paid AND NOT contains(#ids, :rid)"
    if effect == "full":
        condition += " AND " + ("(attribute_not_exists(#ar) OR #ar = :limit)" if limit == 0 else "#ar = :limit")
    else:
        condition += " AND (attribute_not_exists(#ar) OR #ar " + ("<" if effect == "partial" else "<=") + " :limit)"
    values = {":paid": {"S": Status.PAID.value}, ":rid": {"S": refund_id}, ":limit": to_attr(limit)}
    return condition, values
