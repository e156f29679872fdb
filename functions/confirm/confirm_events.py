"""Operator routes on webhook events: list them (newest first, or tail after one), read one,
send one again."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from confirm_operator import limit_of, new_router, operator_only, request_of, team

from paysandbox.api_http import json_response, path_param

router = new_router()


@router.get("/api/events", middlewares=[operator_only])
def list_events() -> Response[str]:
    """Newest first; ``after=<event_id>``: the events after it, oldest first (tailing)."""
    from paysandbox import events  # only the events routes need it

    query = router.current_event.query_string_parameters
    types = [t for t in (query.get("type") or "").split(",") if t]
    page = events.list_events(
        team(router),
        limit=limit_of(query.get("limit")),
        cursor=query.get("cursor") or None,
        after=query.get("after") or None,
        types=types,
        payment_id=query.get("payment_id") or None,
        delivery=query.get("delivery") or None,
        signed=query.get("signed") in ("1", "true"),
    )
    return json_response(200, page, headers={"Cache-Control": "no-store"})


@router.get("/api/events/<event_id>", middlewares=[operator_only])
def get_event(event_id: str) -> Response[str]:
    from paysandbox import events

    return json_response(200, events.get_event(team(router), path_param(request_of(router), "event_id", event_id)))


@router.post("/api/events/<event_id>/redeliver", middlewares=[operator_only])
def redeliver_event(event_id: str) -> Response[str]:
    from paysandbox import events

    return json_response(202, events.redeliver(team(router), path_param(request_of(router), "event_id", event_id)))
