"""Transitions of the state machine as single conditional writes on the stored item.

Kept free of the pydantic models so that the expirer, which only moves items, cold-starts
without them; ``payments.transition`` wraps this for callers that want a ``Payment``.
"""

from __future__ import annotations

from typing import Any

from paysandbox import clock, scope
from paysandbox.repository import payments as store
from paysandbox.states import GROUPS, OPEN, Status, sources_of


def apply(
    payment_id: str,
    target: Status,
    *,
    extra: dict[str, Any] | None = None,
    now: float | None = None,
    allow_from: frozenset[Status] | None = None,
    remove: tuple[str, ...] = (),
    add: dict[str, int] | None = None,
    require: dict[str, Any] | None = None,
    early: bool = False,
) -> dict[str, Any]:
    """Move a payment to ``target`` with one conditional write; returns the new item.

    Raises ConditionFailed (with the current item) when the payment is not in a state that
    may move to ``target`` or, for anything but expiry, when it is already past its expiry.
    Terminal targets also reset the webhook bookkeeping and leave the sparse expiry index.
    ``remove`` names fields the same write deletes (e.g. a used one-time-code hash), ``add``
    counters it increments; ``require`` adds conditions on other fields (see
    ``repository.payments.update_if``). A target equal to the source (``allow_from``) is a
    guarded change within a state, e.g. counting a one-time-code attempt.
    ``early`` lets an expiry happen before the payment's time (the expire-now test helper).
    """
    now = clock.now_epoch() if now is None else now
    values: dict[str, Any] = {
        "status": target.value,
        "status_group": scope.group_partition(scope.team_of(payment_id), GROUPS[target]),
        "updated_at": now,
        **(extra or {}),
    }
    sources = allow_from or sources_of(target)
    if not sources:
        raise ValueError(f"no state moves to {target.value}")
    if target is Status.EXPIRED:
        expiry_condition: store.Expiry | None = None if early else "expired"
    else:
        # Leaving an open state needs the payment unexpired; later moves (refunds) do not.
        expiry_condition = "unexpired" if sources <= OPEN else None
    if target not in OPEN:
        values.update(webhook_status="pending", webhook_attempts=0)
        remove = (*remove, "due_pk")
    item = store.update_if(
        payment_id,
        from_statuses={s.value for s in sources},
        set_values=values,
        remove=remove,
        add=add,
        expiry_condition=expiry_condition,
        now=now,
        require=require,
    )
    return item
