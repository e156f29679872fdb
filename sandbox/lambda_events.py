"""The event shapes Lambda's pollers hand to handlers, built from what the AWS APIs return.

``stream_records_to_event`` takes records from DynamoDB Streams ``get_records`` (boto3 form)
and ``sqs_messages_to_event`` takes messages from SQS ``receive_message`` (requested with
all attributes and message attributes); both return ``{"Records": [...]}`` exactly as the
DynamoDB and SQS event source mappings deliver them.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

_ARN_REGION = 3  # arn:aws:<service>:<region>:...


def _region(arn: str) -> str:
    parts = arn.split(":")
    return parts[_ARN_REGION] if len(parts) > _ARN_REGION else "us-east-1"


def stream_records_to_event(records: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    """DynamoDB stream records as Lambda delivers them (``arn`` = the stream's ARN)."""
    region = _region(arn)
    out = []
    for record in records:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, dt.datetime):  # boto3 parses it; Lambda sends epoch seconds
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        out.append(
            {
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": dynamodb,
                "eventSourceARN": arn,
            }
        )
    return {"Records": out}


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda uses camelCase and always lists both list forms.
    out: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return out


def sqs_messages_to_event(messages: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    """SQS messages as Lambda delivers them (``arn`` = the queue's ARN)."""
    region = _region(arn)
    out = []
    for message in messages:
        attributes = message.get("Attributes", {})
        out.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    key: attributes[key]
                    for key in (
                        "ApproximateReceiveCount",
                        "SentTimestamp",
                        "SenderId",
                        "ApproximateFirstReceiveTimestamp",
                        "MessageGroupId",
                        "MessageDeduplicationId",
                        "SequenceNumber",
                        "AWSTraceHeader",
                    )
                    if key in attributes
                },
                "messageAttributes": {
                    name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": region,
            }
        )
    return {"Records": out}


def scheduled_event(rule_arn: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The EventBridge event a ``Schedule`` (rate/cron rule) delivers."""
    now = now or dt.datetime.now(dt.UTC)
    parts = rule_arn.split(":")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": parts[4] if len(parts) > 4 else "123456789012",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": _region(rule_arn),
        "resources": [rule_arn],
        "detail": {},
    }
