"""Lambda event-source filtering (``FilterCriteria``): the subset of EventBridge pattern
syntax the template uses, evaluated the way Lambda does before it invokes a function.

Supported: nested objects, lists of alternatives (OR), exact strings/numbers/booleans/null,
``{"anything-but": value | [values]}``, ``{"prefix": "..."}`` and ``{"exists": bool}``.
Anything else raises ``ValueError`` rather than silently matching.
A record matches a filter list when it matches ANY of the patterns.
"""

from __future__ import annotations

import json
from typing import Any

_MISSING = object()


def matches_any(patterns: list[dict[str, Any] | str], record: dict[str, Any]) -> bool:
    return any(matches(json.loads(p) if isinstance(p, str) else p, record) for p in patterns)


def matches(pattern: dict[str, Any], record: Any) -> bool:
    """True when every field of ``pattern`` is satisfied by ``record``."""
    if not isinstance(pattern, dict):
        raise ValueError("a pattern is a JSON object")
    for key, expected in pattern.items():
        actual = record.get(key, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(expected, dict):
            if actual is _MISSING or not isinstance(actual, dict) or not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if not _leaf_matches(expected, actual):
                return False
        else:
            raise ValueError(f"pattern values are objects or arrays, got {expected!r} for {key!r}")
    return True


def _leaf_matches(alternatives: list[Any], actual: Any) -> bool:
    # An array in the event matches when any of its elements matches.
    values = actual if isinstance(actual, list) else [actual]
    return any(_one(alt, value) for alt in alternatives for value in values) or (
        actual is _MISSING and any(isinstance(a, dict) and a.get("exists") is False for a in alternatives)
    )


def _one(alternative: Any, value: Any) -> bool:
    if not isinstance(alternative, dict):
        return value is not _MISSING and not isinstance(value, (dict, list)) and _equal(alternative, value)
    if len(alternative) != 1:
        raise ValueError(f"unsupported matcher {alternative!r}")
    ((op, arg),) = alternative.items()
    if op == "exists":
        return (value is not _MISSING) is bool(arg)
    if value is _MISSING:
        return False
    if op == "anything-but":
        excluded = arg if isinstance(arg, list) else [arg]
        return not isinstance(value, (dict, list)) and not any(_equal(e, value) for e in excluded)
    if op == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    raise ValueError(f"unsupported matcher {op!r}")


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, (int, float)) and isinstance(value, (int, float)):
        return float(expected) == float(value)
    return bool(expected == value)
