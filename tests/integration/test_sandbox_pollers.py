"""The sandbox's event sources against a real emulator (moto server over HTTP).

The template here is a small one written for the test (a stream table, a queue with a
dead-letter queue, a schedule) so each behaviour can be provoked; the handler is a real
module on disk loaded the way the sandbox loads every handler. The real template's event
sources are covered by the drift test and the end-to-end test.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from sandbox.deployment import deploy_template
from sandbox.functions import Function
from sandbox.pollers import Poller, SchedulePoller, SqsPoller, StreamPoller, event_pollers
from sandbox.stack import Stack
from tests.integration.emulator import REGION, _emulator_server, emulator  # noqa: F401  (fixtures)
from tests.support import wait_for

HANDLER = textwrap.dedent(
    """
    calls = []
    behaviour = None  # set by the test: event -> response (may raise)

    def handler(event, context):
        calls.append(event)
        return behaviour(event)
    """
)

TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Things": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            },
        },
        "Jobs": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": 1,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["JobsDlq", "Arn"]}, "maxReceiveCount": 2},
            },
        },
        "JobsDlq": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
        "StreamFailures": {"Type": "AWS::SQS::Queue"},
    }
}


@pytest.fixture
def stack(emulator: SimpleNamespace) -> Stack:  # noqa: F811
    return deploy_template(emulator, REGION, {}, TEMPLATE).stack


@pytest.fixture
def make_function(tmp_path: Path) -> Callable[..., tuple[Function, ModuleType]]:
    (tmp_path / "app.py").write_text(HANDLER)

    def make(logical_id: str, events: dict[str, Any]) -> tuple[Function, ModuleType]:
        function = Function(logical_id, tmp_path, "app.handler", 15, 128, events, {})
        return function, function.load()

    return make


@pytest.fixture
def running() -> Iterator[Callable[[Poller], Poller]]:
    started: list[Poller] = []

    def run(poller: Poller) -> Poller:
        poller.start()
        started.append(poller)
        return poller

    yield run
    for poller in started:
        poller.stop()
    assert not any(p.is_alive() for p in started), "a poller did not stop"


@dataclass
class Poll:
    started: float  # time.monotonic() when the poll began
    busy: bool  # whether it found work


def record_polls(poller: Poller) -> list[Poll]:
    """Count the poller's ticks (call before starting it): waiting for ticks, not sleeping,
    means a stalled poller fails the test instead of passing it."""
    polls: list[Poll] = []
    poll_once = poller.poll_once

    def counted() -> bool:
        started = time.monotonic()
        busy = poll_once()
        polls.append(Poll(started, busy))
        return busy

    poller.poll_once = counted  # type: ignore[method-assign]
    return polls


def stream_event(**overrides: Any) -> dict[str, Any]:
    properties = {
        "Stream": {"Fn::GetAtt": ["Things", "StreamArn"]},
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    properties.update(overrides)
    return {"Type": "DynamoDB", "Properties": properties}


def put(emulator: SimpleNamespace, *ids: str, kind: str = "payment") -> None:  # noqa: F811
    for item_id in ids:
        emulator.dynamodb.put_item(TableName="Things", Item={"id": {"S": item_id}, "kind": {"S": kind}})


def ids_of(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["id"]["S"] for r in event["Records"]]


def crash_on_poison(event: dict[str, Any]) -> None:
    """A handler bug that only the record "poison" triggers."""
    if "poison" in ids_of(event):
        raise RuntimeError("handler bug")


def test_stream_batch_failure_is_retried_from_the_failed_record(emulator, stack, make_function, running) -> None:  # noqa: F811
    function, module = make_function("StreamFn", {"Stream": stream_event()})
    failures_left = {"c": 2}

    def fail_c_twice(event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            if record["dynamodb"]["Keys"]["id"]["S"] == "c" and failures_left["c"]:
                failures_left["c"] -= 1
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    module.behaviour = fail_c_twice
    put(emulator, "a", "b", "c", "d")
    poller = running(event_pollers({"StreamFn": function}, stack, emulator, {})[0])
    assert isinstance(poller, StreamPoller)

    wait_for(lambda: len(module.calls) == 3)
    put(emulator, "e")  # after the retried batch succeeds, the poller moves on past it
    wait_for(lambda: ids_of(module.calls[-1]) == ["e"])

    # The first batch carries everything; both retries start at the failed record, never before it.
    assert [ids_of(call) for call in module.calls] == [["a", "b", "c", "d"], ["c", "d"], ["c", "d"], ["e"]]
    first = module.calls[0]["Records"][0]
    assert first["eventSource"] == "aws:dynamodb" and first["eventSourceARN"] == stack.get_att("Things", "StreamArn")
    assert first["dynamodb"]["NewImage"]["kind"] == {"S": "payment"}


def test_stream_handler_error_exhausts_retries_then_goes_to_the_failure_destination(
    emulator,  # noqa: F811
    stack,
    make_function,
    running,
) -> None:
    event = stream_event(
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailures", "Arn"]}}},
    )
    function, module = make_function("StreamFn", {"Stream": event})
    module.behaviour = crash_on_poison
    put(emulator, "poison")
    running(event_pollers({"StreamFn": function}, stack, emulator, {})[0])

    failures_url = stack.ref("StreamFailures")
    received = wait_for(lambda: emulator.sqs.receive_message(QueueUrl=failures_url).get("Messages"))
    record = json.loads(received[0]["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    assert [ids_of(call) for call in module.calls] == [["poison"]] * 3  # first try + 2 retries

    put(emulator, "fine")
    wait_for(lambda: ids_of(module.calls[-1]) == ["fine"])


def test_stream_bisects_a_crashing_batch_down_to_the_poison_record(emulator, stack, make_function, running) -> None:  # noqa: F811
    event = stream_event(
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailures", "Arn"]}}},
    )
    function, module = make_function("StreamFn", {"Stream": event})
    module.behaviour = crash_on_poison
    put(emulator, "a", "b", "poison", "d")
    running(event_pollers({"StreamFn": function}, stack, emulator, {})[0])

    wait_for(lambda: module.calls and ids_of(module.calls[-1]) == ["d"])
    # Halves until the poison record is alone; splits are free, then one retry, then it is skipped.
    assert [ids_of(call) for call in module.calls] == [
        ["a", "b", "poison", "d"],
        ["a", "b"],
        ["poison", "d"],
        ["poison"],
        ["poison"],
        ["d"],
    ]
    failure = json.loads(emulator.sqs.receive_message(QueueUrl=stack.ref("StreamFailures"))["Messages"][0]["Body"])
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1


def test_stream_poller_releases_the_iterators_it_is_done_with(emulator, stack, make_function, running) -> None:  # noqa: F811
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from sandbox.emulator import release_shard_iterator

    function, module = make_function("StreamFn", {"Stream": stream_event()})
    module.behaviour = lambda event: None
    poller = event_pollers(
        {"StreamFn": function}, stack, emulator, {}, release_iterator=lambda it: release_shard_iterator(REGION, it)
    )[0]
    polls = record_polls(poller)
    running(poller)
    put(emulator, "a")
    wait_for(lambda: module.calls)
    seen = len(polls)
    wait_for(lambda: sum(not p.busy for p in polls[seen:]) >= 6)  # six idle polls after the work
    # moto keeps every iterator it hands out unless told; the poller holds exactly one.
    assert len(dynamodbstreams_backends["123456789012"][REGION].shard_iterators) <= 1


def test_stream_filter_criteria_decide_what_reaches_the_handler(emulator, stack, make_function, running) -> None:  # noqa: F811
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "pay"}]}}}}
    event = stream_event(FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    function, module = make_function("StreamFn", {"Stream": event})
    module.behaviour = lambda event: None
    put(emulator, "skip-1", kind="refund")
    put(emulator, "keep", kind="payment")
    put(emulator, "skip-2", kind="other")
    emulator.dynamodb.update_item(  # a MODIFY of a matching item: not an INSERT, filtered out
        TableName="Things",
        Key={"id": {"S": "keep"}},
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "x"}},
    )
    put(emulator, "last", kind="payment")
    running(event_pollers({"StreamFn": function}, stack, emulator, {})[0])

    wait_for(lambda: module.calls and "last" in ids_of(module.calls[-1]))
    delivered = [i for call in module.calls for i in ids_of(call)]
    assert delivered == ["keep", "last"]


def sqs_event(**overrides: Any) -> dict[str, Any]:
    properties = {"Queue": {"Fn::GetAtt": ["Jobs", "Arn"]}, "BatchSize": 10}
    properties.update(overrides)
    return {"Type": "SQS", "Properties": properties}


def test_sqs_failures_are_redelivered_then_redriven_to_the_dead_letter_queue(
    emulator,  # noqa: F811
    stack,
    make_function,
    running,
) -> None:
    function, module = make_function("QueueFn", {"Jobs": sqs_event()})

    def fail(event: dict[str, Any]) -> None:
        raise RuntimeError("receiver down")

    module.behaviour = fail
    emulator.sqs.send_message(QueueUrl=stack.ref("Jobs"), MessageBody='{"job": 1}')
    poller = running(event_pollers({"QueueFn": function}, stack, emulator, {})[0])
    assert isinstance(poller, SqsPoller)

    dead = wait_for(lambda: emulator.sqs.receive_message(QueueUrl=stack.ref("JobsDlq")).get("Messages"))
    assert dead[0]["Body"] == '{"job": 1}'
    # maxReceiveCount is 2: delivered twice (the visibility timeout apart), then dead-lettered.
    counts = [call["Records"][0]["attributes"]["ApproximateReceiveCount"] for call in module.calls]
    assert counts == ["1", "2"]
    record = module.calls[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == stack.get_att("Jobs", "Arn")


def test_sqs_partial_batch_response_deletes_only_the_successes(emulator, stack, make_function, running) -> None:  # noqa: F811
    function, module = make_function("QueueFn", {"Jobs": sqs_event(FunctionResponseTypes=["ReportBatchItemFailures"])})
    failed_once: set[str] = set()

    def fail_b_once(event: dict[str, Any]) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            if record["body"] == "b" and record["messageId"] not in failed_once:
                failed_once.add(record["messageId"])
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    module.behaviour = fail_b_once
    emulator.sqs.send_message_batch(
        QueueUrl=stack.ref("Jobs"), Entries=[{"Id": b, "MessageBody": b} for b in ("a", "b", "c")]
    )
    poller = event_pollers({"QueueFn": function}, stack, emulator, {})[0]
    polls = record_polls(poller)
    running(poller)

    wait_for(lambda: sum(r["body"] == "b" for call in module.calls for r in call["Records"]) == 2)
    # Anything not deleted would be visible again after the visibility timeout (1 s): wait
    # for an empty receive made after that.
    visible_again = time.monotonic() + 1
    wait_for(lambda: any(not p.busy and p.started > visible_again for p in polls))
    bodies = sorted(r["body"] for call in module.calls for r in call["Records"])
    assert bodies == ["a", "b", "b", "c"]
    attributes = emulator.sqs.get_queue_attributes(QueueUrl=stack.ref("Jobs"), AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_schedule_fires_with_the_eventbridge_shape_and_the_local_interval(
    emulator,  # noqa: F811
    stack,
    make_function,
    running,
) -> None:
    events = {"EveryMinute": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}}
    function, module = make_function("TickerFunction", events)
    module.behaviour = lambda event: None
    poller = event_pollers({"TickerFunction": function}, stack, emulator, {"TICKER_INTERVAL_SECONDS": "0.2"})[0]
    assert isinstance(poller, SchedulePoller) and poller.interval == 0.2
    running(poller)

    wait_for(lambda: len(module.calls) >= 2)
    event = module.calls[0]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [f"arn:aws:events:{REGION}:123456789012:rule/TickerFunctionEveryMinute"]


def test_without_an_override_a_rate_is_taken_from_the_template(emulator, stack, make_function) -> None:  # noqa: F811
    events = {"Hourly": {"Type": "Schedule", "Properties": {"Schedule": "rate(2 hours)"}}}
    function, _ = make_function("TickerFunction", events)
    assert event_pollers({"TickerFunction": function}, stack, emulator, {})[0].interval == 7200


def test_queues_are_created_with_the_template_properties(emulator, stack) -> None:  # noqa: F811
    attributes = emulator.sqs.get_queue_attributes(QueueUrl=stack.ref("Jobs"), AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "1"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": stack.get_att("JobsDlq", "Arn"),
        "maxReceiveCount": 2,
    }
    dlq = emulator.sqs.get_queue_attributes(QueueUrl=stack.ref("JobsDlq"), AttributeNames=["MessageRetentionPeriod"])
    assert dlq["Attributes"]["MessageRetentionPeriod"] == "1209600"


PARALLEL_HANDLER = textwrap.dedent(
    """
    import sys

    sink = sys.modules["parallel_sink"]  # shared by every warm copy ("container") of this module

    def handler(event, context):
        with sink.changed:
            sink.in_flight += 1
            sink.max_in_flight = max(sink.max_in_flight, sink.in_flight)
            sink.changed.notify_all()
            # Until two invocations have overlapped once, wait (bounded) for a second one.
            sink.changed.wait_for(lambda: sink.max_in_flight >= 2, timeout=5)
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            sink.seen.append((image["id"]["S"], int(image["version"]["N"])))
        with sink.changed:
            sink.in_flight -= 1
        return {"batchItemFailures": []}
    """
)


def test_parallelization_factor_runs_batches_at_once_and_keeps_each_items_order(
    emulator,  # noqa: F811
    stack,
    tmp_path: Path,
    running,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import threading
    from types import ModuleType

    sink = ModuleType("parallel_sink")
    sink.changed, sink.in_flight, sink.max_in_flight, sink.seen = threading.Condition(), 0, 0, []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "parallel_sink", sink)
    (tmp_path / "parallel.py").write_text(PARALLEL_HANDLER)
    events = {"Stream": stream_event(BatchSize=2, ParallelizationFactor=10)}
    function = Function("ParallelFn", tmp_path, "parallel.handler", 15, 128, events, {})

    items, versions = [f"item-{n}" for n in range(20)], range(1, 6)
    for item_id in items:  # each item's versions next to each other on the stream
        for version in versions:
            emulator.dynamodb.put_item(TableName="Things", Item={"id": {"S": item_id}, "version": {"N": str(version)}})
    poller = running(event_pollers({"ParallelFn": function}, stack, emulator, {})[0])
    assert isinstance(poller, StreamPoller) and poller.parallelization == 10

    wait_for(lambda: len(sink.seen) >= len(items) * len(versions))
    assert sink.max_in_flight >= 2  # batches of one page ran at once
    for item_id in items:  # and each item's records arrived once each, in stream order
        assert [v for i, v in sink.seen if i == item_id] == list(versions)
    assert len(sink.seen) == len(items) * len(versions)
