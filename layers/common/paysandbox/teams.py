"""Teams (docs/teams.md): create, read, list, roll a key or a webhook secret, delete.

- A key is ``psk_<team_id>_<40 random base62>``; only its SHA-256 is stored (the key has
  ~238 random bits, so a fast hash is enough: nothing to brute-force). It is returned once,
  by creation or a roll.
- A webhook secret is never stored: it is HMAC(stack key, team_id ":" nonce) and only the
  nonce is on the item. Rolling it is a new nonce; the previous nonce is kept with its
  ``previous_secret_valid_until`` for the overlap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from typing import Any

from paysandbox import clock, keys, scope
from paysandbox.errors import Conflict, NotFound, ValidationFailed
from paysandbox.repository import ConditionFailed
from paysandbox.repository import teams as store

KEY_RANDOM_CHARS = 40
MAX_OVERLAP_SECONDS = 7 * 86400
DEFAULT_SECRET_OVERLAP_SECONDS = 86400
TEAM_SECRET_PURPOSE = b"paysandbox/teams/webhook-secret/v1"
_BASE62 = string.ascii_letters + string.digits


@dataclass(frozen=True)
class NewKey:
    api_key: str
    values: dict[str, Any]


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _new_key(team_id: str) -> NewKey:
    api_key = f"psk_{team_id}_" + "".join(secrets.choice(_BASE62) for _ in range(KEY_RANDOM_CHARS))
    return NewKey(api_key, {"key_hash": key_hash(api_key), "key_prefix": api_key[: len(team_id) + 9]})


def webhook_secret_of(team_id: str, nonce: str) -> str:
    """A team's webhook secret, derived from the stack's key and the nonce on the team item."""
    digest = hmac.new(keys.derived_key(TEAM_SECRET_PURPOSE), f"{team_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signing_secrets(team: dict[str, Any], now: float) -> list[str]:
    """The secrets a delivery is signed with: the current one, then the previous one during
    its overlap."""
    found = [webhook_secret_of(team["team_id"], team["secret_nonce"])]
    if team.get("previous_secret_nonce") and float(team.get("previous_secret_valid_until") or 0) > now:
        found.append(webhook_secret_of(team["team_id"], team["previous_secret_nonce"]))
    return found


def _check_team_id(team_id: Any) -> str:
    if not isinstance(team_id, str) or not scope.TEAM_ID.fullmatch(team_id) or team_id == scope.DEFAULT_TEAM:
        raise ValidationFailed(
            "team_id must match [a-z0-9][a-z0-9-]{0,31} and not be 'default'.",
            details=[{"field": "team_id", "problem": "must match [a-z0-9][a-z0-9-]{0,31}"}],
        )
    return team_id


def _overlap(body: dict[str, Any], default: int) -> int:
    value = body.get("overlap_seconds")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_OVERLAP_SECONDS:
        raise ValidationFailed(
            f"overlap_seconds must be an integer from 0 to {MAX_OVERLAP_SECONDS}.",
            details=[{"field": "overlap_seconds", "problem": f"must be 0..{MAX_OVERLAP_SECONDS}"}],
        )
    return value


def _secret_view(team_id: str, nonce: str) -> dict[str, str]:
    from paysandbox.signatures import whsec

    secret = webhook_secret_of(team_id, nonce)
    return {"webhook_secret": secret, "whsec": whsec(secret)}


def summary(team: dict[str, Any]) -> dict[str, Any]:
    return {
        "team_id": team["team_id"],
        "name": team.get("name") or team["team_id"],
        "created_at": clock.iso(team["created_at"]),
        "key_prefix": team["key_prefix"],
    }


def create(body: dict[str, Any]) -> dict[str, Any]:
    team_id = _check_team_id(body.get("team_id"))
    name = body.get("name") or team_id
    if not isinstance(name, str) or not 0 < len(name) <= 100 or not name.isprintable():
        raise ValidationFailed(
            "name must be 1 to 100 printable characters.",
            details=[{"field": "name", "problem": "must be 1..100 printable characters"}],
        )
    key = _new_key(team_id)
    now = clock.now_epoch()
    nonce = secrets.token_urlsafe(24)
    try:
        store.put_new({"team_id": team_id, "name": name, "created_at": now, "secret_nonce": nonce, **key.values})
    except ConditionFailed:
        raise Conflict(f"Team {team_id!r} exists.", code="team_exists") from None
    return {
        "team_id": team_id,
        "name": name,
        "api_key": key.api_key,
        **_secret_view(team_id, nonce),
        "created_at": clock.iso(now),
    }


def get(team_id: str) -> dict[str, Any]:
    team = store.get(team_id) if scope.TEAM_ID.fullmatch(team_id) else None
    if team is None:
        raise NotFound(f"No team {team_id!r}.", code="team_not_found")
    return team


def view(team_id: str) -> dict[str, Any]:
    team = get(team_id)
    return {**summary(team), "whsec": _secret_view(team_id, team["secret_nonce"])["whsec"]}


def list_teams() -> list[dict[str, Any]]:
    return [summary(t) for t in sorted(store.list_all(), key=lambda t: t["created_at"])]


def _update(team_id: str, values: dict[str, Any]) -> dict[str, Any]:
    try:
        return store.update(team_id, values)
    except ConditionFailed:
        raise NotFound(f"No team {team_id!r}.", code="team_not_found") from None


def roll_key(team_id: str, body: dict[str, Any]) -> dict[str, Any]:
    overlap = _overlap(body, 0)
    team = get(team_id)
    key = _new_key(team_id)
    until = clock.now_epoch() + overlap
    _update(team_id, {**key.values, "previous_key_hash": team["key_hash"], "previous_key_valid_until": until})
    return {"api_key": key.api_key, "previous_valid_until": clock.iso(until)}


def roll_webhook_secret(team_id: str, body: dict[str, Any]) -> dict[str, Any]:
    overlap = _overlap(body, DEFAULT_SECRET_OVERLAP_SECONDS)
    team = get(team_id)
    nonce = secrets.token_urlsafe(24)
    until = clock.now_epoch() + overlap
    _update(
        team_id,
        {"secret_nonce": nonce, "previous_secret_nonce": team["secret_nonce"], "previous_secret_valid_until": until},
    )
    return {**_secret_view(team_id, nonce), "previous_valid_until": clock.iso(until)}


def delete(team_id: str) -> None:
    if not scope.TEAM_ID.fullmatch(team_id) or not store.delete(team_id):
        raise NotFound(f"No team {team_id!r}.", code="team_not_found")
