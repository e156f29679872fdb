"""``python -m sandbox``: the whole stack of ``template.yaml`` on this machine, no Docker.

Start-up order matters: the process environment (emulator endpoint, fake credentials,
region) is set before anything imports boto3, the emulator's resources exist before any
handler's environment is resolved, and the handlers' environment is set before their
modules are imported (Powertools and the settings read it at import / first use).
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from sandbox.environment import secret_values, secret_variables, shared_environment
from sandbox.functions import functions as template_functions
from sandbox.template import load_template, parameter_values

REGION = "us-east-1"
HOST = "127.0.0.1"

# Every AWS client in this process (ours and the handlers') talks to the emulator.
EMULATOR_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    # botocore routes DynamoDB (Streams) to account-scoped endpoints moto does not serve.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    # No X-Ray daemon and no CloudWatch here: keep the tracer and metrics quiet.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE")


class PortTaken(RuntimeError):
    pass


@dataclass
class Clients:
    dynamodb: Any
    dynamodbstreams: Any
    sqs: Any
    secretsmanager: Any


def whsec(secret: str) -> str:
    """The Standard Webhooks form of a secret whose UTF-8 bytes are the HMAC key."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


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

    from sandbox.emulator import release_shard_iterator
    from sandbox.emulator import start as start_emulator
    from sandbox.gateway import Gateway, api_routes
    from sandbox.pollers import Poller, event_pollers
    from sandbox.stack import deploy

    class LoggingGateway(Gateway):
        def log_request(self, line: str) -> None:  # one line per request, like sam local
            print(f"[api] {line}", flush=True)

    template = load_template()
    functions = template_functions(template)
    parameters = parameter_values(template)
    secret_vars = secret_variables(functions, template, parameters)
    secrets, generated = secret_values(secret_vars, os.environ)

    emulator = start_emulator(HOST, emulator_port)
    gateway: Gateway | None = None
    pollers: list[Poller] = []
    try:
        session = boto3.session.Session()
        clients = Clients(*(session.client(s) for s in ("dynamodb", "dynamodbstreams", "sqs", "secretsmanager")))
        stack = deploy(
            template,
            clients.dynamodb,
            clients.sqs,
            clients.secretsmanager,
            region=REGION,
            parameters=parameters,
            secret_values=secrets,
        )
        os.environ.update(shared_environment(functions, stack, os.environ, secret_vars))
        # The template declares AWS_ENDPOINT_URL empty (for sam local's env.json); here it is ours.
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        for function in functions.values():
            function.load()  # import every handler now: errors surface at start, first requests are warm

        try:
            gateway = LoggingGateway(api_routes(functions), host=HOST, port=api_port)
        except OSError as error:  # taken between the probe and now
            print(f"sandbox: cannot listen on {HOST}:{api_port}: {error}", file=sys.stderr)
            return 2
        gateway.start()
        pollers = event_pollers(
            functions, stack, clients, os.environ, release_iterator=lambda it: release_shard_iterator(REGION, it)
        )
        for poller in pollers:
            poller.start()

        _print_banner(gateway.url, endpoint, secret_vars, stack.secrets, generated, pollers, time.monotonic() - started)
        while not stopping.wait(1):
            pass
        print("\nsandbox: stopping ...", flush=True)
    finally:  # also after a failed start: nothing keeps running, every port is released
        for poller in pollers:
            poller.stop()
        if gateway is not None:
            gateway.stop()
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
) -> None:
    token = next((secrets[s] for s, v in secret_vars.items() if v == "SERVICE_AUTH_TOKEN"), "")
    webhook = next((secrets[s] for s, v in secret_vars.items() if v == "WEBHOOK_SECRET"), "")
    note = " (generated; set {} to choose your own)"
    lines = [
        f"paysandbox local sandbox is up in {seconds:.1f}s",
        f"  API             {api_url}",
        f"  Console         {api_url}/console",
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
