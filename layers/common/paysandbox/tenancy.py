"""Who is calling (docs/teams.md): one function per request, ``caller(authorization, team=…)``.

- no ``Authorization``: the default team (merchant routes; 401 ``api_key_required`` with
  REQUIRE_API_KEYS=true); operator routes need a token.
- ``Bearer psk_<team>_…``: that team, when the key's hash matches the team's current key or
  its previous key before ``previous_key_valid_until``; otherwise 401 ``invalid_api_key``,
  never the default team.
- ``Bearer <SERVICE_AUTH_TOKEN>``: the admin, acting for the default team or ``?team=``.

Team items are cached in memory for at most ``CACHE_SECONDS``, so a warm function adds no
DynamoDB request and a revoked key or deleted team stops working within that window.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

from paysandbox import clock, scope
from paysandbox.errors import NotFound, Unauthorized
from paysandbox.repository import teams as store
from paysandbox.secret_store import service_auth_token
from paysandbox.settings import get_settings

CACHE_SECONDS = 60.0
monotonic = time.monotonic  # tests replace it to move the cache's clock
_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}


@dataclass(frozen=True)
class Caller:
    team: str
    admin: bool = False
    keyless: bool = False


def team_item(team_id: str) -> dict[str, Any] | None:
    """The team's item (None if there is none), from the cache while it is fresh."""
    now = monotonic()
    cached = _cache.get(team_id)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    item = store.get(team_id)
    _cache[team_id] = (now, item)
    return item


def forget(team_id: str) -> None:
    """Drop a team from this container's cache (after this container changed it)."""
    _cache.pop(team_id, None)


def _token(authorization: str | None, operator: bool) -> str | None:
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send Authorization: Bearer <key>.", code="missing_token" if operator else "invalid_api_key")
    return token.strip()


def _team_of_key(key: str) -> str:
    from paysandbox.teams import key_hash

    team_id, _, random_part = key[len("psk_") :].rpartition("_")
    team = team_item(team_id) if scope.TEAM_ID.fullmatch(team_id) and random_part else None
    if team is not None:
        digest = key_hash(key).encode()
        if hmac.compare_digest(digest, str(team["key_hash"]).encode()):
            return team_id
        previous = team.get("previous_key_hash")
        valid_until = float(team.get("previous_key_valid_until") or 0)
        if previous and hmac.compare_digest(digest, str(previous).encode()) and clock.now_epoch() < valid_until:
            return team_id
    raise Unauthorized("The API key is not valid (wrong, rolled or revoked).", code="invalid_api_key")


def _admin_for(team: str | None) -> Caller:
    if not team or team == scope.DEFAULT_TEAM:
        return Caller(scope.DEFAULT_TEAM, admin=True)
    if not scope.TEAM_ID.fullmatch(team) or team_item(team) is None:
        raise NotFound(f"No team {team!r}.", code="team_not_found")
    return Caller(team, admin=True)


def caller(authorization: str | None, *, team: str | None = None, operator: bool = False) -> Caller:
    """The caller of one request; ``team`` is the ``?team=`` query parameter (admin only)."""
    token = _token(authorization, operator)
    if token is None:
        if operator:
            raise Unauthorized("Send Authorization: Bearer <operator token or team key>.", code="missing_token")
        if get_settings().require_api_keys:
            raise Unauthorized("Send Authorization: Bearer <team key>.", code="api_key_required")
        return Caller(scope.DEFAULT_TEAM, keyless=True)
    if token.startswith("psk_"):
        return Caller(_team_of_key(token))
    if hmac.compare_digest(token.encode(), service_auth_token().encode()):
        return _admin_for(team)
    if operator:
        raise Unauthorized("The operator token is not valid.", code="invalid_token")
    raise Unauthorized("The API key is not valid.", code="invalid_api_key")
