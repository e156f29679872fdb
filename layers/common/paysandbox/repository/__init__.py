"""The only code that talks to DynamoDB.

One low-level client per process, created at import (cheaper than ``boto3.resource``, and
reused across warm invocations). Items cross this boundary as plain dicts of Python values.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

dynamodb = boto3.client("dynamodb")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ConditionFailed(Exception):
    """A conditional write lost: ``existing`` is the item as it was (None if absent)."""

    def __init__(self, existing: dict[str, Any] | None):
        super().__init__("conditional check failed")
        self.existing = existing


class TableNotConfigured(RuntimeError):
    """A table's environment variable is missing: fail, never guess a table by a default name."""


def required_table(name: str, variable: str) -> str:
    """The table name the environment gave (the template sets it on every function)."""
    if not name:
        raise TableNotConfigured(f"{variable} is not set: it must name the table (the template sets it).")
    return name


def to_attr(value: Any) -> dict[str, Any]:
    if isinstance(value, float):
        value = Decimal(repr(value))
    attr: dict[str, Any] = _serializer.serialize(value)
    return attr


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):  # nested values (a payment's refunds) come back plain too
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


BATCH_GET_MAX = 100  # keys per BatchGetItem request (DynamoDB's limit)


def batch_get(table: str, keys: list[dict[str, Any]], *, consistent: bool = True) -> list[dict[str, Any]]:
    """The items of these keys that exist, as plain dicts, in the order of ``keys``.

    100 keys per BatchGetItem, retrying whatever DynamoDB left unprocessed. For the lists
    whose index leaves most attributes out (an index entry costs no write when an attribute
    it leaves out changes).
    """
    key_names = sorted(keys[0]) if keys else []

    def identity(key: dict[str, Any]) -> str:
        return json.dumps([key[name] for name in key_names], sort_keys=True)

    unique = list({identity(k): k for k in keys}.values())
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), BATCH_GET_MAX):
        request: dict[str, Any] = {table: {"Keys": unique[start : start + BATCH_GET_MAX], "ConsistentRead": consistent}}
        while request:
            response = dynamodb.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                found[identity(item)] = from_item(item)
            request = response.get("UnprocessedKeys") or {}
    return [found[identity(k)] for k in keys if identity(k) in found]


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(last_key), separators=(",", ":")).encode()).decode()


def cursor_after(key: dict[str, Any]) -> str:
    """The cursor that continues after ``key``, given as plain values."""
    return str(encode_cursor(to_item(key)))


def key_values(start_key: dict[str, Any]) -> dict[str, Any]:
    """A decoded cursor's key as plain values, so the domain can check whose list it belongs to."""
    return from_item(start_key)


MAX_CURSOR_LENGTH = 4096
# What DynamoDB accepts in a key: a non-empty string, or a number of at most 38 significant digits
# in 1e-130..1e126; anything else would only fail there (as a 5xx) if it got that far.
_KEY_STRING_BYTES = 1024
_KEY_NUMBER_LIMIT = Decimal("1e125")
_KEY_NUMBER_FLOOR = Decimal("1e-130")


def decode_cursor(cursor: str, expected_keys: Mapping[str, type] | set[str]) -> dict[str, Any] | None:
    """Decode an opaque paging cursor; None when it is not one of ours.

    ``expected_keys`` names the key attributes, or maps each to ``str`` or ``float`` (a
    number) so that a key of the wrong type is refused here rather than by DynamoDB.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None
    if not isinstance(values, dict) or set(values) != set(expected_keys):
        return None
    for name, value in values.items():
        wanted = expected_keys[name] if isinstance(expected_keys, Mapping) else None
        if not _is_key_value(value, wanted):
            return None
    return to_item(values)


def _is_key_value(value: Any, wanted: type | None) -> bool:
    if isinstance(value, str):
        return wanted in (None, str) and 0 < len(value.encode()) <= _KEY_STRING_BYTES
    if isinstance(value, bool) or not isinstance(value, (int, float)) or wanted not in (None, float, int):
        return False
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (ValueError, ArithmeticError):
        return False
    if not number.is_finite() or len(number.as_tuple().digits) > 38:
        return False
    return number == 0 or _KEY_NUMBER_FLOOR <= abs(number) < _KEY_NUMBER_LIMIT
