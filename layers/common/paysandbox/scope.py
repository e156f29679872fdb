"""Which team a stored payment belongs to, read from its key (docs/teams.md).

The default team's payments keep today's keys (``pay_<tx_id>``, ``inv_<…>``): no migration,
and the seeds' ids unchanged. Another team's payment is stored under ``<team_id>#<id>``. A
team id matches ``[a-z0-9][a-z0-9-]{0,31}`` (no ``_``), so a key starting with ``pay_`` or
``inv_`` is always the default team's and a team's key never is. Free of the pydantic models:
the expirer and the webhook sender import it.
"""

from __future__ import annotations

import re

DEFAULT_TEAM = "default"
TEAM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_DEFAULT_PREFIXES = ("pay_", "inv_")


def storage_id(team: str, payment_id: str) -> str | None:
    """The table key of ``team``'s payment ``payment_id``; None when no payment of the team can
    have that id (e.g. the default team naming another team's key)."""
    if team == DEFAULT_TEAM:
        return payment_id if team_of(payment_id) == DEFAULT_TEAM else None
    return f"{team}#{payment_id}"


def team_of(key: str) -> str:
    if key.startswith(_DEFAULT_PREFIXES):
        return DEFAULT_TEAM
    team, separator, _ = key.partition("#")
    return team if separator else DEFAULT_TEAM


def public_id(key: str) -> str:
    """The id the team sees (``pay_tx_1001``), without the team prefix of the key."""
    team = team_of(key)
    return key if team == DEFAULT_TEAM else key[len(team) + 1 :]


def group_partition(team: str, group: str) -> str:
    """The ``by-status`` index partition of a team's status group (the default team's: as today)."""
    return group if team == DEFAULT_TEAM else f"{team}#{group}"
