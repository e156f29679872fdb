"""What every operator route shares: who is calling (the admin token or a team's key), the team
that scopes what a route reads, and the ``limit`` of a list.

Routes live in Powertools routers (one module per audience); a router reads the request from
the resolver that included it, which ``request_of`` hands to the ``api_http`` helpers.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from paysandbox import tenancy
from paysandbox.errors import ValidationFailed

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def new_router() -> Router:
    """A router for one audience's routes (Powertools leaves ``Router.__init__`` untyped)."""
    return Router()  # type: ignore[no-untyped-call]


def operator_only(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[str]:
    """Authenticate once per request: the admin token (for the default team or ``?team=``) or a
    team's key (docs/teams.md); the caller's team scopes everything the route reads."""
    event = app.current_event
    app.context["caller"] = tenancy.caller(
        event.headers.get("authorization"), team=event.get_query_string_value("team"), operator=True
    )
    return next_middleware(app)


def caller(router: Router) -> tenancy.Caller:
    """Who called, as ``operator_only`` found."""
    found: tenancy.Caller = router.context["caller"]
    return found


def team(router: Router) -> str:
    """The team the caller acts for."""
    return caller(router).team


def request_of(router: Router) -> APIGatewayRestResolver:
    """The resolver that included ``router``: it holds the current request."""
    if not isinstance(router.api_resolver, APIGatewayRestResolver):
        raise RuntimeError("an operator router must be included in the API's resolver")
    return router.api_resolver


def limit_of(raw: str | None) -> int:
    """A list's ``limit`` query parameter: 1 to MAX_LIMIT, DEFAULT_LIMIT when absent."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be an integer from 1 to {MAX_LIMIT}.",
            details=[{"field": "limit", "problem": f"must be 1..{MAX_LIMIT}"}],
        )
    return int(raw)
