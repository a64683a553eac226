"""Fixed-window rate limiting in PostgreSQL: one upsert per hit, no extra infrastructure.

A window is ``[floor(now / window) * window, + window)``. ``hit`` increments the counter of
the current window and returns the new count in the same statement, so concurrent Lambdas
never lose an increment. Fixed windows allow up to 2x the limit across a window boundary;
that is acceptable for abuse protection (login throttling has its own lockout).

A result is announced with the IETF draft's fields (draft-ietf-httpapi-ratelimit-headers-10):
``RateLimit-Policy: "requests";q=60;w=60`` (the quota per window of each policy that applies) and
``RateLimit: "requests";r=57;t=23`` (what is left of it and the seconds until it resets); both
are Structured Field lists (RFC 9651) of one String item per policy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import rowcount
from ecomvideo.errors import TooManyRequests
from ecomvideo.models.ratelimit import RateLimitCounter

_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    limit: int
    remaining: int
    reset_at: datetime
    window_seconds: int

    @property
    def retry_after(self) -> int:
        """Seconds until the window resets (at least 1)."""
        return max(1, self.reset_seconds)

    @property
    def reset_seconds(self) -> int:
        """Seconds until the window resets (0 once it has)."""
        return max(0, int((self.reset_at - clock.utcnow()).total_seconds() + 0.999))

    def headers(self, policy: str) -> dict[str, str]:
        return limit_headers([(policy, self)])


def limit_headers(windows: Sequence[tuple[str, RateLimitResult]]) -> dict[str, str]:
    """``RateLimit`` and ``RateLimit-Policy`` for the named windows that apply to a request."""
    return {
        "RateLimit": ", ".join(
            f"{_sf_string(name)};r={w.remaining};t={w.reset_seconds}" for name, w in windows
        ),
        "RateLimit-Policy": ", ".join(
            f"{_sf_string(name)};q={w.limit};w={w.window_seconds}" for name, w in windows
        ),
    }


def _sf_string(value: str) -> str:
    """A Structured Field String (RFC 9651 3.3.3): quoted, with ``\\`` and ``"`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def subject_key(scope: str, kind: str, value: str) -> str:
    """A counter key that does not store the raw subject (emails and IPs are personal data)."""
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"{scope}:{kind}:{digest}"


def window_start(now: datetime, window_seconds: int) -> datetime:
    elapsed = int((now - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=elapsed - elapsed % window_seconds)


def hit(session: Session, key: str, *, limit: int, window_seconds: int) -> RateLimitResult:
    """Count one hit for ``key`` in the current window and say whether it is within ``limit``."""
    now = clock.utcnow()
    start = window_start(now, window_seconds)
    reset_at = start + timedelta(seconds=window_seconds)
    row = insert(RateLimitCounter).values(key=key, window_start=start, count=1, expires_at=reset_at)
    statement = row.on_conflict_do_update(
        index_elements=[RateLimitCounter.key, RateLimitCounter.window_start],
        set_={"count": RateLimitCounter.count + 1},
    ).returning(RateLimitCounter.count)
    count = int(session.execute(statement).scalar_one())
    return RateLimitResult(
        allowed=count <= limit,
        count=count,
        limit=limit,
        remaining=max(0, limit - count),
        reset_at=reset_at,
        window_seconds=window_seconds,
    )


def current(session: Session, key: str, *, window_seconds: int) -> tuple[int, datetime]:
    """(hits so far in the current window, when it resets) without counting one."""
    start = window_start(clock.utcnow(), window_seconds)
    count = session.scalar(
        select(RateLimitCounter.count).where(
            RateLimitCounter.key == key, RateLimitCounter.window_start == start
        )
    )
    return int(count or 0), start + timedelta(seconds=window_seconds)


def enforce(
    session: Session, key: str, *, limit: int, window_seconds: int, policy: str
) -> RateLimitResult:
    """``hit`` and raise ``TooManyRequests`` (429 with Retry-After and the ``policy``'s
    RateLimit fields) when over the limit."""
    result = hit(session, key, limit=limit, window_seconds=window_seconds)
    if not result.allowed:
        raise TooManyRequests(
            "Too many requests; try again later.",
            retry_after=result.retry_after,
            headers=result.headers(policy),
        )
    return result


def purge_expired(session: Session, *, before: datetime | None = None) -> int:
    """Delete counters of finished windows; returns how many rows went."""
    cutoff = before or clock.utcnow()
    result = session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= cutoff))
    return rowcount(result)
