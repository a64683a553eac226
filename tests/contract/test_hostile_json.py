"""Hostile JSON on every body-taking operation of docs/openapi.json: never a 5xx.

For each operation with a request body, through the whole local stack (gateway, real
authorizer, real handler, PostgreSQL): a body whose every documented field holds a 5000-digit
integer, a bare 5000-digit integer, arrays and objects nested 5000 levels deep (at the top and
inside a field). The API answers 400 (or, for the provider webhooks, their signature refusal)
and never 500.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from devserver.events import HttpRequest
from tests.contract.conftest import new_user_token

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text())
HUGE = "1" + "0" * 4999
DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


def _resolve(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    ref = ref_or_schema.get("$ref")
    if not ref:
        return ref_or_schema
    node: Any = DOCUMENT
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _field_names(operation: dict[str, Any]) -> list[str]:
    content = operation["requestBody"].get("content", {})
    schema = _resolve(next(iter(content.values()), {}).get("schema", {}))
    return sorted(schema.get("properties", {})) or ["value"]


def _body_operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


def _hostile_bodies(fields: list[str]) -> dict[str, str]:
    return {
        "huge integer in every field": "{" + ",".join(f'"{f}":{HUGE}' for f in fields) + "}",
        "bare huge integer": HUGE,
        "deep array": DEEP_ARRAY,
        "deep object": DEEP_OBJECT,
        "deep value in a field": "{" + f'"{fields[0]}":{DEEP_ARRAY}' + "}",
    }


OPERATIONS = _body_operations()


def test_every_body_taking_operation_is_covered():
    assert len(OPERATIONS) >= 30  # the document has not lost its request bodies


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_hostile_json_never_answers_5xx(method, path, operation, contract_stack):
    stack, _ = contract_stack
    concrete = path
    for name in [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]:
        concrete = concrete.replace("{" + name + "}", str(uuid.uuid4()))
    headers = [("content-type", "application/json")]
    if operation.get("security") != []:
        token = new_user_token(stack, path.startswith("/v1/admin"))
        headers.append(("authorization", f"Bearer {token}"))
    webhook = path.startswith("/webhooks/")
    for label, body in _hostile_bodies(_field_names(operation)).items():
        response = stack.gateway.handle(
            HttpRequest(method=method, path=concrete, headers=headers, body=body.encode())
        )
        assert response.status < 500, (label, response.status, response.body[:300])
        if webhook:
            assert response.status in (400, 401), label  # unsigned: refused, never parsed
        else:
            assert response.status == 400, (label, response.status, response.body[:300])
            assert response.header("content-type") == "application/problem+json"
