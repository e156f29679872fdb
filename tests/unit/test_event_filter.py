"""The FilterCriteria matcher (sandbox/event_filter.py): EventBridge pattern semantics for
the subset the template uses; unsupported syntax is an error, never a silent match."""

from __future__ import annotations

import pytest

from sandbox.event_filter import matches, matches_any


def _record(name, old=None, new=None):
    images = {}
    if old:
        images["OldImage"] = {"status": {"S": old}}
    if new:
        images["NewImage"] = {"status": {"S": new}}
    return {"eventName": name, "dynamodb": images}


PATTERN = {
    "eventName": ["MODIFY"],
    "dynamodb": {
        "NewImage": {"status": {"S": ["paid", "failed"]}},
        "OldImage": {"status": {"S": [{"anything-but": ["paid"]}]}},
    },
}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (_record("MODIFY", "pending", "paid"), True),
        (_record("MODIFY", "paid", "paid"), False),  # anything-but
        (_record("MODIFY", "pending", "pending"), False),
        (_record("REMOVE", "paid"), False),
        (_record("INSERT", None, "paid"), False),
        (_record("MODIFY", None, "paid"), False),  # a missing field never matches a value matcher
        ({"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"N": "1"}}}}, False),
    ],
)
def test_pattern(record, expected):
    assert matches(PATTERN, record) is expected


def test_any_of_several_patterns_and_json_strings():
    assert matches_any(['{"a": ["x"]}', {"b": ["y"]}], {"b": "y"})
    assert not matches_any(['{"a": ["x"]}'], {"a": "z"})


def test_arrays_in_the_event_match_any_element_and_exact_types():
    assert matches({"tags": ["b"]}, {"tags": ["a", "b"]})
    assert matches({"n": [5]}, {"n": 5.0})
    assert not matches({"n": ["5"]}, {"n": 5})
    assert not matches({"flag": [True]}, {"flag": 1})
    assert matches({"v": [None]}, {"v": None})


def test_prefix_and_exists():
    assert matches({"k": [{"prefix": "pay_"}]}, {"k": "pay_1"})
    assert not matches({"k": [{"prefix": "pay_"}]}, {"k": "inv_1"})
    assert matches({"k": [{"exists": False}]}, {})
    assert not matches({"k": [{"exists": False}]}, {"k": 1})
    assert matches({"k": [{"exists": True}]}, {"k": 1})


def test_unsupported_syntax_is_an_error():
    with pytest.raises(ValueError):
        matches({"k": [{"numeric": [">", 1]}]}, {"k": 2})
    with pytest.raises(ValueError):
        matches({"k": "x"}, {"k": "x"})
