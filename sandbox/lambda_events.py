"""Lambda event shapes for the event sources in the template, built from what the AWS APIs
return (DynamoDB Streams ``get_records``, SQS ``receive_message``) or, for schedules, as
EventBridge delivers them.

The local runtime's pollers and the tests hand these to handlers exactly as Lambda would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def _region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def stream_records_to_event(records: list[dict[str, Any]], event_source_arn: str) -> dict[str, Any]:
    """``get_records`` records -> a DynamoDB Streams Lambda event.

    boto3 parses ``ApproximateCreationDateTime`` into a datetime; Lambda sends epoch seconds.
    """
    converted = []
    for record in records:
        stream = dict(record["dynamodb"])
        created = stream.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            stream["ApproximateCreationDateTime"] = created.timestamp()
        converted.append(
            {
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": record.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": record.get("awsRegion") or _region_of(event_source_arn),
                "dynamodb": stream,
                "eventSourceARN": event_source_arn,
                **({"userIdentity": record["userIdentity"]} if "userIdentity" in record else {}),
            }
        )
    return {"Records": converted}


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
        "dataType": value.get("DataType", "String"),
    }


def sqs_messages_to_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """``receive_message`` messages (ask for ``AttributeNames=["All"]``) -> an SQS Lambda event."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": _region_of(queue_arn),
            }
            for message in messages
        ]
    }


def scheduled_event(rule_arn: str, now: datetime | None = None) -> dict[str, Any]:
    """The EventBridge event a ``Schedule`` (rate/cron rule) delivers."""
    now = now or datetime.now(UTC)
    parts = rule_arn.split(":")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": parts[4] if len(parts) > 4 else "123456789012",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": _region_of(rule_arn),
        "resources": [rule_arn],
        "detail": {},
    }
