"""Request and response shapes of the team routes (docs/teams.md), for the document only; the
handlers (``paysandbox.teams``) validate the bodies themselves."""

from __future__ import annotations

from pydantic import BaseModel, Field

TEAM_ID_PATTERN = "^[a-z0-9][a-z0-9-]{0,31}$"


class TeamCreate(BaseModel):
    team_id: str = Field(pattern=TEAM_ID_PATTERN, description="Not `default`.")
    name: str | None = Field(default=None, min_length=1, max_length=100)


class Overlap(BaseModel):
    overlap_seconds: int | None = Field(
        default=None, ge=0, le=604800, description="How long the previous key or secret keeps working."
    )


class TeamCreated(BaseModel):
    team_id: str
    name: str
    api_key: str = Field(description="`psk_<team_id>_…`: shown only here (and by a key roll).")
    webhook_secret: str
    whsec: str = Field(description='"whsec_" + base64(webhook secret)')
    created_at: str


class TeamSummary(BaseModel):
    team_id: str
    name: str
    created_at: str
    key_prefix: str = Field(description="The key's first characters, to recognise it.")


class TeamList(BaseModel):
    teams: list[TeamSummary]


class TeamView(TeamSummary):
    whsec: str


class KeyRolled(BaseModel):
    api_key: str
    previous_valid_until: str


class SecretRolled(BaseModel):
    webhook_secret: str
    whsec: str
    previous_valid_until: str


class NoContent(BaseModel):
    """204: no body."""
