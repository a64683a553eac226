"""Pieces of the API contract routes share: OpenAPI extensions they declare
(``openapi_extensions=``, checked by tests/unit/test_api_contract.py in docs/openapi.json) and
the 201 answer with its ``Location``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

# ``responses=ACCEPTED`` documents a route's 202 (work started, poll the resource).
ACCEPTED: dict[int, Any] = {202: {"description": "Accepted"}}
# The operation holds credits: it must take an Idempotency-Key (or be idempotent by state).
SPENDS_CREDITS = {"x-spends-credits": True}
# Holds credits, idempotent by state: a second call finds the new state and answers 409.
SPENDS_CREDITS_ONCE_PER_STATE = {**SPENDS_CREDITS, "x-idempotent": "by-state"}


def no_location(reason: str) -> dict[str, str]:
    """A 201/202 without a ``Location`` header, and why."""
    return {"x-no-location": reason}


def created(body: Any, location: str) -> Response:
    """201 Created with the new resource's ``Location`` (every 201 declares it)."""
    return Response(201, "application/json", body, {"Location": location})
