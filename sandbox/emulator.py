"""The embedded AWS emulator: moto's server, in this process, on 127.0.0.1.

Running it in-process (a thread, not a child process) means nothing can be orphaned and
start-up costs one import. It also lets the stream pollers release the shard iterators
they have finished with: moto keeps every iterator it ever hands out (about 2 KB each),
and a poller asking four times a second would otherwise grow the process by ~700 MB a day.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sandbox.stack import ACCOUNT_ID


def start(host: str, port: int) -> Any:
    """Start moto's server (the caller has checked the port is free; moto would hang otherwise)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per poll
    guard_stream_shards()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def release_shard_iterator(region: str, iterator: str) -> None:
    """Forget a DynamoDB Streams shard iterator this process will not use again."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    dynamodbstreams_backends[ACCOUNT_ID][region].shard_iterators.pop(iterator, None)


# moto's stream shard keeps every record it was ever given (AWS trims after 24 hours), and a
# record holds both images: at ~7 KB a record, the stream was most of the sandbox's growth.
# Records every poller of a stream has processed are dropped (the shard's starting sequence
# number moves up, as AWS's trim horizon does). Appends and trims share one lock, since
# moto numbers a record by the length of its list.
_SHARD_LOCK = threading.Lock()


def guard_stream_shards() -> None:
    """Make moto's appends to a stream shard take the lock trims take (once per process)."""
    from moto.dynamodb.models.table import StreamShard

    if getattr(StreamShard.add, "sandbox_guarded", False):
        return
    original = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        with _SHARD_LOCK:
            original(self, old, new)

    add.sandbox_guarded = True  # type: ignore[attr-defined]
    StreamShard.add = add  # type: ignore[method-assign]


def trim_stream(region: str, stream_arn: str, through_sequence_number: int) -> int:
    """Drop a stream's records up to and including ``through_sequence_number``; returns how many."""
    from moto.dynamodb.models import dynamodb_backends

    for table in dynamodb_backends[ACCOUNT_ID][region].tables.values():
        shard = table.stream_shard
        if shard is None or not stream_arn.startswith(f"{table.table_arn}/stream/"):
            continue
        with _SHARD_LOCK:
            count = min(len(shard.items), through_sequence_number - shard.starting_sequence_number + 1)
            if count <= 0:
                return 0
            del shard.items[:count]
            shard.starting_sequence_number += count
            return count
    return 0


class StreamTrimmer:
    """Trims each stream up to the lowest record all of its pollers have processed."""

    def __init__(self, region: str):
        self.region = region
        self._done: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def register(self, stream_arn: str, reader: str) -> None:
        with self._lock:
            self._done.setdefault(stream_arn, {})[reader] = 0

    def processed(self, stream_arn: str, reader: str, sequence_number: str) -> None:
        with self._lock:
            readers = self._done.setdefault(stream_arn, {})
            readers[reader] = max(readers.get(reader, 0), int(sequence_number))
            lowest = min(readers.values())
        if lowest:
            trim_stream(self.region, stream_arn, lowest)
