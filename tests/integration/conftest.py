"""Webhook pipeline harness: moto's real stream and queues, a real HTTP receiver on
127.0.0.1, and the sender handler invoked with the event shapes Lambda uses.

The one thing not real is waiting: retry delays are minutes to hours. The harness runs the
domain on a clock it can advance (``paysandbox.clock.now_epoch``), records the
``DelaySeconds`` every retry job is sent with, and forwards the job to moto with no delay so
a real receive gets it at once; the sender's own ``not_before`` logic then decides (against
the advanced clock) whether to run the attempt or hop it forward.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from harness.receiver import Received, Receiver
from harness.streams import StreamReader
from harness.webhook_checks import verified_payload
from sandbox.apigw import LambdaContext
from sandbox.event_filter import matches_any
from sandbox.lambda_events import sqs_messages_to_event, stream_records_to_event
from sandbox.template import filter_patterns, resources_of_type
from tests.support import load_handler

SECRET = "test-webhook-secret"


# ------------------------------------------------------------------ queues from the template


def create_queues(sqs: Any) -> dict[str, dict[str, str]]:
    """Every SQS queue of template.yaml, named after its logical id, with its redrive policy."""
    queues = resources_of_type("AWS::SQS::Queue")
    created: dict[str, dict[str, str]] = {}

    def make(name: str) -> dict[str, str]:
        if name in created:
            return created[name]
        props = queues[name].get("Properties", {})
        attributes = {
            key: str(props[key])
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
            if key in props
        }
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": make(target)["arn"], "maxReceiveCount": redrive["maxReceiveCount"]}
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        created[name] = {"url": url, "arn": arn}
        return created[name]

    for name in queues:
        make(name)
    return created


# ------------------------------------------------------------------ the receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


# ------------------------------------------------------------------ the pipeline


class Clock:
    """Real time plus an offset the test advances instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance_to(self, epoch: float) -> None:
        if epoch > self.now():
            self.offset += epoch - self.now()


class Pipeline:
    """Drives the sender like Lambda: stream batches (filtered by the template's
    FilterCriteria) and retry-queue batches, deleting what the handler did not report failed."""

    def __init__(self, queues: dict[str, dict[str, str]], clock: Clock, delays: list[dict[str, Any]]):
        self.queues = queues
        self.clock = clock
        self.delays = delays  # every retry/DLQ send: {"queue", "delay", "job", "message_id"}
        self.visible_at: dict[str, float] = {}  # message id -> when SQS would have shown it
        self.sender = load_handler("webhook_sender")
        self.dynamodb = boto3.client("dynamodb")
        self.sqs = boto3.client("sqs")
        self.stream = StreamReader.of_table("Payments", self.dynamodb)
        self.stream_arn = self.stream.stream_arn
        self.filters = filter_patterns("WebhookSenderFunction", "PaymentsStream")
        self.stream_invocations = 0

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.sender.lambda_handler(event, LambdaContext(function_name="webhook_sender"))
        return result

    def read_stream(self) -> list[dict[str, Any]]:
        """New records from moto's stream (real get_records), every shard."""
        return self.stream.poll()

    def next_batch(self) -> dict[str, Any]:
        """New stream records that pass the template's filter, as the event Lambda would hand
        the sender (not invoked)."""
        event = stream_records_to_event(self.read_stream(), self.stream_arn)
        return {"Records": [r for r in event["Records"] if matches_any(self.filters, r)]}

    def pump_stream(self, *, duplicate: bool = False, batch_size: int = 5) -> list[dict[str, Any]]:
        """Feed new stream records that pass the template's filter to the sender, in batches."""
        passing = self.next_batch()["Records"]
        for start in range(0, len(passing), batch_size):
            batch = {"Records": passing[start : start + batch_size]}
            for _ in range(2 if duplicate else 1):
                self.stream_invocations += 1
                assert self.invoke(batch) == {"batchItemFailures": []}
        return passing

    def receive(self, queue: str, max_messages: int = 10) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queues[queue]["url"],
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def pump_retries(self, *, duplicate: bool = False) -> int:
        """One receive from the retry queue; runs each job at its not_before. Returns how many."""
        messages = self.receive("WebhookRetryQueue")
        if not messages:
            return 0
        # SQS would have shown each message only after its DelaySeconds: move the clock there.
        self.clock.advance_to(max(self.visible_at.get(m["MessageId"], 0.0) for m in messages))
        event = sqs_messages_to_event(messages, self.queues["WebhookRetryQueue"]["arn"])
        for _ in range(2 if duplicate else 1):
            result = self.invoke(event)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.queues["WebhookRetryQueue"]["url"], ReceiptHandle=message["ReceiptHandle"]
                )
        assert not failed, result
        return len(messages)

    def run(self, *, duplicate: bool = False, max_rounds: int = 200) -> None:
        """Stream first, then retries until the retry queue is empty."""
        self.pump_stream(duplicate=duplicate)
        for _ in range(max_rounds):
            if not self.pump_retries(duplicate=duplicate):
                return
        raise AssertionError("retry queue did not drain")

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every job in the webhook DLQ (real receives)."""
        jobs: list[dict[str, Any]] = []
        while True:
            messages = self.receive("WebhookDeadLetterQueue")
            if not messages:
                return jobs
            for message in messages:
                jobs.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queues["WebhookDeadLetterQueue"]["url"], ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def pipeline(aws: None, settings_env: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    from paysandbox import clock as clock_module
    from paysandbox import retry_queue

    queues = create_queues(boto3.client("sqs"))
    settings_env.setenv("WEBHOOK_RETRY_QUEUE_URL", queues["WebhookRetryQueue"]["url"])
    settings_env.setenv("WEBHOOK_DEAD_LETTER_QUEUE_URL", queues["WebhookDeadLetterQueue"]["url"])
    clock = Clock()
    settings_env.setattr(clock_module, "now_epoch", clock.now)

    sent: list[dict[str, Any]] = []
    client = retry_queue.sqs_client()
    real_send = client.send_message

    def send_without_waiting(**kwargs: Any) -> Any:
        # Record the delay the sender asked for; deliver at once (the clock is advanced instead).
        delay = kwargs.get("DelaySeconds", 0)
        response = real_send(**{**kwargs, "DelaySeconds": 0})
        sent.append({"queue": kwargs["QueueUrl"], "delay": delay, "job": kwargs["MessageBody"]})
        pipeline.visible_at[response["MessageId"]] = clock.now() + delay
        return response

    pipeline = Pipeline(queues, clock, sent)
    settings_env.setattr(client, "send_message", send_without_waiting)
    yield pipeline


def assert_signed(request: Received) -> dict[str, Any]:
    """Verify one delivery the three ways merchants do, with the tests' secret; its payload."""
    return verified_payload(request, SECRET)


# ------------------------------------------------------------------ log capture


@pytest.fixture
def stream_handler_output() -> Iterator[io.StringIO]:
    """Everything every logging StreamHandler writes (Powertools' JSON logger included): each
    keeps the stream it was created with, which pytest's own capture may not see."""
    buffer = io.StringIO()
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.Logger.manager.loggerDict))]
    swapped = []
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:
                # Assigned, not setStream(): that flushes the old stream, which an earlier test's
                # captured stdout may have closed by now.
                swapped.append((handler, handler.stream))
                handler.stream = buffer
    yield buffer
    for handler, stream in swapped:
        handler.stream = stream
