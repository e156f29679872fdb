"""The payment's webhook bookkeeping on the Payments table: ``webhook_status`` and
``webhook_attempts``, written by the sender after each attempt and by a redelivery."""

from __future__ import annotations

from typing import Any

from paysandbox.repository import dynamodb, required_table, to_attr
from paysandbox.settings import get_settings


def set_payment_webhook_status(
    payment_id: str, event_status: str, webhook_status: str, *, add_attempts: int = 0
) -> bool:
    """Set ``webhook_status`` (and count attempts) on the payment, only while the payment is
    still in the status the event announced: a newer transition (e.g. a refund) resets the
    bookkeeping for its own event and an older chain must not overwrite it. ``updated_at``
    and ``status`` stay untouched, and ``refund_event`` is removed, so the stream filter
    ignores this write.
    """
    expression = "SET webhook_status = :ws REMOVE refund_event"
    values: dict[str, Any] = {":ws": {"S": webhook_status}, ":st": {"S": event_status}}
    if add_attempts:
        expression = expression.replace(" REMOVE", " ADD webhook_attempts :n REMOVE")
        values[":n"] = to_attr(add_attempts)
    try:
        dynamodb.update_item(
            TableName=required_table(get_settings().payments_table, "PAYMENTS_TABLE"),
            Key={"payment_id": {"S": payment_id}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(payment_id) AND #status = :st",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True
