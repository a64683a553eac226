"""The api_usage log, as a Powertools middleware (``app.use``), installed before the limiter.

One ``api_usage`` row per routed request: endpoint as the route template (``/v1/videos/{id}``,
never the raw path, so rows group by endpoint and hold no ids), method, final status (for an
exception: the status the shared error handlers will give it), response time, request and
response sizes, client IP, user agent, user id and api_key_id from the authorizer context,
``rate_limit_hit`` and a short error message (a domain error's detail or an exception class
name, never ``str(exc)`` of a database error).

The row is written after the route in its own short transaction, so it records requests whose
own transaction rolled back. Logging never fails a request: any error is swallowed and logged.

Not seen by a middleware (Powertools runs request validation outside user middlewares, and
unmatched routes never reach them): 422/400/415 validation failures, 404/405 for unknown
routes and 413 for oversized bodies. ``AccountedApi`` (the resolver ``create_app`` returns)
logs and rate-limits those after the fact (endpoint: the route template when the path and
method match a route, the raw path of an unknown route); a routed request costs nothing extra.
The matched route comes from ``Api``'s own route table, never Powertools' private state.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from sqlalchemy import insert, select

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.errors import AppError
from ecomvideo.http.app import Api, SecureApi, problem_event_response
from ecomvideo.models import ApiUsage, User
from ecomvideo.observability import logger

_PARAM = re.compile(r"<(\w+)>")


def template_of(route_path: str) -> str:
    """Powertools' ``/v1/videos/<video_id>`` as API Gateway's ``/v1/videos/{video_id}``."""
    return _PARAM.sub(r"{\1}", route_path)[:200]


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _body_size(body: Any, serializer: Callable[[Any], str] | None) -> int | None:
    if body is None:
        return 0
    if isinstance(body, bytes):
        return len(body)
    if isinstance(body, str):
        return len(body.encode())
    if serializer is None:
        return None
    try:  # the route returned a model/dict: the resolver serialises it after us
        return len(serializer(body).encode())
    except Exception:
        return None


def row_for(
    raw: Mapping[str, Any],
    *,
    endpoint: str,
    status: int,
    elapsed_ms: int,
    response_size: int | None,
    rate_limited: bool,
    error: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The api_usage row of one request (pure: unit-testable, no database)."""
    context = raw.get("requestContext") or {}
    http = context.get("http") or {}
    authorizer = (context.get("authorizer") or {}).get("lambda") or {}
    body = raw.get("body") or ""
    request_size = len(body) * 3 // 4 if raw.get("isBase64Encoded") else len(body.encode())
    return {
        "id": uuid.uuid4(),
        "user_id": _uuid(authorizer.get("userId")),
        "endpoint": endpoint,
        "method": str(http.get("method") or "")[:10],
        "status_code": status,
        "response_time_ms": elapsed_ms,
        "request_size_bytes": request_size,
        "response_size_bytes": response_size,
        "ip_address": http.get("sourceIp") or None,
        "user_agent": (http.get("userAgent") or None) and str(http["userAgent"])[:1000],
        "api_key_id": _uuid(authorizer.get("apiKeyId")),
        "rate_limit_hit": rate_limited,
        "error_message": error[:1000] if error else None,
        "created_at": now or clock.utcnow(),
    }


def write(row: dict[str, Any]) -> bool:
    """Insert one api_usage row in its own transaction; False (logged) if that fails."""
    try:
        with transaction() as session:
            values = dict(row)
            if values.get("user_id") is not None:
                # A user deleted by this very request (DELETE /v1/me) must not lose the row
                # to the foreign key: the lookup makes it NULL instead.
                values["user_id"] = (
                    select(User.id).where(User.id == values["user_id"]).scalar_subquery()
                )
            session.execute(insert(ApiUsage).values(**values))
        return True
    except Exception:
        logger.warning("api usage not recorded", exc_info=True)
        return False


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, AppError):
        return f"{exc.slug}: {exc.detail}"
    return f"internal-error: {type(exc).__name__}"


def _problem_detail(response: Response) -> str | None:
    return _event_problem_detail(response.body)


def _event_problem_detail(body: Any) -> str | None:
    if isinstance(body, str) and body.startswith("{"):
        import json

        try:
            data = json.loads(body)
        except ValueError:
            return None
        if isinstance(data, dict):
            return str(data.get("detail") or data.get("title") or "")[:1000] or None
    return None


def usage_middleware(app: AccountedApi, next_middleware: Callable[[Any], Response]) -> Response:
    """Powertools middleware recording one api_usage row per routed request."""
    app.accounted = True  # AccountedApi: this request needs no after-the-fact row
    started = time.perf_counter()
    status, error, response = 500, None, None
    try:
        response = next_middleware(app)
        status = int(response.status_code)
        if status >= 400:
            error = _problem_detail(response)
        return response
    except AppError as exc:
        status, error = exc.status, _error_text(exc)
        raise
    except Exception as exc:
        status, error = 500, _error_text(exc)
        raise
    finally:
        try:
            route = app.current_route()
            raw = app.current_event.raw_event
            endpoint = template_of(route.rule) if route else str(raw.get("rawPath", ""))[:200]
            size = (
                _body_size(response.body, app.response_serializer) if response is not None else None
            )
            write(
                row_for(
                    raw,
                    endpoint=endpoint,
                    status=status,
                    elapsed_ms=int((time.perf_counter() - started) * 1000),
                    response_size=size,
                    rate_limited=bool(app.context.get("rate_limit_hit")),
                    error=error,
                )
            )
        except Exception:  # never let the log break the request
            logger.warning("api usage not recorded", exc_info=True)


class AccountedApi(Api):
    """The resolver with usage logging and rate limits also for requests that never reach the
    middlewares (refused by ``Api.resolve``'s guards, request validation or routing)."""

    accounted = False

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        self.accounted = False
        result = super().resolve(event, context)
        method = ((event.get("requestContext") or {}).get("http") or {}).get("method")
        refused = int(result.get("statusCode") or 500) >= 400
        if not self.accounted and refused and method != "OPTIONS":
            route = self.matched_route(str(method or ""), str(event.get("rawPath") or ""))
            result = _account_unrouted(event, result, started, route.rule if route else None)
        return result


class SecureAccountedApi(SecureApi, AccountedApi):
    """What ``create_app`` serves: refused requests accounted (``AccountedApi``), then the
    security headers on every answer, the limiter's 429 included (``SecureApi``, outermost)."""


def _account_unrouted(
    event: Mapping[str, Any], result: dict[str, Any], started: float, rule: str | None
) -> dict[str, Any]:
    """Count the refused request toward the caller's limit (a 429 replaces the answer once the
    limit is reached) and log it; never fails the request. ``rule``: the route the request
    would have run (refused by validation), None for an unknown route."""
    from ecomvideo.errors import TooManyRequests
    from ecomvideo.http.ratelimit import check_event, headers_for

    limited = False
    try:
        headers = headers_for(check_event(event, rule))
    except TooManyRequests as exc:
        limited, headers = True, exc.headers
        result = problem_event_response(429, exc.title, exc.detail, slug=exc.slug)
    except Exception:  # fail open, as the middleware does
        logger.warning("rate limiter unavailable; request allowed", exc_info=True)
        headers = {}
    result.setdefault("headers", {}).update(headers)
    endpoint = template_of(rule) if rule else str(event.get("rawPath") or "")[:200]
    record_event(event, result, started, endpoint, rate_limited=limited)
    return result


def record_event(
    event: Mapping[str, Any],
    result: Mapping[str, Any],
    started: float,
    endpoint: str,
    *,
    rate_limited: bool = False,
) -> None:
    """Log a request answered outside the middleware chain (validation, 404, 413)."""
    try:
        status = int(result.get("statusCode") or 500)
        body = result.get("body") or ""
        write(
            row_for(
                event,
                endpoint=endpoint,
                status=status,
                elapsed_ms=int((time.perf_counter() - started) * 1000),
                response_size=len(body.encode()) if isinstance(body, str) else None,
                rate_limited=rate_limited,
                error=_event_problem_detail(body),
            )
        )
    except Exception:
        logger.warning("api usage not recorded", exc_info=True)
