"""template.yaml: the webhook sender's event sources, queues, routes and permissions."""

from __future__ import annotations

import json

from sandbox.template import load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
SENDER = RESOURCES["WebhookSenderFunction"]["Properties"]


def test_stream_source_is_filtered_bounded_and_has_a_failure_destination():
    stream = SENDER["Events"]["PaymentsStream"]["Properties"]
    assert stream["Stream"] == {"Fn::GetAtt": ["Payments", "StreamArn"]}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["BisectBatchOnFunctionError"] is True
    assert 0 <= stream["MaximumRetryAttempts"] <= 10
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["WebhookStreamFailureQueue", "Arn"]
    }
    patterns = [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]
    assert all(p["eventName"] == ["MODIFY"] for p in patterns)  # never REMOVE (TTL) or INSERT
    into = {
        s for p in patterns if "status" in p["dynamodb"]["NewImage"] for s in p["dynamodb"]["NewImage"]["status"]["S"]
    }
    assert into == {"paid", "failed", "expired", "refunded"}
    # ...and every refund (a partial one keeps the payment paid), by the marker its write sets.
    assert {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"refund_event": {"S": [{"exists": True}]}}}} in patterns


def test_retry_queue_redrives_to_the_dlq_and_outlasts_the_function():
    queue = RESOURCES["WebhookRetryQueue"]["Properties"]
    timeout = SENDER.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}
    sqs = SENDER["Events"]["RetryQueue"]["Properties"]
    assert sqs["Queue"] == {"Fn::GetAtt": ["WebhookRetryQueue", "Arn"]}
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert env["WEBHOOK_RETRY_QUEUE_URL"] == {"Ref": "WebhookRetryQueue"}
    assert env["WEBHOOK_DEAD_LETTER_QUEUE_URL"] == {"Ref": "WebhookDeadLetterQueue"}


def test_routes():
    def routes(function):
        events = RESOURCES[function]["Properties"]["Events"].values()
        return {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events if e["Type"] == "Api"}

    assert ("POST", "/webhooks/verify") in routes("CreatePaymentFunction")
    assert {
        ("GET", "/api/payments/{payment_id}/webhooks"),
        ("POST", "/api/payments/{payment_id}/webhooks/redeliver"),
    } <= routes("ConfirmFunction")


def test_sender_permissions_are_scoped_to_named_resources():
    statements = [s for p in SENDER["Policies"] if "Statement" in p for s in p["Statement"]]
    for statement in statements:
        assert "*" not in json.dumps(statement["Action"])
        assert statement["Resource"] != "*"
    assert {"SQSSendMessagePolicy", "AWSSecretsManagerGetSecretValuePolicy"} <= {
        k for p in SENDER["Policies"] for k in p
    }


def test_the_senders_timeout_covers_a_full_batch_of_attempts_at_the_longest_deadline():
    """Each attempt ends within WEBHOOK_TIMEOUT_SECONDS (a total deadline), sent one after another."""
    longest = TEMPLATE["Parameters"]["WebhookTimeoutSeconds"]["MaxValue"]
    batch = max(event["Properties"]["BatchSize"] for event in SENDER["Events"].values())
    margin = 30  # seconds of DynamoDB and SQS bookkeeping, as the template's comment says
    assert SENDER["Timeout"] >= batch * longest + margin
    assert RESOURCES["WebhookRetryQueue"]["Properties"]["VisibilityTimeout"] >= 6 * SENDER["Timeout"]
