"""The API contract, read from docs/openapi.json as a client author would (issue 20).

One datetime type, one problem shape, cursor pages on every list that can grow, Location on
201/202, Idempotency-Key on operations that spend credits, and the CORS headers a browser may
read the same in the resolver and in template.yaml.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ecomvideo.http.app import EXPOSE_HEADERS
from ecomvideo.http.problems import validation_errors
from ecomvideo.schemas.fields import UtcDateTime

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "docs" / "openapi.json").read_text())
SCHEMAS = DOC["components"]["schemas"]
# Property names that hold an instant: *_at, and the report/usage windows.
TIMESTAMP_NAME = re.compile(r"(_at|^since|^until)$")
OPERATIONS = [
    (method, path, op)
    for path, item in DOC["paths"].items()
    for method, op in item.items()
    if method in ("get", "post", "put", "patch", "delete")
]


def _ids(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A property's non-null alternatives (``anyOf: [X, null]`` is how optional reads)."""
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [_resolve(o) for o in options if o.get("type") != "null"]


def _timestamp_properties() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, schema in SCHEMAS.items():
        for prop, spec in (schema.get("properties") or {}).items():
            if TIMESTAMP_NAME.search(prop):
                found.append((name, prop, spec))
    return found


BOUNDED = "x-bounded-list"  # set in code on a route (every array) or a property (that array)


def _bodies(op: dict[str, Any]) -> list[dict[str, Any]]:
    """The 200 JSON body's schema(s), each alternative of an ``anyOf`` resolved."""
    content = op["responses"].get("200", {}).get("content", {}).get("application/json")
    return _variants(content.get("schema") or {}) if content else []


def _growing_arrays(op: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """Top-level arrays of a body that nothing bounds: no ``maxItems``, no ``x-bounded-list``
    on the property nor on the operation. ``""`` stands for a bare array body."""
    if op.get(BOUNDED):
        return []
    if body.get("type") == "array":
        return [] if "maxItems" in body else [""]
    growing = []
    for name, spec in (body.get("properties") or {}).items():
        if spec.get(BOUNDED):
            continue
        arrays = [v for v in _variants(spec) if v.get("type") == "array"]
        if any("maxItems" not in v and not v.get(BOUNDED) for v in arrays):
            growing.append(name)
    return growing


def _list_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """GET operations whose 200 body has a top-level array (or is one): a list that may grow."""
    found = []
    for method, path, op in OPERATIONS:
        if method != "get":
            continue
        for body in _bodies(op):
            if body.get("type") == "array" or any(
                v.get("type") == "array"
                for spec in (body.get("properties") or {}).values()
                for v in _variants(spec)
            ):
                found.append((path, body, op))
    return found


@pytest.mark.parametrize(
    ("schema", "prop", "spec"),
    _timestamp_properties(),
    ids=_ids,
)
def test_every_timestamp_is_a_date_time(schema, prop, spec):
    assert all(v.get("format") == "date-time" for v in _variants(spec)), f"{schema}.{prop}"


def test_datetimes_serialise_as_utc_rfc3339_with_z():
    class Out(BaseModel):
        at: UtcDateTime

    naive_utc = Out(at=datetime(2026, 11, 25, 8, 49, 35)).model_dump(mode="json")
    offset = Out.model_validate({"at": "2026-11-25T09:49:35+01:00"}).model_dump(mode="json")
    assert naive_utc == offset == {"at": "2026-11-25T08:49:35Z"}


@pytest.mark.parametrize(("path", "body", "op"), _list_operations(), ids=_ids)
def test_every_growing_list_pages_by_cursor(path, body, op):
    growing = _growing_arrays(op, body)
    if not growing:
        return  # every array is bounded (x-bounded-list or maxItems), and the document says so
    # One page of one growing list per answer: a second one could not share the cursor.
    assert len(growing) == 1, f"{path}: {growing} all grow; page one, bound the others"
    params = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    assert {"limit", "cursor"} <= params, f"{path}: {growing[0]} grows but has no cursor"
    assert "next_cursor" in body.get("properties", {}), path
    link = op["responses"]["200"].get("headers", {}).get("Link")
    assert link is not None, f"{path}: the Link rel=next header is not declared"


def test_the_list_rule_sees_any_top_level_array_not_only_items():
    page = {"properties": {"movements": {"type": "array"}, "next_cursor": {"type": "string"}}}
    bounded = {"properties": {"roles": {"type": "array", BOUNDED: "a handful"}}}
    capped = {"properties": {"top": {"anyOf": [{"type": "array", "maxItems": 5}]}}}
    assert _growing_arrays({}, page) == ["movements"]
    assert _growing_arrays({}, bounded) == _growing_arrays({}, capped) == []
    assert _growing_arrays({BOUNDED: "reference list"}, page) == []
    assert _growing_arrays({}, {"type": "array", "items": {}}) == [""]


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=_ids)
def test_every_4xx_is_a_problem(method, path, op):
    for code, response in op["responses"].items():
        if code.startswith("4"):
            content = response.get("content") or {}
            if "$ref" in response:
                content = DOC["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]][
                    "content"
                ]
            schema = content.get("application/problem+json", {}).get("schema", {})
            assert schema.get("$ref") == "#/components/schemas/Problem", (method, path, code)


def test_problem_field_errors_have_one_shape():
    field_error = SCHEMAS["FieldError"]
    assert set(field_error["required"]) == {"pointer", "detail", "code"}
    body = [
        {"loc": ("body", "variables", "a/b"), "msg": "Field required", "type": "missing"},
        {"loc": ("query", "limit"), "msg": "too big", "type": "less_than_equal"},
    ]
    assert validation_errors(body) == [
        {"pointer": "/variables/a~1b", "detail": "Field required", "code": "missing"},
        {"pointer": "limit", "detail": "too big", "code": "less_than_equal"},
    ]


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=_ids)
def test_created_and_accepted_answers_declare_location(method, path, op):
    if op.get("x-no-location"):
        assert len(op["x-no-location"]) > 10  # the document says why there is none
        return
    for code in ("201", "202"):
        if code in op["responses"]:
            headers = op["responses"][code].get("headers", {})
            assert "Location" in headers, (method, path, code)


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=_ids)
def test_operations_that_spend_credits_take_an_idempotency_key(method, path, op):
    if not op.get("x-spends-credits"):
        return
    headers = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
    # Or idempotent by state: a second call finds the new state and answers 409.
    assert "idempotency-key" in headers or op.get("x-idempotent") == "by-state", (method, path)


def test_the_paid_video_creation_is_marked():
    assert DOC["paths"]["/v1/videos"]["post"].get("x-spends-credits") is True


def test_browsers_can_read_the_same_headers_on_aws_as_locally():
    from devserver.cfn import load_template

    template = load_template(ROOT / "template.yaml")  # Fn::ForEach loops expanded
    apis = [
        r["Properties"]
        for r in template["Resources"].values()
        if r.get("Type") == "AWS::Serverless::HttpApi"
    ]
    exposed = {h.lower() for api in apis for h in api["CorsConfiguration"]["ExposeHeaders"]}
    assert exposed == {h.lower() for h in EXPOSE_HEADERS}


def _response(response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        return DOC["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=_ids)
def test_rate_limited_answers_say_when_to_retry(method, path, op):
    if "429" in op["responses"]:
        headers = _response(op["responses"]["429"]).get("headers", {})
        assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(headers), (method, path)


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=_ids)
def test_rate_limit_headers_are_declared_wherever_the_limiter_runs(method, path, op):
    if path.startswith("/webhooks/"):
        return  # provider webhooks: signature-checked handlers without the resolver's limiter
    for code, response in op["responses"].items():
        if code.startswith("2"):
            assert {"RateLimit", "RateLimit-Policy"} <= set(response.get("headers", {})), (
                method,
                path,
                code,
            )


def test_browsers_may_read_every_header_the_rate_limiter_sends():
    from ecomvideo.errors import TooManyRequests
    from ecomvideo.services import rate_limit

    window = rate_limit.RateLimitResult(
        allowed=False,
        count=6,
        limit=5,
        remaining=0,
        reset_at=datetime(2026, 1, 1),
        window_seconds=60,
    )
    refused = TooManyRequests("slow down", retry_after=1, headers=window.headers("requests"))
    sent = set(refused.headers) | {"Link", "Location"}  # the 429's, and those of pages / 201s
    assert {h.lower() for h in sent} <= {h.lower() for h in EXPOSE_HEADERS}


def test_rate_limit_fields_are_structured_field_lists_a_parser_reads():
    from ecomvideo.services import rate_limit
    from tests.support.ratelimit_fields import rate_limits

    now = datetime(2026, 1, 1, 10, 0, 0)
    minute = rate_limit.RateLimitResult(
        allowed=True, count=3, limit=60, remaining=57, reset_at=now, window_seconds=60
    )
    hour = rate_limit.RateLimitResult(
        allowed=True, count=1, limit=10, remaining=9, reset_at=now, window_seconds=3600
    )
    odd_name = 'a "quoted" \\ name'
    headers = rate_limit.limit_headers([("requests", minute), (odd_name, hour)])

    parsed = rate_limits(headers)
    assert list(parsed) == ["requests", odd_name]
    assert {k: v for k, v in parsed["requests"].items() if k != "t"} == {"q": 60, "w": 60, "r": 57}
    assert {k: v for k, v in parsed[odd_name].items() if k != "t"} == {"q": 10, "w": 3600, "r": 9}
