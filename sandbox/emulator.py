"""The embedded AWS emulator: moto's server, in this process, on 127.0.0.1.

Running it in-process (a thread, not a child process) means nothing can be orphaned and
start-up costs one import. It also lets the sandbox keep moto from holding what nobody will
read again, which would otherwise grow the process with every request:

- moto records every model object it ever creates (each DynamoDB item copy a read, a
  condition check or a scan makes, each stream record, each shard iterator, each SQS
  message) in a per-class list that only its ``/moto-api`` dashboard reads; here that
  registry holds them weakly, so an object lives only as long as moto itself uses it;
- the stream pollers release the shard iterators they have finished with (about 2 KB each,
  a new one for every read);
- a stream record every poller of its stream has processed is dropped (``StreamTrimmer``).
  A real stream keeps a record for 24 hours whoever has read it; here the only reader is
  the sandbox's own poller, and moto would keep every record, with both item images, for
  the life of the process. A record no poller has processed yet is never dropped.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from sandbox.stack import ACCOUNT_ID


class WeakInstances:
    """moto's per-class instance registry (a list it appends to and iterates), holding its
    objects weakly. Keyed by ``id``: moto's items define ``__eq__`` and are unhashable."""

    def __init__(self, instances: Iterable[Any] = ()) -> None:
        self._live: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        for instance in instances:
            self.append(instance)

    def append(self, instance: Any) -> None:
        self._live[id(instance)] = instance

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._live.values()))

    def __len__(self) -> int:
        return len(self._live)


def track_models_weakly() -> None:
    """Make moto's model registry weak: its dashboard still lists every live object."""
    from moto.core.common_models import BaseModel

    if getattr(BaseModel.__new__, "_sandbox_weak", False):
        return

    def tracked_weakly(cls: Any, *args: Any, **kwargs: Any) -> Any:
        instance = object.__new__(cls)
        registry = cls.__dict__.get("instances_tracked")
        if not isinstance(registry, WeakInstances):  # a new class, or moto's reset put a list back
            registry = WeakInstances(registry or ())
            cls.instances_tracked = registry
        registry.append(instance)
        return instance

    tracked_weakly._sandbox_weak = True  # type: ignore[attr-defined]
    BaseModel.__new__ = tracked_weakly  # type: ignore[method-assign, assignment]


# moto numbers a stream record by its position in the shard's list; appending, reading and
# trimming that list must not interleave (moto alone can give two concurrent writes one number).
_SHARD_LOCK = threading.RLock()


def lock_stream_shards() -> None:
    """Serialise moto's stream shard writes and reads, so records can be trimmed safely."""
    from moto.dynamodb.models.table import StreamShard

    if getattr(StreamShard.add, "_sandbox_locked", False):
        return
    add, get = StreamShard.add, StreamShard.get

    def locked_add(self: Any, old: Any, new: Any) -> None:
        with _SHARD_LOCK:
            add(self, old, new)

    def locked_get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        with _SHARD_LOCK:
            # An iterator older than the trim reads from the oldest record kept (moto would fail).
            return get(self, max(start, self.starting_sequence_number), quantity)  # type: ignore[no-any-return]

    locked_add._sandbox_locked = True  # type: ignore[attr-defined]
    StreamShard.add, StreamShard.get = locked_add, locked_get  # type: ignore[method-assign]


def trim_stream(region: str, stream_arn: str, through: int) -> int:
    """Drop a stream's records up to sequence number ``through``; how many were dropped."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    shard = dynamodbstreams_backends[ACCOUNT_ID][region]._get_table_from_arn(stream_arn).stream_shard
    if shard is None:  # the table's stream was switched off
        return 0
    with _SHARD_LOCK:
        dropped = max(0, min(len(shard.items), through + 1 - shard.starting_sequence_number))
        del shard.items[:dropped]
        shard.starting_sequence_number += dropped  # the numbers of the records kept stay the same
    return dropped


class StreamTrimmer:
    """Where each stream poller has got to; what every poller of a stream has processed is trimmed."""

    def __init__(self, region: str) -> None:
        lock_stream_shards()
        self.region = region
        self._processed: dict[str, dict[str, int]] = {}  # stream -> poller -> last sequence number done
        self._lock = threading.Lock()

    def follow(self, stream_arn: str, poller: str) -> None:
        """Register a poller before it reads: until it has processed a record, nothing is trimmed."""
        with self._lock:
            self._processed.setdefault(stream_arn, {})[poller] = -1

    def processed(self, stream_arn: str, poller: str, sequence_number: str) -> None:
        """``poller`` is done with every record up to ``sequence_number`` (its checkpoint)."""
        with self._lock:
            pollers = self._processed.setdefault(stream_arn, {})
            pollers[poller] = max(pollers.get(poller, -1), int(sequence_number))
            through = min(pollers.values())
        if through >= 0:
            trim_stream(self.region, stream_arn, through)


def start(host: str, port: int) -> Any:
    """Start moto's server (the caller has checked the port is free; moto would hang otherwise)."""
    from moto.server import ThreadedMotoServer

    track_models_weakly()
    lock_stream_shards()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per poll
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def release_shard_iterator(region: str, iterator: str) -> None:
    """Forget a DynamoDB Streams shard iterator this process will not use again."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    dynamodbstreams_backends[ACCOUNT_ID][region].shard_iterators.pop(iterator, None)
