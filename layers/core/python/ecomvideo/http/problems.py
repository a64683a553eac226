"""RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from ecomvideo.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE, AppError, field_error

__all__ = ["PROBLEM_BASE", "PROBLEM_CONTENT_TYPE", "from_app_error", "problem"]


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return Response(
        status_code=status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=json.dumps(body, default=str),
        headers=headers or {},
    )


def from_app_error(exc: AppError, instance: str | None = None) -> Response:
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        slug=exc.slug,
        instance=instance,
        extra=exc.extra,
        headers=exc.headers,
    )


def validation_errors(errors: Any) -> list[dict[str, str]]:
    """Pydantic/Powertools errors as ``field_error()`` entries, without echoing the submitted
    values back: a body location becomes a JSON pointer, a parameter location its name."""
    return [
        field_error(_pointer(err.get("loc", ())), err.get("msg", "invalid"), err.get("type", ""))
        for err in errors
    ]


def _pointer(loc: Any) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts[1:]) or "/"
    if parts and parts[0] in ("query", "path", "header", "cookie"):
        return ".".join(parts[1:]) or parts[0]
    return ".".join(parts)
