"""Lambda event-source ``FilterCriteria``: EventBridge-style content filtering of records.

A record reaches the handler when ANY of the filters' patterns matches it. In a pattern an
object descends into the record, an array lists alternatives (one must match), and an
alternative is a literal or one of the content filters: ``prefix``, ``suffix``,
``equals-ignore-case``, ``anything-but``, ``numeric``, ``exists``; ``$or`` lists
sub-patterns. A record field that is an array matches when any of its elements does.
For SQS the pattern's ``body`` is matched against the JSON-decoded body when it is JSON.
"""

from __future__ import annotations

import json
from typing import Any

_MISSING = object()


def passes(filter_criteria: dict[str, Any] | None, record: dict[str, Any]) -> bool:
    """Whether the record passes the event source's filters (no filters: every record)."""
    filters = (filter_criteria or {}).get("Filters") or []
    if not filters:
        return True
    return any(matches(_pattern(f["Pattern"]), record) for f in filters)


def sqs_view(record: dict[str, Any]) -> dict[str, Any]:
    """What Lambda filters an SQS record on: the body decoded when it is a JSON object."""
    try:
        body = json.loads(record["body"])
    except (ValueError, TypeError):
        return record
    return {**record, "body": body} if isinstance(body, dict) else record


def _pattern(raw: Any) -> dict[str, Any]:
    pattern: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    return pattern


def matches(pattern: dict[str, Any], data: Any) -> bool:
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(alternative, data) for alternative in expected):
                return False
            continue
        value = data.get(key, _MISSING) if isinstance(data, dict) else _MISSING
        if isinstance(expected, dict):
            if not matches(expected, value if isinstance(value, dict) else {}):
                return False
        elif not _any_alternative(expected, value):
            return False
    return True


def _any_alternative(alternatives: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for alternative in alternatives:
        if isinstance(alternative, dict) and "exists" in alternative:
            present = value is not _MISSING
            if present == bool(alternative["exists"]):
                return True
            continue
        if any(v is not _MISSING and _one(alternative, v) for v in values):
            return True
    return False


def _one(alternative: Any, value: Any) -> bool:
    if not isinstance(alternative, dict):
        return _same(alternative, value)
    (kind, argument), *_ = alternative.items()
    if kind == "prefix":
        if isinstance(argument, dict):  # {"prefix": {"equals-ignore-case": "..."}}
            return isinstance(value, str) and value.lower().startswith(argument["equals-ignore-case"].lower())
        return isinstance(value, str) and value.startswith(argument)
    if kind == "suffix":
        if isinstance(argument, dict):
            return isinstance(value, str) and value.lower().endswith(argument["equals-ignore-case"].lower())
        return isinstance(value, str) and value.endswith(argument)
    if kind == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == argument.lower()
    if kind == "anything-but":
        if isinstance(argument, dict):
            return not _one(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_same(e, value) for e in excluded)
    if kind == "numeric":
        return _numeric(argument, value)
    raise ValueError(f"unsupported filter {kind!r}")


def _same(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or expected is None:
        return value is expected
    if isinstance(expected, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(expected) == float(value)
    return bool(expected == value)


_COMPARE = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _numeric(conditions: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_COMPARE[op](float(value), float(bound)) for op, bound in pairs)
