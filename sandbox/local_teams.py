"""``SANDBOX_TEAMS=shop,billing``: create those teams at start and show their keys and secrets
(docs/teams.md). A team already in the restored state keeps its key, which is stored only as a
hash and so cannot be shown again: the line says how to roll it."""

from __future__ import annotations

from collections.abc import Mapping


def team_ids(environ: Mapping[str, str]) -> list[str]:
    return [t.strip() for t in environ.get("SANDBOX_TEAMS", "").split(",") if t.strip()]


def create_teams(environ: Mapping[str, str]) -> list[str]:
    """Create the teams named in SANDBOX_TEAMS; the banner lines describing each."""
    from paysandbox import teams  # the layer is on sys.path once the handlers are loaded
    from paysandbox.errors import Conflict, PaySandboxError

    lines = []
    for team_id in team_ids(environ):
        try:
            created = teams.create({"team_id": team_id})
        except Conflict:
            whsec = teams.view(team_id)["whsec"]
            lines.append(
                f"  Team {team_id:<10} key kept from the saved state (roll: POST /api/teams/{team_id}/keys/roll)"
                f"  webhook {whsec}"
            )
            continue
        except PaySandboxError as refused:
            raise SystemExit(f"sandbox: SANDBOX_TEAMS: {team_id!r}: {refused.message}") from None
        lines.append(f"  Team {team_id:<10} key {created['api_key']}  webhook {created['whsec']}")
    return lines
