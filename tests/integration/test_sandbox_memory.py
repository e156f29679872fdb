"""What the sandbox lets the emulator forget, and that nothing a user reads is lost with it.

moto keeps every stream record and every model object it ever creates; the sandbox trims
the stream records its poller has processed and holds moto's object registry weakly
(``sandbox/emulator.py``). The pollers run against a real emulator (moto server over HTTP),
on the small template of ``test_sandbox_pollers``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sandbox.emulator import StreamTrimmer, track_models_weakly
from sandbox.pollers import StreamPoller, event_pollers
from sandbox.stack import Stack
from tests.integration.emulator import REGION, _emulator_server, emulator  # noqa: F401  (fixtures)
from tests.integration.test_sandbox_pollers import (  # noqa: F401  (fixtures)
    ids_of,
    make_function,
    put,
    record_polls,
    running,
    stack,
    stream_event,
)
from tests.support import wait_for


def stream_left(emulator: SimpleNamespace, stack: Stack) -> list[str]:  # noqa: F811
    """The ids of every record a new reader can still get from the stream (TRIM_HORIZON)."""
    arn = stack.get_att("Things", "StreamArn")
    shard = emulator.dynamodbstreams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = emulator.dynamodbstreams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = emulator.dynamodbstreams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [r["dynamodb"]["Keys"]["id"]["S"] for r in records]


def test_processed_stream_records_are_trimmed_and_unprocessed_ones_kept(
    emulator,  # noqa: F811
    stack,  # noqa: F811
    make_function,  # noqa: F811
    running,  # noqa: F811
) -> None:
    function, module = make_function("StreamFn", {"Stream": stream_event(BatchSize=10)})
    failures_left = {"c": 2}
    left_while_failing: list[list[str]] = []

    def fail_c_twice(event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            if record["dynamodb"]["Keys"]["id"]["S"] == "c" and failures_left["c"]:
                failures_left["c"] -= 1
                left_while_failing.append(stream_left(emulator, stack))
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    module.behaviour = fail_c_twice
    put(emulator, "a", "b", "c", "d")
    poller = event_pollers({"StreamFn": function}, stack, emulator, {}, trimmer=StreamTrimmer(REGION))[0]
    assert isinstance(poller, StreamPoller)
    polls = record_polls(poller)
    running(poller)

    wait_for(lambda: len(module.calls) == 3)
    wait_for(lambda: stream_left(emulator, stack) == [])  # all four processed: none kept
    put(emulator, "e", "f")
    wait_for(lambda: module.calls and ids_of(module.calls[-1]) == ["e", "f"])
    seen = len(polls)
    wait_for(lambda: sum(not p.busy for p in polls[seen:]) >= 4)  # idle polls after the last batch

    # While "c" was failing, nothing from it on was dropped (what came before it may be).
    assert [left[-2:] for left in left_while_failing] == [["c", "d"], ["c", "d"]]
    # Each record reached the handler until it succeeded and never again; new records keep coming.
    assert [ids_of(call) for call in module.calls] == [["a", "b", "c", "d"], ["c", "d"], ["c", "d"], ["e", "f"]]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for call in module.calls for r in call["Records"]]
    assert numbers[-2] > max(numbers[:-2])  # after a trim, sequence numbers still only go up
    assert stream_left(emulator, stack) == []


def test_records_are_kept_until_every_poller_of_the_stream_has_processed_them(
    emulator,  # noqa: F811
    stack,  # noqa: F811
    make_function,  # noqa: F811
    running,  # noqa: F811
) -> None:
    fast, fast_module = make_function("FastFn", {"Stream": stream_event()})
    fast_module.behaviour = lambda event: None
    trimmer = StreamTrimmer(REGION)
    fast_poller = event_pollers({"FastFn": fast}, stack, emulator, {}, trimmer=trimmer)[0]
    trimmer.follow(fast_poller.stream_arn, "a second consumer that has read nothing yet")
    running(fast_poller)

    put(emulator, "a", "b")
    wait_for(lambda: fast_module.calls)
    assert stream_left(emulator, stack) == ["a", "b"]
    trimmer.processed(fast_poller.stream_arn, "a second consumer that has read nothing yet", "0")
    first_number = fast_module.calls[0]["Records"][0]["dynamodb"]["SequenceNumber"]
    trimmer.processed(fast_poller.stream_arn, "a second consumer that has read nothing yet", first_number)
    assert stream_left(emulator, stack) == ["b"]


def test_moto_holds_only_the_objects_it_still_uses(emulator, stack) -> None:  # noqa: F811
    from moto.dynamodb.models.dynamo_type import Item

    track_models_weakly()  # as python -m sandbox does before its emulator starts
    for n in range(30):  # every read and update makes item copies moto would otherwise keep
        key = {"id": {"S": f"thing-{n}"}}
        emulator.dynamodb.put_item(TableName="Things", Item={**key, "count": {"N": "0"}})
        emulator.dynamodb.update_item(
            TableName="Things",
            Key=key,
            UpdateExpression="SET #c = #c + :one",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        emulator.dynamodb.get_item(TableName="Things", Key=key)
    assert len(emulator.dynamodb.scan(TableName="Things")["Items"]) == 30

    import gc

    gc.collect()
    stored = [item for item in Item.instances_tracked if item.hash_key.value.startswith("thing-")]
    assert len(stored) == 30  # the table's items, still listed for moto's dashboard; no copies
