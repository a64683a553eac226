"""The one source of "now" for business logic, so tests can freeze time.

Timestamps are naive UTC (the spec's columns are TIMESTAMP without time zone). Tests set
``clock.freeze(datetime)`` / ``clock.advance(timedelta)`` and ``clock.unfreeze()``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def utcnow() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(at: datetime) -> datetime:
    """``at`` as naive UTC (the database's timestamps); naive values are taken as UTC."""
    return at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)


def rfc3339(at: datetime) -> str:
    """``at`` as RFC 3339 UTC with ``Z`` to the second (``2026-11-25T08:49:35Z``): the one form
    of an instant in machine-readable output outside pydantic (webhook payloads, emails)."""
    return naive_utc(at).isoformat(timespec="seconds") + "Z"


def freeze(at: datetime) -> None:
    global _frozen
    _frozen = naive_utc(at)


def advance(delta: timedelta) -> None:
    global _frozen
    _frozen = utcnow() + delta


def frozen() -> datetime | None:
    """The instant the clock is frozen at, or None when it runs (tests restore it)."""
    return _frozen


def unfreeze() -> None:
    global _frozen
    _frozen = None
