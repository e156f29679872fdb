"""Lambda event shapes built from AWS API output (sandbox/lambda_events.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.lambda_events import sqs_messages_to_event, stream_records_to_event

STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Payments/stream/2026-01-01T00:00:00.000"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:WebhookRetryQueue"


def test_stream_record_gets_lambda_fields_and_epoch_time():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    record = {
        "eventID": "1",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": {"payment_id": {"S": "p"}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    (converted,) = stream_records_to_event([record], STREAM_ARN)["Records"]
    assert converted["eventSourceARN"] == STREAM_ARN
    assert converted["dynamodb"]["ApproximateCreationDateTime"] == created.timestamp()
    assert converted["dynamodb"]["SequenceNumber"] == "100"
    assert record["dynamodb"]["ApproximateCreationDateTime"] is created  # input untouched


def test_sqs_message_shape():
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "abc",
        "Body": '{"a": 1}',
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "MessageAttributes": {"kind": {"StringValue": "retry", "DataType": "String"}},
    }
    (record,) = sqs_messages_to_event([message], QUEUE_ARN)["Records"]
    assert record["messageId"] == "m-1" and record["receiptHandle"] == "rh" and record["body"] == '{"a": 1}'
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == QUEUE_ARN
    assert record["awsRegion"] == "eu-west-1" and record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "retry"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
