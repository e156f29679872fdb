"""The shape of one documented route, and what many routes share (tags, errors, parameters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

MERCHANT, OPERATOR, DOCS = "merchant", "operator", "documentation"

ERRORS = {
    400: "Malformed JSON, a body that is not a JSON object, or the wrong content type.",
    401: "Missing or wrong operator token or team key (`invalid_api_key`, `api_key_required`).",
    404: "Unknown payment (or route).",
    409: "State conflict: the payment cannot make this move, or a reused idempotency key.",
    422: "Field validation failed; `details` names each field.",
    429: "Throttled; retry later.",
}


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path | query | header
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    description: str
    ok: int
    answer: type[BaseModel]
    errors: tuple[int, ...]
    body: type[BaseModel] | None = None
    example: dict[str, Any] | None = None
    params: tuple[Param, ...] = ()
    other: dict[int, tuple[str, tuple[type[BaseModel], ...]]] = field(default_factory=dict)

    @property
    def operator(self) -> bool:
        return self.tag == OPERATOR


PAYMENT_ID = Param("payment_id", "path", "`inv_…` or `pay_<tx_id>`.", required=True)
TEAM_ID = Param("team_id", "path", "The team's id.", required=True)
EVENT_ID = Param("event_id", "path", "`evt_…`, from a webhook's `webhook-id` or the events list.", required=True)
WEBHOOK_URL = "https://merchant.example.com/hooks"
