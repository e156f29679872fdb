"""Operator lists (``GET /api/v2/pending-payments``): one status group, every status, or the
payments of one merchant reference / tx_id. Never a Scan.

- One group: a page of the ``by-status`` index partition.
- Every status (no ``status=``, the Payment Server v2 README's "all payments" list): each
  group's partition read newest first from the cursor on, merged by ``(created_at,
  payment_id)``; the cursor is that pair of the page's last payment.
- ``tx_id=``: a key lookup (a v2 payment's id is ``pay_<tx_id>``). ``reference=``: the sparse,
  keys-only ``by-reference`` index, then one BatchGetItem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from paysandbox import scope
from paysandbox.errors import ValidationFailed
from paysandbox.models import Payment
from paysandbox.repository import cursor_after, decode_cursor, encode_cursor, key_values
from paysandbox.repository import payments as store
from paysandbox.states import GROUPS, LISTED_GROUPS, Status

ALL_CURSOR_KEYS: dict[str, type] = {"created_at": float, "payment_id": str}
MAX_LOOKUP_LENGTH = 128  # a reference and a tx_id are at most this long


@dataclass
class PaymentPage:
    payments: list[Payment]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)


def _counts(team: str) -> dict[str, int]:
    return {g: store.count_group(scope.group_partition(team, g)) for g in LISTED_GROUPS}


def _cursor(cursor: str | None, keys: Mapping[str, type] | set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    decoded = decode_cursor(cursor, keys)
    if decoded is None:
        raise ValidationFailed("The cursor is not valid for this list.", code="invalid_cursor")
    return decoded


def list_group(group: str, limit: int, cursor: str | None, team: str = scope.DEFAULT_TEAM) -> PaymentPage:
    """One page of a team's status group, newest first, plus the count of every group."""
    partition = scope.group_partition(team, group)
    start_key = _cursor(cursor, store.STATUS_INDEX_KEYS)
    if start_key is not None and key_values(start_key)["status_group"] != partition:
        raise ValidationFailed("The cursor is not valid for this list.", code="invalid_cursor")
    items, last_key = store.query_group(partition, limit, start_key)
    return PaymentPage([Payment.model_validate(i) for i in items], encode_cursor(last_key), _counts(team))


def list_all(limit: int, cursor: str | None, team: str = scope.DEFAULT_TEAM) -> PaymentPage:
    """One page of payments of every status, newest first, plus the count of every group."""
    start = _cursor(cursor, ALL_CURSOR_KEYS)
    before = None
    if start is not None:
        plain = key_values(start)
        if not isinstance(plain["created_at"], int | float) or not isinstance(plain["payment_id"], str):
            raise ValidationFailed("The cursor is not valid for this list.", code="invalid_cursor")
        before = (plain["created_at"], plain["payment_id"])
    merged: list[dict[str, Any]] = []
    for group in LISTED_GROUPS:
        merged.extend(_newest_of_group(scope.group_partition(team, group), limit + 1, before))
    merged.sort(key=_order, reverse=True)
    page = merged[:limit]
    next_cursor = None
    if len(merged) > limit:
        last = page[-1]
        next_cursor = cursor_after({"created_at": last["created_at"], "payment_id": last["payment_id"]})
    return PaymentPage([Payment.model_validate(i) for i in page], next_cursor, _counts(team))


def _order(item: dict[str, Any]) -> tuple[float, str]:
    return (item["created_at"], item["payment_id"])


def _newest_of_group(group: str, want: int, before: tuple[float, str] | None) -> list[dict[str, Any]]:
    """The group's ``want`` newest payments older than ``before``, plus any that tie with the
    last of them on created_at (so a tie is never split between two pages)."""
    collected: list[dict[str, Any]] = []
    for item in store.iter_group(group, not_after=before[0] if before else None, page_size=want):
        if before is not None and _order(item) >= before:
            continue
        if len(collected) >= want and item["created_at"] != collected[-1]["created_at"]:
            break
        collected.append(item)
    return collected


def find(
    reference: str | None,
    tx_id: str | None,
    group: str | None,
    limit: int,
    cursor: str | None,
    team: str = scope.DEFAULT_TEAM,
) -> PaymentPage:
    """A team's payments of one merchant reference and/or tx_id (narrowed by ``group`` if given).

    The ``by-reference`` index is shared by the teams (its key is the reference as the merchant
    sent it): its ids are filtered to the team's before anything is read."""
    for name, value in (("reference", reference), ("tx_id", tx_id)):
        if value is not None and not 0 < len(value) <= MAX_LOOKUP_LENGTH:
            raise ValidationFailed(
                f"{name} must be 1 to {MAX_LOOKUP_LENGTH} characters.",
                details=[{"field": name, "problem": f"length must be 1..{MAX_LOOKUP_LENGTH}"}],
            )
    items: list[dict[str, Any]] = []
    next_cursor = None
    if tx_id is not None:
        key = scope.storage_id(team, f"pay_{tx_id}")
        items = store.get_many([key]) if key else []
        items = [i for i in items if i.get("flavour") == "v2" and i.get("tx_id") == tx_id]
    if reference is not None:
        if tx_id is None:
            ids, last_key = store.query_reference(reference, limit, _cursor(cursor, store.REFERENCE_INDEX_KEYS))
            ids = [i for i in ids if scope.team_of(i) == team]
            items, next_cursor = store.get_many(ids), encode_cursor(last_key)
        else:  # both: a v2 payment has no reference, so nothing matches both
            items = [i for i in items if i.get("reference") == reference]
    if group is not None:
        items = [i for i in items if GROUPS[Status(i["status"])] == group]
    return PaymentPage([Payment.model_validate(i) for i in items], next_cursor, _counts(team))
