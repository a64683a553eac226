"""The generic fixed-window counter: one upsert per hit, windows reset, old rows purged."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from ecomvideo.errors import TooManyRequests
from ecomvideo.models.ratelimit import RateLimitCounter
from ecomvideo.services import rate_limit
from tests.support.ratelimit_fields import rate_limits


def test_counts_within_a_window_and_resets_in_the_next(session, frozen_clock):
    frozen_clock.freeze(datetime(2026, 1, 1, 10, 0, 30))
    results = [rate_limit.hit(session, "t:a", limit=2, window_seconds=60) for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    assert [r.remaining for r in results] == [1, 0, 0]
    assert results[-1].reset_at == datetime(2026, 1, 1, 10, 1, 0)
    assert results[-1].retry_after == 30
    # another key has its own counter
    assert rate_limit.hit(session, "t:b", limit=2, window_seconds=60).count == 1
    frozen_clock.advance(timedelta(seconds=30))
    assert rate_limit.hit(session, "t:a", limit=2, window_seconds=60).count == 1


def test_enforce_raises_429_with_retry_after(session, frozen_clock):
    rate_limit.enforce(session, "t:c", limit=1, window_seconds=3600, policy="login-per-ip")
    with pytest.raises(TooManyRequests) as caught:
        rate_limit.enforce(session, "t:c", limit=1, window_seconds=3600, policy="login-per-ip")
    assert caught.value.status == 429
    retry_after = int(caught.value.headers["Retry-After"])
    assert retry_after > 0
    assert rate_limits(caught.value.headers) == {
        "login-per-ip": {"q": 1, "w": 3600, "r": 0, "t": retry_after}
    }


def test_purge_deletes_finished_windows_only(session, frozen_clock):
    rate_limit.hit(session, "t:old", limit=5, window_seconds=60)
    frozen_clock.advance(timedelta(minutes=2))
    rate_limit.hit(session, "t:new", limit=5, window_seconds=60)
    assert rate_limit.purge_expired(session) == 1
    keys = session.scalars(select(RateLimitCounter.key)).all()
    assert keys == ["t:new"]
    assert session.scalar(select(func.count()).select_from(RateLimitCounter)) == 1


def test_subject_keys_hide_the_subject():
    key = rate_limit.subject_key("forgot", "email", " Ada@Example.com ")
    assert key == rate_limit.subject_key("forgot", "email", "ada@example.com")
    assert "ada" not in key and key.startswith("forgot:email:")
