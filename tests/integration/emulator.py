"""A moto server on a free port for the sandbox's tests, reset after each test.

The sandbox's pollers talk to a real emulator over HTTP (like ``python -m sandbox``), so
these tests use ``ThreadedMotoServer`` rather than the in-process ``mock_aws``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest
from moto.server import ThreadedMotoServer

from sandbox.deployment import deploy_template
from sandbox.stack import Stack

REGION = "us-east-1"


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def emulator(_emulator_server: str) -> Iterator[SimpleNamespace]:
    """Clients bound to the running emulator; its state is wiped after the test."""
    session = boto3.session.Session(region_name=REGION)
    names = ("dynamodb", "dynamodbstreams", "sqs", "secretsmanager")
    clients = SimpleNamespace(
        url=_emulator_server, **{name: session.client(name, endpoint_url=_emulator_server) for name in names}
    )
    yield clients
    urllib.request.urlopen(urllib.request.Request(f"{_emulator_server}/moto-api/reset", method="POST"), timeout=10)


@pytest.fixture
def stack(emulator: SimpleNamespace) -> Stack:
    """The template deployed into the emulator exactly as `make run` deploys it."""
    return deploy_template(emulator, REGION, {}).stack
