"""The only code that talks to DynamoDB.

One low-level client per process, created at import (cheaper than ``boto3.resource``, and
reused across warm invocations). Items cross this boundary as plain dicts of Python values.
"""

from __future__ import annotations

import base64
import binascii
import json
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
    return value


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(last_key), separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, expected_keys: set[str]) -> dict[str, Any] | None:
    """Decode an opaque paging cursor; None when it is not one of ours."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    if not isinstance(values, dict) or set(values) != expected_keys:
        return None
    if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values.values()):
        return None
    return to_item(values)
