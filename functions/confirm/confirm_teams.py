"""Team routes: the admin token creates, lists and deletes teams; a team's own key (or the admin
token) reads it and rolls its key or webhook secret (docs/teams.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from confirm_operator import caller, new_router, operator_only, request_of

from paysandbox import tenancy
from paysandbox.api_http import json_object, json_response, path_param
from paysandbox.errors import NotFound, Unauthorized

router = new_router()
NO_STORE = {"Cache-Control": "no-store"}  # answers that carry a key or a secret


def _admin() -> None:
    if not caller(router).admin:
        raise Unauthorized("Only the admin token manages teams.", code="admin_token_required")


def _own_team(team_id: str) -> str:
    """The ``{team_id}`` routes: the admin token, or that team's own key (another team's key
    sees a 404, as for a team that does not exist)."""
    who = caller(router)
    team_id = path_param(request_of(router), "team_id", team_id)
    if not who.admin and who.team != team_id:
        raise NotFound(f"No team {team_id!r}.", code="team_not_found")
    return team_id


@router.post("/api/teams", middlewares=[operator_only])
def create_team() -> Response[str]:
    from paysandbox import teams

    _admin()
    return json_response(201, teams.create(json_object(request_of(router))), headers=NO_STORE)


@router.get("/api/teams", middlewares=[operator_only])
def list_teams() -> Response[str]:
    from paysandbox import teams

    _admin()
    return json_response(200, {"teams": teams.list_teams()})


@router.get("/api/teams/<team_id>", middlewares=[operator_only])
def get_team(team_id: str) -> Response[str]:
    from paysandbox import teams

    return json_response(200, teams.view(_own_team(team_id)), headers=NO_STORE)


@router.post("/api/teams/<team_id>/keys/roll", middlewares=[operator_only])
def roll_team_key(team_id: str) -> Response[str]:
    from paysandbox import teams

    return _rolled(team_id, teams.roll_key)


@router.post("/api/teams/<team_id>/webhook-secret/roll", middlewares=[operator_only])
def roll_team_webhook_secret(team_id: str) -> Response[str]:
    from paysandbox import teams

    return _rolled(team_id, teams.roll_webhook_secret)


def _rolled(team_id: str, roll: Callable[[str, dict[str, Any]], dict[str, Any]]) -> Response[str]:
    """A roll of the caller's own team; this container forgets what it cached of the team."""
    team_id = _own_team(team_id)
    rolled = roll(team_id, json_object(request_of(router), empty_ok=True))
    tenancy.forget(team_id)
    return json_response(200, rolled, headers=NO_STORE)


@router.delete("/api/teams/<team_id>", middlewares=[operator_only])
def delete_team(team_id: str) -> Response[str]:
    from paysandbox import teams

    team_id = _own_team(team_id)
    teams.delete(team_id)
    tenancy.forget(team_id)
    return Response(status_code=204, body="", content_type="application/json")
