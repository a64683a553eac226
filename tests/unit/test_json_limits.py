"""http.json_limits: the structural limits every JSON body passes before model parsing."""

from __future__ import annotations

import json

import pytest

from ecomvideo.http import json_limits


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_an_ordinary_body_passes():
    assert json_limits.violation(json.dumps({"a": [1, 2.5, "x"], "b": {"c": None}})) is None


def test_nesting_up_to_the_limit_passes_and_one_more_level_is_a_400():
    assert json_limits.violation(_nested(json_limits.MAX_DEPTH)) is None
    found = json_limits.violation(_nested(json_limits.MAX_DEPTH + 1))
    assert found is not None and found.status == 400 and found.slug == "json-too-deep"


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"s": "[" * 1000 + '\\"{' * 100})
    assert json_limits.violation(text) is None


@pytest.mark.parametrize("number", ["1" * 41, "-" + "9" * 40, "1." + "0" * 39, "1e" + "9" * 39])
def test_a_number_longer_than_the_limit_is_a_400(number):
    found = json_limits.violation('{"n": ' + number + "}")
    assert found is not None and found.status == 400 and found.slug == "json-number-too-long"


def test_a_bigint_sized_number_passes():
    assert json_limits.violation(json.dumps({"n": -(2**63)})) is None


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        ("x" * (json_limits.MAX_STRING_CHARS + 1), "string"),
        ([0] * (json_limits.MAX_ARRAY_ITEMS + 1), "array"),
        ({str(i): 0 for i in range(json_limits.MAX_OBJECT_KEYS + 1)}, "object"),
    ],
)
def test_oversized_strings_arrays_and_objects_are_a_413(value, limit):
    found = json_limits.violation(json.dumps({"v": value}))
    assert found is not None and found.status == 413 and limit in found.detail


def test_malformed_json_is_left_to_the_parser():
    assert json_limits.violation('{"a": ') is None
    assert json_limits.violation(b"\xff\xfe") is None
