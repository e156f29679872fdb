"""Operator API: confirm or fail payments, list them by status, read and redeliver their
webhooks (bearer token required), and the operator console page (public HTML; its data
calls need the token).

The directory is called ``confirm`` by the design's naming; it serves every operator route.
"""

from __future__ import annotations

from paysandbox import init_phase

init_phase.begin()  # no garbage collection while the handler loads (init_phase.py)

import json
import secrets
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox import listing, payments, scope, tenancy
from paysandbox.api_http import install_error_handlers, json_object, json_response, parse_body, path_param, routable
from paysandbox.errors import NotFound, Unauthorized, ValidationFailed
from paysandbox.models import FailRequest, PaymentRef, RefundRequest, payment_view, v2_confirmed, v2_failed
from paysandbox.rest_resolver import APIGatewayRestResolver, Response
from paysandbox.secret_store import webhook_secret
from paysandbox.states import group_from_query

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver()
install_error_handlers(app)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _operator_only(app: APIGatewayRestResolver, next_middleware):  # type: ignore[no-untyped-def]
    """Authenticate once per request (SPEC §11): the admin token (for the default team or
    ``?team=``) or a team's key; the caller's team scopes everything the route reads."""
    event = app.current_event
    app.context["caller"] = tenancy.caller(
        event.headers.get("authorization"), team=event.get_query_string_value("team"), operator=True
    )
    return next_middleware(app)


def _team() -> str:
    caller: tenancy.Caller = app.context["caller"]
    return caller.team


@app.post("/api/v2/confirm-payment", middlewares=[_operator_only])
def confirm_payment() -> Response[str]:
    request = parse_body(app, PaymentRef)
    payment = payments.confirm(request.payment_id, _team())
    metrics.add_metric(name="PaymentsConfirmed", unit=MetricUnit.Count, value=1)
    return json_response(200, v2_confirmed(payment))


@app.post("/api/v2/fail-payment", middlewares=[_operator_only])
def fail_payment() -> Response[str]:
    request = parse_body(app, FailRequest)
    payment = payments.fail(request.payment_id, request.reason, team=_team())
    return json_response(200, v2_failed(payment))


@app.get("/api/v2/pending-payments", middlewares=[_operator_only])
def list_payments() -> Response[str]:
    """Without ``status``: every status (the v2 README's "all payments"); ``status=`` narrows;
    ``reference=`` / ``tx_id=`` find one merchant's payment."""
    query = app.current_event.query_string_parameters
    group = None
    if query.get("status"):
        group = group_from_query(query["status"])
        if group is None:
            raise ValidationFailed(
                "status must be one of pending, completed, failed, expired, refunded.",
                details=[{"field": "status", "problem": "unknown status"}],
            )
    limit = _limit(query.get("limit"))
    cursor = query.get("cursor") or None
    reference, tx_id = query.get("reference"), query.get("tx_id")
    if reference is not None or tx_id is not None:
        page = listing.find(reference, tx_id, group, limit, cursor, _team())
    elif group is None:
        page = listing.list_all(limit, cursor, _team())
    else:
        page = listing.list_group(group, limit, cursor, _team())
    return json_response(
        200,
        {
            **{f"{name}_count": count for name, count in page.counts.items()},
            "payments": {p.public_id: payment_view(p) for p in page.payments},
            "next_cursor": page.next_cursor,
        },
    )


@app.get("/api/payments/<payment_id>/webhooks", middlewares=[_operator_only])
def webhook_log(payment_id: str) -> Response[str]:
    from paysandbox import delivery_views  # webhook machinery: only these two routes need it

    return json_response(
        200, {"deliveries": delivery_views.delivery_log(path_param(app, "payment_id", payment_id), _team())}
    )


@app.post("/api/payments/<payment_id>/webhooks/redeliver", middlewares=[_operator_only])
def redeliver_webhook(payment_id: str) -> Response[str]:
    from paysandbox import delivery_views

    return json_response(202, delivery_views.redeliver(path_param(app, "payment_id", payment_id), _team()))


@app.post("/api/payments/<payment_id>/refunds", middlewares=[_operator_only])
def create_refund(payment_id: str) -> Response[str]:
    from paysandbox import refunds  # only the refund routes need it

    request = parse_body(app, RefundRequest)
    key = app.current_event.headers.get("idempotency-key")
    refund, replayed = refunds.create(path_param(app, "payment_id", payment_id), request, key, _team())
    return json_response(200, refund, {"Idempotent-Replayed": "true"} if replayed else None)


@app.get("/api/payments/<payment_id>/refunds", middlewares=[_operator_only])
def list_refunds(payment_id: str) -> Response[str]:
    from paysandbox import refunds

    return json_response(200, {"refunds": refunds.list_refunds(path_param(app, "payment_id", payment_id), _team())})


@app.post("/api/test-helpers/payments/<payment_id>/expire", middlewares=[_operator_only])
def expire_now(payment_id: str) -> Response[str]:
    from paysandbox import test_helpers

    return json_response(200, payment_view(test_helpers.expire_now(path_param(app, "payment_id", payment_id), _team())))


@app.post("/api/test-helpers/payments/<payment_id>/webhooks/retry-now", middlewares=[_operator_only])
def retry_now(payment_id: str) -> Response[str]:
    from paysandbox import test_helpers

    return json_response(202, test_helpers.retry_now(path_param(app, "payment_id", payment_id), _team()))


@app.get("/api/events", middlewares=[_operator_only])
def list_events() -> Response[str]:
    """Newest first; ``after=<event_id>``: the events after it, oldest first (tailing)."""
    from paysandbox import events  # only the events routes need it

    query = app.current_event.query_string_parameters
    types = [t for t in (query.get("type") or "").split(",") if t]
    page = events.list_events(
        _team(),
        limit=_limit(query.get("limit")),
        cursor=query.get("cursor") or None,
        after=query.get("after") or None,
        types=types,
        payment_id=query.get("payment_id") or None,
        delivery=query.get("delivery") or None,
        signed=query.get("signed") in ("1", "true"),
    )
    return json_response(200, page, headers={"Cache-Control": "no-store"})


@app.get("/api/events/<event_id>", middlewares=[_operator_only])
def get_event(event_id: str) -> Response[str]:
    from paysandbox import events

    return json_response(200, events.get_event(_team(), path_param(app, "event_id", event_id)))


@app.post("/api/events/<event_id>/redeliver", middlewares=[_operator_only])
def redeliver_event(event_id: str) -> Response[str]:
    from paysandbox import events

    return json_response(202, events.redeliver(_team(), path_param(app, "event_id", event_id)))


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be an integer from 1 to {MAX_LIMIT}.",
            details=[{"field": "limit", "problem": f"must be 1..{MAX_LIMIT}"}],
        )
    return int(raw)


CONSOLE_PAGE = Path(__file__).with_name("console.html")
_console_template: str | None = None


@app.get("/console")
def console() -> Response[str]:
    """The console shell: no data and no secret in it; its script calls the operator API."""
    global _console_template
    if _console_template is None:  # read on first use: most invocations never serve the page
        from paysandbox.payment_display import MINOR_UNIT_EXPONENTS  # the checkout's table: one source

        _console_template = CONSOLE_PAGE.read_text(encoding="utf-8").replace(
            "{{minor_units}}", json.dumps(MINOR_UNIT_EXPONENTS, sort_keys=True)
        )
    nonce = secrets.token_urlsafe(16)
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=_console_template.replace("{{nonce}}", nonce),
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                "connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@app.get("/api/v2/console-config", middlewares=[_operator_only])
def console_config() -> Response[str]:
    """What the console shows receivers: the webhook secret in Standard Webhooks ``whsec_`` form."""
    from paysandbox.signatures import whsec  # only this route needs the signing module

    team = _team()
    if team == scope.DEFAULT_TEAM:
        secret_whsec = whsec(webhook_secret())
    else:
        from paysandbox import teams

        secret_whsec = teams.view(team)["whsec"]
    return json_response(
        200, {"team_id": team, "webhook_secret_whsec": secret_whsec}, headers={"Cache-Control": "no-store"}
    )


# ------------------------------------------------------------------ teams (SPEC §11)


def _admin() -> None:
    if not app.context["caller"].admin:
        raise Unauthorized("Only the admin token manages teams.", code="admin_token_required")


def _own_team(team_id: str) -> str:
    """The ``{team_id}`` routes: the admin token, or that team's own key (another team's key
    sees a 404, as for a team that does not exist)."""
    caller: tenancy.Caller = app.context["caller"]
    team_id = path_param(app, "team_id", team_id)
    if not caller.admin and caller.team != team_id:
        raise NotFound(f"No team {team_id!r}.", code="team_not_found")
    return team_id


@app.post("/api/teams", middlewares=[_operator_only])
def create_team() -> Response[str]:
    from paysandbox import teams

    _admin()
    return json_response(201, teams.create(json_object(app)), headers={"Cache-Control": "no-store"})


@app.get("/api/teams", middlewares=[_operator_only])
def list_teams() -> Response[str]:
    from paysandbox import teams

    _admin()
    return json_response(200, {"teams": teams.list_teams()})


@app.get("/api/teams/<team_id>", middlewares=[_operator_only])
def get_team(team_id: str) -> Response[str]:
    from paysandbox import teams

    return json_response(200, teams.view(_own_team(team_id)), headers={"Cache-Control": "no-store"})


@app.post("/api/teams/<team_id>/keys/roll", middlewares=[_operator_only])
def roll_team_key(team_id: str) -> Response[str]:
    from paysandbox import teams

    team_id = _own_team(team_id)
    rolled = teams.roll_key(team_id, json_object(app, empty_ok=True))
    tenancy.forget(team_id)
    return json_response(200, rolled, headers={"Cache-Control": "no-store"})


@app.post("/api/teams/<team_id>/webhook-secret/roll", middlewares=[_operator_only])
def roll_team_webhook_secret(team_id: str) -> Response[str]:
    from paysandbox import teams

    team_id = _own_team(team_id)
    rolled = teams.roll_webhook_secret(team_id, json_object(app, empty_ok=True))
    tenancy.forget(team_id)
    return json_response(200, rolled, headers={"Cache-Control": "no-store"})


@app.delete("/api/teams/<team_id>", middlewares=[_operator_only])
def delete_team(team_id: str) -> Response[str]:
    from paysandbox import teams

    team_id = _own_team(team_id)
    teams.delete(team_id)
    tenancy.forget(team_id)
    return Response(status_code=204, body="", content_type="application/json")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(routable(event), context)


init_phase.end()  # the handler is ready
