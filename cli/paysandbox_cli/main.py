"""Command line: ``paysandbox [--api URL] [--key KEY] <command> ...`` (``--help`` on each)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from typing import Any

from paysandbox_cli.client import ApiError, Client, Unreachable

DEFAULT_API = "http://127.0.0.1:3000"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="paysandbox", description="Talk to a paysandbox API: forward its webhooks, trigger events, inspect."
    )
    top.add_argument(
        "--api", default=os.environ.get("PAYSANDBOX_API", DEFAULT_API), help="API base URL (env PAYSANDBOX_API)"
    )
    top.add_argument(
        "--key", default=os.environ.get("PAYSANDBOX_KEY"), help="team key or operator token (env PAYSANDBOX_KEY)"
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="command")
    # --api/--key are also accepted after the command (`paysandbox listen --key ...`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api", default=argparse.SUPPRESS, help="API base URL (env PAYSANDBOX_API)")
    common.add_argument("--key", default=argparse.SUPPRESS, help="team key or operator token (env PAYSANDBOX_KEY)")
    _add_listen_and_trigger(commands, common)
    _add_payments(commands, common)
    _add_events(commands, common)
    _add_teams(commands, common)
    return top


def _leaf(group: Any, name: str, text: str, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A command that runs something (it takes --api/--key after its name too)."""
    made: argparse.ArgumentParser = group.add_parser(name, help=text, parents=[common])
    return made


def _add_listen_and_trigger(commands: Any, common: argparse.ArgumentParser) -> None:
    from paysandbox_cli.trigger import TRIGGERS

    listen = _leaf(commands, "listen", "forward the team's new events to a local URL", common)
    listen.add_argument(
        "--forward-to", metavar="URL", help="where to POST each event (e.g. http://localhost:8000/hook)"
    )
    listen.add_argument("--events", metavar="T1,T2", help="only these event types")
    listen.add_argument("--print-secret", action="store_true", help="print the team's whsec_ secret and exit")
    listen.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")

    trigger = _leaf(commands, "trigger", "drive a new payment to an event", common)
    trigger.add_argument("event", choices=TRIGGERS)
    trigger.add_argument("--flavour", choices=("invoice", "v2"), default="invoice")
    trigger.add_argument("--webhook-url", metavar="URL", help="the payment's webhook URL")


def _add_payments(commands: Any, common: argparse.ArgumentParser) -> None:
    payments = commands.add_parser("payments", help="create, read, confirm and fail payments")
    pay = payments.add_subparsers(dest="action", required=True, metavar="action")
    create = _leaf(pay, "create", "create a payment", common)
    create.add_argument("--flavour", choices=("invoice", "v2"), default="invoice")
    create.add_argument("--amount", type=int, default=1000, help="minor units (default 1000)")
    create.add_argument("--webhook-url", required=True, metavar="URL")
    create.add_argument("--id", dest="ident", metavar="REF", help="reference (invoice) or tx_id (v2)")
    _leaf(pay, "get", "one payment", common).add_argument("payment_id")
    plist = _leaf(pay, "list", "payments, newest first", common)
    plist.add_argument("--status", help="pending|completed|failed|expired|refunded")
    plist.add_argument("--limit", type=int)
    _leaf(pay, "confirm", "confirm a pending payment", common).add_argument("payment_id")
    fail = _leaf(pay, "fail", "fail a pending payment", common)
    fail.add_argument("payment_id")
    fail.add_argument("--reason")
    refund = _leaf(pay, "refund", "refund a paid payment (all that remains, or --amount)", common)
    refund.add_argument("payment_id")
    refund.add_argument("--amount", type=int, help="minor units (default: what remains unrefunded)")
    refund.add_argument("--reason")
    _leaf(pay, "refunds", "a payment's refunds, oldest first", common).add_argument("payment_id")


def _add_events(commands: Any, common: argparse.ArgumentParser) -> None:
    events = commands.add_parser("events", help="list, read and resend events")
    ev = events.add_subparsers(dest="action", required=True, metavar="action")
    elist = _leaf(ev, "list", "events, newest first", common)
    elist.add_argument("--type", help="event type (or several, comma-separated)")
    elist.add_argument("--payment-id")
    elist.add_argument("--delivery", choices=("pending", "delivered", "failed", "gone"))
    elist.add_argument("--limit", type=int)
    _leaf(ev, "get", "one event", common).add_argument("event_id")
    _leaf(ev, "resend", "deliver an event again (a new attempt chain)", common).add_argument("event_id")


def _add_teams(commands: Any, common: argparse.ArgumentParser) -> None:
    teams = commands.add_parser("teams", help="create teams and roll their keys and secrets (admin token)")
    tm = teams.add_subparsers(dest="action", required=True, metavar="action")
    tcreate = _leaf(tm, "create", "create a team: prints its key (shown only once) and webhook secret", common)
    tcreate.add_argument("team_id", help="[a-z0-9][a-z0-9-]{0,31}")
    tcreate.add_argument("--name")
    _leaf(tm, "list", "the stack's teams", common)
    for action, text, default in (
        ("roll-key", "a new team key; the old one works --overlap-seconds more", "0"),
        ("roll-secret", "a new webhook secret; both sign during --overlap-seconds", "86400"),
    ):
        roll = _leaf(tm, action, text, common)
        roll.add_argument("team_id")
        roll.add_argument("--overlap-seconds", type=int, help=f"default {default}, at most 604800")


def quote(value: str) -> str:
    """One path segment, whatever the user typed."""
    return urllib.parse.quote(value, safe="")


def run(args: argparse.Namespace) -> Any:
    client = Client(args.api, args.key)
    if args.command == "listen":
        if args.print_secret:
            return client.call("GET", "/api/v2/console-config")["webhook_secret_whsec"]
        if not args.forward_to:
            raise SystemExit("paysandbox listen: --forward-to URL is required (or --print-secret)")
        from paysandbox_cli.listen import listen

        raise SystemExit(listen(client, args.forward_to, args.events, args.interval))
    if args.command == "trigger":
        from paysandbox_cli.trigger import trigger

        return trigger(client, args.event, args.flavour, args.webhook_url)
    if args.command == "payments":
        if args.action == "create":
            from paysandbox_cli.trigger import create

            return create(client, args.flavour, args.amount, args.webhook_url, args.ident)
        if args.action == "get":
            return client.call("GET", f"/api/payments/{quote(args.payment_id)}")
        if args.action == "list":
            return client.call("GET", "/api/v2/pending-payments", query={"status": args.status, "limit": args.limit})
        if args.action == "confirm":
            return client.call("POST", "/api/v2/confirm-payment", {"payment_id": args.payment_id})
        if args.action == "refund":
            body = {k: v for k, v in (("amount", args.amount), ("reason", args.reason)) if v is not None}
            return client.call("POST", f"/api/payments/{quote(args.payment_id)}/refunds", body)
        if args.action == "refunds":
            return client.call("GET", f"/api/payments/{quote(args.payment_id)}/refunds")
        body = {"payment_id": args.payment_id, **({"reason": args.reason} if args.reason else {})}
        return client.call("POST", "/api/v2/fail-payment", body)
    if args.command == "teams":
        return _teams(client, args)
    if args.action == "list":
        query = {"type": args.type, "payment_id": args.payment_id, "delivery": args.delivery, "limit": args.limit}
        return client.call("GET", "/api/events", query=query)
    if args.action == "get":
        return client.call("GET", f"/api/events/{quote(args.event_id)}")
    return client.call("POST", f"/api/events/{quote(args.event_id)}/redeliver")


def _teams(client: Client, args: argparse.Namespace) -> Any:
    if args.action == "create":
        body = {"team_id": args.team_id, **({"name": args.name} if args.name else {})}
        return client.call("POST", "/api/teams", body)
    if args.action == "list":
        return client.call("GET", "/api/teams")
    what = "keys/roll" if args.action == "roll-key" else "webhook-secret/roll"
    body = {} if args.overlap_seconds is None else {"overlap_seconds": args.overlap_seconds}
    return client.call("POST", f"/api/teams/{quote(args.team_id)}/{what}", body)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result = run(args)
    except ApiError as error:
        print(f"paysandbox: {error.message} ({error.status} {error.code})", file=sys.stderr)
        return 1
    except Unreachable as error:
        print(f"paysandbox: {error}", file=sys.stderr)
        return 1
    print(result if isinstance(result, str) else json.dumps(result, indent=2))
    return 0
