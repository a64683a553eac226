"""Application rate limits per user and plan, as a Powertools middleware (``app.use``).

Counters are ``services.rate_limit`` fixed windows in PostgreSQL: one upsert per request
(``api:rpm:<user>`` per minute), plus one on video-creation routes (``api:create:<user>`` per
hour). Callers without a user (public routes) are limited per client IP. Limits come from the
``ratelimit.plans`` system setting (plan name -> limits) and fall back to
``ratelimit.requests_per_minute`` / ``ratelimit.video_creations_per_hour``.

Every answer carries the IETF draft's ``RateLimit`` and ``RateLimit-Policy`` fields
(``services.rate_limit.limit_headers``) for every window the request counted in: ``"requests"``
(per minute; per client IP for anonymous callers) and, on video-creation routes,
``"video-creations"`` (per hour). A refused request is a 429 problem+json with ``Retry-After``
too. The counter commits in its own short transaction (a failing request still counts) and the
limiter fails open: if the database cannot count, the request goes through.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.event_handler import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.errors import TooManyRequests
from ecomvideo.models import ApiUsage
from ecomvideo.models.ratelimit import RateLimitCounter
from ecomvideo.observability import logger
from ecomvideo.services import plans, rate_limit, system_settings

MINUTE, HOUR = 60, 3600
DEFAULT_REQUESTS_PER_MINUTE = 120
DEFAULT_CREATIONS_PER_HOUR = 30
DEFAULT_ANONYMOUS_PER_MINUTE = 300
# Plan overrides; the ``ratelimit.plans`` setting (same shape) replaces this when present.
DEFAULT_PLAN_LIMITS: dict[str, dict[str, int]] = {
    "Free": {"requests_per_minute": 60, "video_creations_per_hour": 10},
    "Pro": {"requests_per_minute": 300, "video_creations_per_hour": 60},
    "Business": {"requests_per_minute": 600, "video_creations_per_hour": 200},
}
# (method, route template) pairs that create videos.
CREATION_ROUTES = frozenset({("POST", "/v1/videos"), ("POST", "/v1/videos/<video_id>/retry")})
PLAN_CACHE_SECONDS = 60.0
_plan_cache: dict[uuid.UUID, tuple[float, str]] = {}


@dataclass(frozen=True)
class Limits:
    plan: str | None
    requests_per_minute: int
    video_creations_per_hour: int


def _cached_plan_name(session: Session, user_id: uuid.UUID) -> str:
    """``plans.verdict``'s plan, cached per container for PLAN_CACHE_SECONDS (or less when
    the entitlement changes sooner by time alone, e.g. a grace period's end)."""
    now = time.monotonic()
    cached = _plan_cache.get(user_id)
    if cached and cached[0] > now:
        return cached[1]
    decided = plans.verdict(session, user_id)
    ttl = PLAN_CACHE_SECONDS
    if decided.changes_at is not None:
        ttl = min(ttl, max(0.0, (decided.changes_at - clock.utcnow()).total_seconds()))
    _plan_cache[user_id] = (now + ttl, decided.plan_name)
    return decided.plan_name


def limits_for(session: Session, user_id: uuid.UUID | None) -> Limits:
    """The limits that apply to ``user_id`` (None: an anonymous client)."""
    rpm = int(
        system_settings.get(session, "ratelimit.requests_per_minute", DEFAULT_REQUESTS_PER_MINUTE)
    )
    creations = int(
        system_settings.get(
            session, "ratelimit.video_creations_per_hour", DEFAULT_CREATIONS_PER_HOUR
        )
    )
    if user_id is None:
        anonymous = system_settings.get(
            session, "ratelimit.anonymous_requests_per_minute", DEFAULT_ANONYMOUS_PER_MINUTE
        )
        return Limits(plan=None, requests_per_minute=int(anonymous), video_creations_per_hour=0)
    plans = system_settings.get(session, "ratelimit.plans", DEFAULT_PLAN_LIMITS)
    plan = _cached_plan_name(session, user_id)
    override = plans.get(plan, {}) if isinstance(plans, dict) else {}
    return Limits(
        plan=plan,
        requests_per_minute=int(override.get("requests_per_minute", rpm)),
        video_creations_per_hour=int(override.get("video_creations_per_hour", creations)),
    )


def _subject(raw: Mapping[str, Any]) -> tuple[uuid.UUID | None, str]:
    context = ((raw.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    try:
        user_id = uuid.UUID(str(context["userId"])) if context.get("userId") else None
    except ValueError:
        user_id = None
    if user_id is not None:
        return user_id, str(user_id)
    ip = ((raw.get("requestContext") or {}).get("http") or {}).get("sourceIp") or "unknown"
    return None, rate_limit.subject_key("api", "ip", ip)


REQUESTS, CREATIONS = "requests", "video-creations"  # the policies' names in the fields
Windows = list[tuple[str, rate_limit.RateLimitResult]]


def headers_for(windows: Windows) -> dict[str, str]:
    """The RateLimit and RateLimit-Policy response fields of the windows a request counted in."""
    return rate_limit.limit_headers(windows)


def route_template(app: Any) -> str | None:
    """The matched route's rule (``Api.current_route``), e.g. ``/v1/videos/<video_id>/retry``."""
    route = app.current_route()
    return route.rule if route else None


def check(app: Any) -> Windows:
    """Count this request; raise TooManyRequests when a window is exhausted."""
    return check_event(app.current_event.raw_event, route_template(app))


def check_event(raw: Mapping[str, Any], route: str | None) -> Windows:
    """``check`` for an API Gateway event (also one refused before any route matched)."""
    user_id, subject = _subject(raw)
    method = str(((raw.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    with transaction() as session:
        limits = limits_for(session, user_id)
        windows = [
            (
                REQUESTS,
                rate_limit.hit(
                    session,
                    f"api:rpm:{subject}",
                    limit=limits.requests_per_minute,
                    window_seconds=MINUTE,
                ),
            )
        ]
        if user_id is not None and (method, route) in CREATION_ROUTES:
            windows.append(
                (
                    CREATIONS,
                    rate_limit.hit(
                        session,
                        f"api:create:{subject}",
                        limit=limits.video_creations_per_hour,
                        window_seconds=HOUR,
                    ),
                )
            )
    refused = [result for _, result in windows if not result.allowed]
    if refused:
        worst = max(refused, key=lambda r: r.reset_at)
        raise TooManyRequests(
            "Too many requests; slow down and retry after the window resets.",
            retry_after=worst.retry_after,
            headers=headers_for(windows),
        )
    return windows


def rate_limit_middleware(app: Any, next_middleware: Callable[[Any], Response]) -> Response:
    """Powertools middleware: count, refuse with 429, or pass on and add the RateLimit fields."""
    try:
        result = check(app)
    except TooManyRequests:
        app.append_context(rate_limit_hit=True)
        raise
    except Exception:  # fail open: a limiter outage must not take the API down
        logger.warning("rate limiter unavailable; request allowed", exc_info=True)
        return next_middleware(app)
    response = next_middleware(app)
    response.headers.update(headers_for(result))
    return response


# ---------------------------------------------------------------------------- GET /v1/me/usage


def usage_summary(session: Session, user_id: uuid.UUID, *, days: int = 30) -> Any:
    """The caller's API usage since ``days`` ago, and their limits with the current windows."""
    from ecomvideo.schemas import analytics as schemas

    now = clock.utcnow()
    since = now - timedelta(days=days)
    mine = (ApiUsage.user_id == user_id, ApiUsage.created_at >= since)
    is_error = ApiUsage.status_code >= 400
    totals = session.execute(
        select(
            func.count(),
            func.count().filter(is_error),
            func.count().filter(ApiUsage.rate_limit_hit.is_(True)),
        ).where(*mine)
    ).one()
    endpoints = session.execute(
        select(
            ApiUsage.endpoint,
            ApiUsage.method,
            func.count().label("requests"),
            func.count().filter(is_error),
            func.avg(ApiUsage.response_time_ms),
        )
        .where(*mine)
        .group_by(ApiUsage.endpoint, ApiUsage.method)
        .order_by(func.count().desc(), ApiUsage.endpoint)
        .limit(20)
    ).all()
    limits = limits_for(session, user_id)
    states = []
    for name, key, limit, window in (
        ("requests_per_minute", f"api:rpm:{user_id}", limits.requests_per_minute, MINUTE),
        (
            "video_creations_per_hour",
            f"api:create:{user_id}",
            limits.video_creations_per_hour,
            HOUR,
        ),
    ):
        start = rate_limit.window_start(now, window)
        used = session.scalar(
            select(RateLimitCounter.count).where(
                RateLimitCounter.key == key, RateLimitCounter.window_start == start
            )
        )
        states.append(
            schemas.LimitState(
                name=name,
                limit=limit,
                window_seconds=window,
                used=int(used or 0),
                remaining=max(0, limit - int(used or 0)),
                resets_at=start + timedelta(seconds=window),
            )
        )
    return schemas.UsageOut(
        plan=limits.plan,
        since=since,
        requests=int(totals[0]),
        errors=int(totals[1]),
        rate_limited=int(totals[2]),
        endpoints=[
            schemas.EndpointUsage(
                endpoint=endpoint,
                method=method,
                requests=int(count),
                errors=int(errors),
                avg_response_ms=round(float(avg), 1) if avg is not None else None,
            )
            for endpoint, method, count, errors, avg in endpoints
        ],
        limits=states,
    )
