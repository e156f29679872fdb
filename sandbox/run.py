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
from dataclasses import dataclass
from typing import Any

from harness.fake_aws import REAL_AWS_VARIABLES, fake_aws_environment
from sandbox.environment import shared_environment
from sandbox.state import StateStore, describe_restore, state_dir
from sandbox.terminal import install as install_terminal
from sandbox.terminal import raw_json, readable_request

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
    # From here on a signal only asks for a stop, which happens once start-up is complete.
    stopping = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    endpoint = f"http://{HOST}:{emulator_port}"
    for name in CLEARED_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(EMULATOR_ENVIRONMENT)
    os.environ["AWS_ENDPOINT_URL"] = endpoint

    import boto3

    from sandbox.wakeups import watch_default_session

    watch_default_session()  # before any handler creates a client: their writes wake the pollers

    from sandbox.deployment import deploy_template
    from sandbox.emulator import StreamTrimmer, release_shard_iterator
    from sandbox.emulator import start as start_emulator
    from sandbox.gateway import Gateway, api_routes
    from sandbox.pollers import Poller, event_pollers

    json_lines = raw_json(os.environ)

    class LoggingGateway(Gateway):
        def log_request(self, line: str) -> None:  # one line per request, like sam local
            print(f"[api] {line}" if json_lines else readable_request(line), flush=True)

    state_directory = state_dir(os.environ)
    # An earlier run's generated secrets, so receivers and open checkout forms keep working.
    reused = StateStore.reuse_secrets(state_directory, os.environ) if state_directory else []

    emulator = start_emulator(HOST, emulator_port)
    gateway: Gateway | None = None
    pollers: list[Poller] = []
    store: StateStore | None = None
    try:
        session = boto3.session.Session()
        clients = Clients(*(session.client(s) for s in ("dynamodb", "dynamodbstreams", "sqs", "secretsmanager")))
        deployment = deploy_template(clients, REGION, os.environ)
        functions, stack = deployment.functions, deployment.stack
        secret_vars, generated = deployment.secret_variables, deployment.generated
        kept = {v: stack.secrets[s] for s, v in secret_vars.items() if s in generated or v in reused}
        os.environ.update(shared_environment(functions, stack, os.environ, secret_vars))
        # The template declares AWS_ENDPOINT_URL empty (for sam local's env.json); here it is ours.
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        for function in functions.values():
            function.load()  # import every handler now: errors surface at start, first requests are warm
        install_terminal(functions, json_lines=json_lines)
        if state_directory is not None:
            restoring = StateStore(state_directory, stack, clients)
            print(describe_restore(state_directory, restoring.restore()), flush=True)
            store = restoring  # only a complete restore may be saved over the file it came from

        try:
            stage = os.environ.get("STAGE") or "dev"
            gateway = LoggingGateway(api_routes(functions), host=HOST, port=api_port, stage=stage)
        except OSError as error:  # taken between the probe and now
            print(f"sandbox: cannot listen on {HOST}:{api_port}: {error}", file=sys.stderr)
            return 2
        gateway.start()
        from sandbox.local_teams import create_teams

        team_lines = create_teams(os.environ)
        pollers = event_pollers(
            functions,
            stack,
            clients,
            os.environ,
            release_iterator=lambda it: release_shard_iterator(REGION, it),
            trimmer=StreamTrimmer(REGION),
        )
        for poller in pollers:
            poller.start()
        if store is not None:
            store.start_snapshots(kept)

        if team_lines:
            print(
                "\n".join(["Teams (SANDBOX_TEAMS; send the key as Authorization: Bearer <key>):", *team_lines]),
                flush=True,
            )
        _print_banner(
            gateway.url, endpoint, secret_vars, stack.secrets, generated, pollers, time.monotonic() - started, stage
        )
        while not stopping.wait(1):
            pass
        print("\nsandbox: stopping ...", flush=True)
    finally:  # also after a failed start: nothing keeps running, every port is released
        for poller in pollers:
            poller.stop()
        if gateway is not None:
            gateway.stop()
        if store is not None:  # everything that writes has stopped: this snapshot is the final one
            store.stop_snapshots()
            store.save(kept)
        emulator.stop()
    print("sandbox: stopped", flush=True)
    return 0


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
