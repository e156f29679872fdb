"""The ``paysandbox`` command line against the local sandbox, both as subprocesses (docs/events.md):
``listen`` forwards events signed as real deliveries, survives a restart of the API without
losing or repeating one; ``trigger`` produces each event; ``events list`` filters by delivery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from harness.receiver import Received, Receiver, Reply
from harness.sandbox_process import ROOT, SECRET, TOKEN, Sandbox, free_port, port_is_free
from harness.webhook_checks import verified_payload
from paysandbox import signatures
from tests.support import invoice_body, v2_body, wait_for

OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
LISTEN_LAG = 2.0  # Locally, `listen` is at most 2 s behind the event


def cli_env(sandbox: Sandbox) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "cli"),
        "PAYSANDBOX_API": sandbox.url,
        "PAYSANDBOX_KEY": TOKEN,
        "PYTHONUNBUFFERED": "1",
    }


def cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paysandbox_cli", *args],
        env=cli_env(sandbox),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class Listening:
    """``paysandbox listen`` as a subprocess; its output lines collected as they come."""

    def __init__(self, sandbox: Sandbox, forward_to: str, *extra: str) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paysandbox_cli", "listen", "--forward-to", forward_to, *extra],
            env=cli_env(sandbox),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_for(lambda: any("Forwarding events" in line for line in self.lines), timeout=30)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(15)
        self.reader.join(5)
        return code


@pytest.fixture
def listening() -> Iterator[Callable[..., Listening]]:
    started: list[Listening] = []

    def start(sandbox: Sandbox, forward_to: str, *extra: str) -> Listening:
        started.append(Listening(sandbox, forward_to, *extra))
        return started[-1]

    yield start
    for listener in started:
        if listener.process.poll() is None:
            listener.process.kill()
            listener.process.wait()


def create(sandbox: Sandbox, flavour: str, ident: str, url: str) -> str:
    if flavour == "v2":
        status, body = sandbox.request("POST", "/api/v2/payments", v2_body(tx_id=ident, callback_url=url))
    else:
        status, body = sandbox.request("POST", "/api/create-invoice", invoice_body(reference=ident, webhook_url=url))
    assert status == 200, body
    return str(body["payment_id"])


def settle(sandbox: Sandbox, payment_id: str, how: str) -> None:
    route = "/api/v2/confirm-payment" if how == "confirm" else "/api/v2/fail-payment"
    status, body = sandbox.request("POST", route, {"payment_id": payment_id}, OPERATOR)
    assert status == 200, body


def test_listen_forwards_each_event_as_delivered_and_signed(
    sandbox_factory: Any, listening: Callable[..., Listening]
) -> None:
    # Given a sandbox, a merchant endpoint and a developer's local endpoint behind `listen`
    sandbox = sandbox_factory()
    with Receiver() as receiver:
        listener = listening(sandbox, receiver.url("/local"))
        forwarded: list[Received] = []
        paid = ""
        for flavour, how, event in (
            ("v2", "confirm", "payment.completed"),
            ("invoice", "fail", "payment.failed"),
            ("v2", "refund", "payment.refunded"),
        ):
            # When a payment reaches an event (the refund: of the payment confirmed first, in full)
            if how == "refund":
                payment_id = paid
                status, body = sandbox.request("POST", f"/api/payments/{paid}/refunds", {}, OPERATOR)
                assert status == 200, body
            else:
                payment_id = create(sandbox, flavour, f"listen-{how}", receiver.url("/merchant"))
                settle(sandbox, payment_id, how)
                paid = paid or payment_id
            delivered = wait_for(lambda: receiver.to("/merchant")[len(forwarded) :], timeout=30)[0]
            # Then the local endpoint gets it too, at most 2 s behind the real delivery
            local = wait_for(lambda: receiver.to("/local")[len(forwarded) :], timeout=LISTEN_LAG)[0]
            forwarded.append(local)
            # with the same body and signatures that verify with the secret
            assert local.body == delivered.body
            payload = verified_payload(local, SECRET)
            assert payload["payment_id"] == payment_id
            assert payload["event"] == event
            real = {k.lower(): v for k, v in delivered.headers.items()}
            copy = {k.lower(): v for k, v in local.headers.items()}
            signing = ("x-signature", "x-payment-signature", "x-payment-event", "x-payment-id", "webhook-id")
            assert {h: copy[h] for h in signing} == {h: real[h] for h in signing}
            assert copy["x-payment-id"] == payment_id
        # And one line per event names its type, payment and the local answer
        lines = [line for line in listener.lines if "-> 200" in line]
        types = ("payment.completed", "payment.failed", "payment.refunded")
        assert [t in line for t, line in zip(types, lines, strict=True)] == [True, True, True]
        assert listener.stop() == 0


def test_listen_only_forwards_the_chosen_types(sandbox_factory: Any, listening: Callable[..., Listening]) -> None:
    sandbox = sandbox_factory()
    with Receiver() as receiver:
        listening(sandbox, receiver.url("/local"), "--events", "payment.failed")
        settle(sandbox, create(sandbox, "v2", "only-1", receiver.url("/merchant")), "confirm")
        failed = create(sandbox, "v2", "only-2", receiver.url("/merchant"))
        settle(sandbox, failed, "fail")
        wait_for(lambda: len(receiver.to("/merchant")) == 2, timeout=30)
        local = wait_for(lambda: receiver.to("/local"), timeout=10)
        # the later failed event arrived, the earlier completed one was passed over
        assert [json.loads(r.body)["event"] for r in local] == ["payment.failed"]


def test_listen_resumes_after_a_restart_without_loss_or_duplicates(
    sandbox_factory: Any, listening: Callable[..., Listening], tmp_path: Path
) -> None:
    port, state = free_port(), str(tmp_path / "kept-state")

    def start() -> Sandbox:  # on one address and one state directory, as a developer restarts it
        started: Sandbox = sandbox_factory(PORT=str(port), SANDBOX_STATE_DIR=state)
        started.api_port = port
        return started

    sandbox = start()
    with Receiver() as receiver:
        listener = listening(sandbox, receiver.url("/local"), "--interval", "0.2")
        merchant = receiver.url("/merchant")
        settle(sandbox, create(sandbox, "v2", "restart-1", merchant), "confirm")
        wait_for(lambda: len(receiver.to("/local")) == 1, timeout=30)
        # An event happens just before the API goes away: the listener may not have seen it
        settle(sandbox, create(sandbox, "v2", "restart-2", merchant), "confirm")
        wait_for(lambda: len(receiver.to("/merchant")) == 2, timeout=30)
        sandbox.stop()
        wait_for(lambda: any("unreachable" in line for line in listener.lines), timeout=30)
        wait_for(lambda: port_is_free(port), timeout=30)
        # When the API comes back on the same address and state
        sandbox = start()
        settle(sandbox, create(sandbox, "invoice", "restart-3", merchant), "fail")
        settle(sandbox, create(sandbox, "invoice", "restart-4", merchant), "confirm")
        wait_for(lambda: len(receiver.to("/local")) >= 4, timeout=30)
        # Then every event was forwarded exactly once, in order
        merchant_ids = [json.loads(r.body)["event_id"] for r in receiver.to("/merchant")]
        local_ids = [json.loads(r.body)["event_id"] for r in receiver.to("/local")]
        assert local_ids == merchant_ids
        assert any("reachable again" in line for line in listener.lines)
        assert listener.stop() == 0


@pytest.mark.parametrize("flavour", ["invoice", "v2"])
def test_trigger_produces_each_event(sandbox_factory: Any, flavour: str) -> None:
    sandbox = sandbox_factory()
    with Receiver() as receiver:
        for event_type in ("payment.completed", "payment.failed", "payment.expired", "payment.refunded"):
            # When `trigger` runs
            done = cli(
                sandbox, "trigger", event_type, "--flavour", flavour, "--webhook-url", receiver.url(f"/{event_type}")
            )
            assert done.returncode == 0, done.stderr
            made = json.loads(done.stdout)
            # Then the event exists, and the merchant URL received it, signed with the secret
            status, event = sandbox.request("GET", f"/api/events/{made['event_id']}", headers=OPERATOR)
            assert status == 200, event
            assert (event["type"], event["payment_id"]) == (event_type, made["payment_id"])

            def arrived(t: str = event_type, event_id: str = made["event_id"]) -> list[Received]:
                return [r for r in receiver.to(f"/{t}") if r.headers.get("webhook-id") == event_id]

            payload = verified_payload(wait_for(arrived, timeout=30)[0], SECRET)
            assert (payload["event"], payload["payment_id"]) == (event_type, made["payment_id"])


def test_output_into_a_pipe_whose_reader_has_gone_ends_quietly(sandbox_factory: Any) -> None:
    """``paysandbox payments get ... | head -0``: the reader is gone before anything is written.
    The command stops with the shell's status for a closed pipe, not a traceback."""
    sandbox = sandbox_factory()
    made = cli(
        sandbox, "payments", "create", "--flavour", "v2", "--id", "tx-pipe", "--webhook-url", "https://example.com/hook"
    )
    assert made.returncode == 0, made.stderr
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "paysandbox_cli", "payments", "get", "pay_tx-pipe"],
            env=cli_env(sandbox),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_events_list_shows_exactly_the_failing_ones_and_resend_delivers_again(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(WEBHOOK_MAX_ATTEMPTS="1")
    with Receiver() as receiver:
        receiver.plan = lambda request, n: Reply(500) if request.path == "/broken" else Reply(200)
        ids = {}
        for name in ("ok", "broken-1", "broken-2"):
            path = "/broken" if name.startswith("broken") else "/ok"
            payment_id = create(sandbox, "v2", name, receiver.url(path))
            settle(sandbox, payment_id, "confirm")
            ids[name] = payment_id

        def settled() -> bool:
            status, page = sandbox.request("GET", "/api/events", headers=OPERATOR)
            assert status == 200, page
            return len(page["events"]) == 3 and all(e["delivery"]["status"] != "pending" for e in page["events"])

        wait_for(settled, timeout=30)
        # When the developer lists failed deliveries
        listed = cli(sandbox, "events", "list", "--delivery", "failed")
        assert listed.returncode == 0, listed.stderr
        failing = json.loads(listed.stdout)["events"]
        # Then exactly the two failing events, with their last answer (listed in the order the
        # sender stored them; its parallel lanes may store two near-simultaneous ones either way)
        assert sorted(e["payment_id"] for e in failing) == sorted([ids["broken-2"], ids["broken-1"]])
        assert all(e["delivery"] == {"status": "failed", "attempts": 1, "last_response_status": 500} for e in failing)
        delivered = json.loads(cli(sandbox, "events", "list", "--delivery", "delivered").stdout)["events"]
        assert [e["payment_id"] for e in delivered] == [ids["ok"]]
        # And once the endpoint is fixed, resending one delivers it again and updates its status
        receiver.plan = lambda request, n: Reply(200)
        event_id = failing[0]["event_id"]
        resent = cli(sandbox, "events", "resend", event_id)
        assert resent.returncode == 0, resent.stderr
        wait_for(lambda: len(receiver.to("/broken")) == 3, timeout=30)
        wait_for(
            lambda: json.loads(cli(sandbox, "events", "get", event_id).stdout)["delivery"]["status"] == "delivered"
        )
        shown = json.loads(cli(sandbox, "events", "get", event_id).stdout)
        assert shown["delivery"] == {"status": "delivered", "attempts": 2, "last_response_status": 200}


def ok(done: subprocess.CompletedProcess[str]) -> Any:
    """The command's printed JSON, once it exited 0."""
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_payments_refund_partly_then_the_rest_then_refuses(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory()
    with Receiver() as receiver:
        payment_id = create(sandbox, "invoice", "refund-cli", receiver.url("/merchant"))
        settle(sandbox, payment_id, "confirm")
        # When the developer refunds part, then the rest
        part = ok(cli(sandbox, "payments", "refund", payment_id, "--amount", "400", "--reason", "damaged"))
        rest = ok(cli(sandbox, "payments", "refund", payment_id))
        # Then two refunds succeeded, the second for what remained, and the payment is refunded
        assert (part["status"], part["amount"], part["reason"]) == ("succeeded", 400, "damaged")
        amount = ok(cli(sandbox, "payments", "get", payment_id))["amount"]
        assert (rest["status"], rest["amount"], rest["payment_id"]) == ("succeeded", amount - 400, payment_id)
        listed = ok(cli(sandbox, "payments", "refunds", payment_id))["refunds"]
        assert [r["refund_id"] for r in listed] == [part["refund_id"], rest["refund_id"]]
        assert ok(cli(sandbox, "payments", "get", payment_id))["status"] == "refunded"
        # And a third is refused with the API's message, and nothing changes
        again = cli(sandbox, "payments", "refund", payment_id, "--amount", "1")
        assert again.returncode == 1
        assert "payment_not_refundable" in again.stderr
        assert len(ok(cli(sandbox, "payments", "refunds", payment_id))["refunds"]) == 2


def test_teams_keys_work_and_each_teams_listener_sees_only_its_events(
    sandbox_factory: Any, listening: Callable[..., Listening]
) -> None:
    sandbox = sandbox_factory()
    # Given two teams created with the admin token
    made = {t: ok(cli(sandbox, "teams", "create", t, "--name", f"Team {t}")) for t in ("shop", "billing")}
    assert all(made[t]["api_key"].startswith(f"psk_{t}_") for t in made)
    listed = ok(cli(sandbox, "teams", "list"))["teams"]
    assert {t["team_id"] for t in listed} >= {"shop", "billing"}
    assert all("api_key" not in t for t in listed)
    with Receiver() as receiver:
        # and a listener per team, each with its team's key
        for team in made:
            listening(sandbox, receiver.url(f"/local-{team}"), "--key", made[team]["api_key"])

        def pay(team: str, ident: str) -> str:  # with the team's printed key, through the CLI
            key = made[team]["api_key"]
            created = ok(
                cli(
                    sandbox,
                    "payments",
                    "create",
                    "--webhook-url",
                    receiver.url("/merchant"),
                    "--id",
                    ident,
                    "--key",
                    key,
                )
            )
            ok(cli(sandbox, "payments", "confirm", created["payment_id"], "--key", key))
            return str(created["payment_id"])

        # When shop pays, then billing, then shop again (and the default team too)
        shop_1, billing_1 = pay("shop", "t-1"), pay("billing", "t-1")
        settle(sandbox, create(sandbox, "v2", "default-1", receiver.url("/merchant")), "confirm")
        shop_2 = pay("shop", "t-2")
        # Then each listener forwards its own team's events, in order, signed with its secret
        wait_for(lambda: len(receiver.to("/local-shop")) == 2, timeout=30)
        wait_for(lambda: len(receiver.to("/local-billing")) == 1, timeout=30)
        seen = {}
        for team in made:
            seen[team] = []
            for request in receiver.to(f"/local-{team}"):
                Webhook(made[team]["whsec"]).verify(request.body, {k.lower(): v for k, v in request.headers.items()})
                seen[team].append(json.loads(request.body)["payment_id"])
        # (billing's listener would have forwarded shop's earlier event before its own)
        assert seen == {"shop": [shop_1, shop_2], "billing": [billing_1]}
        # And another team's payment is not found with a team's key
        foreign = cli(sandbox, "payments", "get", shop_1, "--key", made["billing"]["api_key"])
        assert foreign.returncode == 1
    # And rolling gives a new key that works, and a new webhook secret
    rolled = ok(cli(sandbox, "teams", "roll-key", "shop"))
    assert rolled["api_key"].startswith("psk_shop_") and rolled["api_key"] != made["shop"]["api_key"]
    assert ok(cli(sandbox, "payments", "get", shop_1, "--key", rolled["api_key"]))["payment_id"] == shop_1
    secret = ok(cli(sandbox, "teams", "roll-secret", "shop", "--overlap-seconds", "0"))
    assert secret["whsec"].startswith("whsec_") and secret["whsec"] != made["shop"]["whsec"]
    shown = cli(sandbox, "listen", "--print-secret", "--key", rolled["api_key"])
    assert shown.stdout.strip() == secret["whsec"]
    refused = cli(sandbox, "teams", "create", "shop")
    assert refused.returncode == 1
    assert "team_exists" in refused.stderr


def test_errors_exit_non_zero_with_the_apis_message(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory()
    missing = cli(sandbox, "events", "get", "evt_nope")
    assert missing.returncode == 1
    assert "No event 'evt_nope'" in missing.stderr
    wrong_key = cli(sandbox, "events", "list", "--key", "not-the-token")
    assert wrong_key.returncode == 1
    assert "operator token is not valid" in wrong_key.stderr
    bad = cli(sandbox, "events", "list", "--delivery", "lost")
    assert bad.returncode == 2  # argparse refuses it before any request
    unknown_after = sandbox.request("GET", "/api/events?after=evt_nope", headers=OPERATOR)
    assert unknown_after[0] == 404


def test_every_command_has_help(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory()
    commands = [
        [],
        ["listen"],
        ["trigger"],
        ["payments"],
        *[["payments", a] for a in ("create", "get", "list", "confirm", "fail", "refund", "refunds")],
        ["events"],
        *[["events", a] for a in ("list", "get", "resend")],
        ["teams"],
        *[["teams", a] for a in ("create", "list", "roll-key", "roll-secret")],
    ]
    for command in commands:
        shown = cli(sandbox, *command, "--help")
        assert shown.returncode == 0, (command, shown.stderr)
        assert "usage: paysandbox" in shown.stdout
    secret = cli(sandbox, "listen", "--print-secret")
    assert secret.stdout.strip() == signatures.whsec(SECRET)


def test_ctrl_c_stops_listen_even_when_it_was_started_with_sigint_ignored() -> None:
    # A shell's background job (and some supervisors) start a command with SIGINT ignored;
    # `listen` must still stop on Ctrl-C. Here it polls an API nobody serves, so it sits in its
    # retry loop, as it would while a sandbox is down.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "cli"), "PAYSANDBOX_API": f"http://127.0.0.1:{free_port()}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "paysandbox_cli", "listen", "--forward-to", "http://127.0.0.1:9/local"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as a background job starts it
    )
    try:
        assert process.stdout is not None
        assert "Forwarding events" in process.stdout.readline()
        assert "unreachable" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
