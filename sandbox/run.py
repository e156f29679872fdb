"""``python -m sandbox``: the whole stack of ``template.yaml`` on this machine, no Docker.

Start-up order matters: the process environment (emulator endpoint, fake credentials,
region) is set before anything imports boto3, the emulator's resources exist before any
handler's environment is resolved, and the handlers' environment is set before their
modules are imported (Powertools and the settings read it at import / first use).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.fake_aws import REAL_AWS_VARIABLES, fake_aws_environment
from sandbox.environment import shared_environment
from sandbox.state import StateStore, describe_restore, state_dir
from sandbox.terminal import install as install_terminal
from sandbox.terminal import raw_json, readable_request

if TYPE_CHECKING:  # imported for real only once the environment points at the emulator
    from pathlib import Path

    from sandbox.deployment import Deployment

REGION = "us-east-1"
HOST = "127.0.0.1"

# Every AWS client in this process (ours and the handlers') talks to the emulator.
EMULATOR_ENVIRONMENT = {
    **fake_aws_environment(REGION, key="sandbox"),
    # No X-Ray daemon and no CloudWatch here: keep the tracer and metrics quiet.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
CLEARED_VARIABLES = REAL_AWS_VARIABLES  # AWS_ENDPOINT_URL is then set to the emulator


class PortTaken(RuntimeError):
    pass


@dataclass
class Clients:
    dynamodb: Any
    dynamodbstreams: Any
    sqs: Any
    secretsmanager: Any


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"sandbox: {name}={raw!r} is not a TCP port")
    return int(raw)


def _ensure_free(port: int, what: str, variable: str) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As the servers themselves do: connections of a previous run in TIME_WAIT do not count,
    # while a live listener still makes bind fail.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((HOST, port))
    except OSError:
        raise PortTaken(
            f"sandbox: port {port} ({what}) on {HOST} is already in use - stop whatever holds it "
            f"or choose another with {variable}=<port>"
        ) from None
    finally:
        probe.close()


@dataclass
class Running:
    """What a started sandbox stops at the end, in this order; filled in as start-up goes."""

    pollers: list[Any] = field(default_factory=list)
    gateway: Any = None
    store: StateStore | None = None
    kept: dict[str, str] = field(default_factory=dict)  # secrets the state file keeps (generated or reused)

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        if self.gateway is not None:
            self.gateway.stop()
        if self.store is not None:  # everything that writes has stopped: this snapshot is the final one
            self.store.stop_snapshots()
            self.store.save(self.kept)


def main() -> int:
    started = time.monotonic()
    api_port = _port("PORT", 3000)
    emulator_port = _port("AWS_EMULATOR_PORT", 5000)
    try:
        _ensure_free(emulator_port, "AWS emulator", "AWS_EMULATOR_PORT")
        _ensure_free(api_port, "API", "PORT")
    except PortTaken as taken:
        print(taken, file=sys.stderr)
        return 2

    from sandbox.heap import limit_arenas

    limit_arenas()  # before any thread starts (see sandbox/heap.py)
    stopping = _stop_requested_by_signals()
    endpoint = f"http://{HOST}:{emulator_port}"
    _use_emulator(endpoint)

    from sandbox.emulator import start as start_emulator

    state_directory = state_dir(os.environ)
    # An earlier run's generated secrets, so receivers and open checkout forms keep working.
    reused = StateStore.reuse_secrets(state_directory, os.environ) if state_directory else []

    emulator = start_emulator(HOST, emulator_port)
    running = Running()
    try:
        if not _start(running, api_port, endpoint, state_directory, reused, started):
            return 2
        while not stopping.wait(1):
            pass
        print("\nsandbox: stopping ...", flush=True)
    finally:  # also after a failed start: nothing keeps running, every port is released
        running.stop()
        emulator.stop()
    print("sandbox: stopped", flush=True)
    return 0


def _stop_requested_by_signals() -> threading.Event:
    """From here on a signal only asks for a stop, which happens once start-up is complete."""
    stopping = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stopping


def _use_emulator(endpoint: str) -> None:
    """Point every AWS client of this process at the emulator, before anything imports boto3."""
    for name in CLEARED_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(EMULATOR_ENVIRONMENT)
    os.environ["AWS_ENDPOINT_URL"] = endpoint

    from sandbox.wakeups import watch_default_session

    watch_default_session()  # before any handler creates a client: their writes wake the pollers


def _start(
    running: Running, api_port: int, endpoint: str, state_directory: Path | None, reused: list[str], started: float
) -> bool:
    """Deploy, load every handler, restore the state, then serve; False when the API port was
    taken since the probe."""
    import boto3

    session = boto3.session.Session()
    clients = Clients(*(session.client(s) for s in ("dynamodb", "dynamodbstreams", "sqs", "secretsmanager")))
    json_lines = raw_json(os.environ)
    deployment = _deploy_and_load(clients, endpoint, json_lines)
    secret_vars, generated, stack = deployment.secret_variables, deployment.generated, deployment.stack
    running.kept = {v: stack.secrets[s] for s, v in secret_vars.items() if s in generated or v in reused}
    if state_directory is not None:
        restoring = StateStore(state_directory, stack, clients)
        print(describe_restore(state_directory, restoring.restore()), flush=True)
        running.store = restoring  # only a complete restore may be saved over the file it came from

    stage = os.environ.get("STAGE") or "dev"
    try:
        running.gateway = _logging_gateway(deployment.functions, api_port, stage, json_lines)
    except OSError as error:  # taken between the probe and now
        print(f"sandbox: cannot listen on {HOST}:{api_port}: {error}", file=sys.stderr)
        return False
    running.gateway.start()
    _start_event_sources(running, deployment, clients)
    _print_banner(
        running.gateway.url, endpoint, secret_vars, stack.secrets, generated, running.pollers,
        time.monotonic() - started, stage,
    )  # fmt: skip
    return True


def _deploy_and_load(clients: Clients, endpoint: str, json_lines: bool) -> Deployment:
    """The template's resources in the emulator, then every handler imported in their environment."""
    from sandbox.deployment import deploy_template

    deployment = deploy_template(clients, REGION, os.environ)
    functions = deployment.functions
    os.environ.update(shared_environment(functions, deployment.stack, os.environ, deployment.secret_variables))
    # The template declares AWS_ENDPOINT_URL empty (for sam local's env.json); here it is ours.
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for function in functions.values():
        function.load()  # import every handler now: errors surface at start, first requests are warm
    install_terminal(functions, json_lines=json_lines)
    return deployment


def _logging_gateway(functions: dict[str, Any], port: int, stage: str, json_lines: bool) -> Any:
    """The API on ``port``, printing one line per request, like sam local."""
    from sandbox.gateway import Gateway, api_routes

    class LoggingGateway(Gateway):
        def log_request(self, line: str) -> None:
            print(f"[api] {line}" if json_lines else readable_request(line), flush=True)

    return LoggingGateway(api_routes(functions), host=HOST, port=port, stage=stage)


def _start_event_sources(running: Running, deployment: Deployment, clients: Clients) -> None:
    """Local teams, then the stream, queue and schedule pollers, then the state snapshots."""
    from sandbox.emulator import StreamTrimmer, release_shard_iterator
    from sandbox.local_teams import create_teams
    from sandbox.pollers import event_pollers

    team_lines = create_teams(os.environ)
    running.pollers = event_pollers(
        deployment.functions,
        deployment.stack,
        clients,
        os.environ,
        release_iterator=lambda it: release_shard_iterator(REGION, it),
        trimmer=StreamTrimmer(REGION),
    )
    for poller in running.pollers:
        poller.start()
    if running.store is not None:
        running.store.start_snapshots(running.kept)
    if team_lines:
        print(
            "\n".join(["Teams (SANDBOX_TEAMS; send the key as Authorization: Bearer <key>):", *team_lines]),
            flush=True,
        )


def _print_banner(
    api_url: str,
    endpoint: str,
    secret_vars: dict[str, str],
    secrets: dict[str, str],
    generated: set[str],
    pollers: list[Any],
    seconds: float,
    stage: str = "dev",
) -> None:
    from paysandbox.signatures import whsec  # the layer is on sys.path once the handlers are loaded

    token = next((secrets[s] for s, v in secret_vars.items() if v == "SERVICE_AUTH_TOKEN"), "")
    webhook = next((secrets[s] for s, v in secret_vars.items() if v == "WEBHOOK_SECRET"), "")
    note = " (generated; set {} to choose your own)"
    lines = [
        f"paysandbox local sandbox is up in {seconds:.1f}s",
        f"  API             {api_url}",
        f"  Console         {api_url}/console",
        f"  Stage URL       {api_url}/{stage}  (every route also under /{stage}/, as on a deployed API)",
        f"  Operator token  {token}"
        + (note.format("SERVICE_AUTH_TOKEN") if _generated(secret_vars, generated, "SERVICE_AUTH_TOKEN") else ""),
        f"  Webhook secret  {webhook}"
        + (note.format("WEBHOOK_SECRET") if _generated(secret_vars, generated, "WEBHOOK_SECRET") else ""),
        f"  Standard Webhooks secret  {whsec(webhook)}",
        f"  AWS emulator    {endpoint}  (region {REGION}; any AWS client with AWS_ENDPOINT_URL={endpoint})",
        "  Event sources   " + (", ".join(p.name for p in pollers) or "none"),
        "Ctrl-C stops everything.",
    ]
    print("\n".join(lines), flush=True)


def _generated(secret_vars: dict[str, str], generated: set[str], variable: str) -> bool:
    return any(secret_vars[s] == variable for s in generated)
