"""The embedded AWS emulator: moto's server, in this process, on 127.0.0.1.

Running it in-process (a thread, not a child process) means nothing can be orphaned and
start-up costs one import. It also lets the stream pollers release the shard iterators
they have finished with: moto keeps every iterator it ever hands out (about 2 KB each),
and a poller asking four times a second would otherwise grow the process by ~700 MB a day.
"""

from __future__ import annotations

import logging
from typing import Any

from sandbox.stack import ACCOUNT_ID


def start(host: str, port: int) -> Any:
    """Start moto's server (the caller has checked the port is free; moto would hang otherwise)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per poll
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def release_shard_iterator(region: str, iterator: str) -> None:
    """Forget a DynamoDB Streams shard iterator this process will not use again."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    dynamodbstreams_backends[ACCOUNT_ID][region].shard_iterators.pop(iterator, None)
