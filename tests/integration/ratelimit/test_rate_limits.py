"""Application rate limits and the api_usage log, as create_app() will install them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ecomvideo import clock
from ecomvideo.models import ApiUsage
from ecomvideo.services import system_settings
from tests.support.engagement import call, completed_video, fresh_handler, token_for
from tests.support.factories import make_user
from tests.support.ratelimit_fields import rate_limits


@pytest.fixture
def analytics_fn():
    return fresh_handler("analytics")


@pytest.fixture
def limit_of_three(session):
    system_settings.update(session, "ratelimit.requests_per_minute", 3, updated_by="test")
    system_settings.update(session, "ratelimit.plans", {}, updated_by="test", data_type="json")
    system_settings.clear_cache()
    yield
    system_settings.clear_cache()


def _window_start_plus(seconds: int) -> datetime:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return now.replace(second=0) + timedelta(seconds=seconds)


def test_n_plus_first_request_gets_429_and_the_window_resets(
    session, jwt_env, analytics_fn, limit_of_three
):
    user = make_user(session)
    token = token_for(user.id)
    clock.freeze(_window_start_plus(10))
    try:
        remaining = []
        for _ in range(3):
            ok = call(analytics_fn, "GET", "/v1/me/usage", token=token)
            assert ok.status == 200, ok.body
            limits = rate_limits(ok.headers)
            assert list(limits) == ["requests"]  # not a video-creation route
            assert (limits["requests"]["q"], limits["requests"]["w"]) == (3, 60)
            assert limits["requests"]["t"] == 50
            remaining.append(limits["requests"]["r"])
        assert remaining == [2, 1, 0]

        refused = call(analytics_fn, "GET", "/v1/me/usage", token=token)
        assert refused.status == 429
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.headers["Retry-After"] == "50"
        assert rate_limits(refused.headers) == {"requests": {"q": 3, "w": 60, "r": 0, "t": 50}}
        assert refused.json()["status"] == 429

        # Another user has their own window
        other = call(analytics_fn, "GET", "/v1/me/usage", token=token_for(make_user(session).id))
        assert other.status == 200

        clock.advance(timedelta(seconds=50))  # the next window
        again = call(analytics_fn, "GET", "/v1/me/usage", token=token)
        assert again.status == 200
        assert rate_limits(again.headers)["requests"]["r"] == 2
        usage = again.json()
        assert usage["rate_limited"] == 1
        assert usage["requests"] == 4
        rpm = next(x for x in usage["limits"] if x["name"] == "requests_per_minute")
        assert (rpm["limit"], rpm["used"], rpm["remaining"]) == (3, 1, 2)
    finally:
        clock.unfreeze()
    hit = session.scalars(
        select(ApiUsage).where(ApiUsage.user_id == user.id, ApiUsage.rate_limit_hit.is_(True))
    ).one()
    assert (hit.status_code, hit.endpoint) == (429, "/v1/me/usage")


def test_plan_limits_come_from_settings(session, jwt_env, analytics_fn):
    system_settings.update(
        session,
        "ratelimit.plans",
        {"Free": {"requests_per_minute": 1}},
        updated_by="test",
        data_type="json",
    )
    system_settings.clear_cache()
    try:
        token = token_for(make_user(session).id)  # no subscription: the Free plan
        assert call(analytics_fn, "GET", "/v1/me/usage", token=token).status == 200
        refused = call(analytics_fn, "GET", "/v1/me/usage", token=token)
        assert refused.status == 429 and rate_limits(refused.headers)["requests"]["q"] == 1
    finally:
        system_settings.clear_cache()


def test_usage_row_has_route_template_status_sizes_and_caller(session, jwt_env, analytics_fn):
    owner, stranger = make_user(session), make_user(session)
    video = completed_video(session, owner)
    ok = call(analytics_fn, "GET", f"/v1/analytics/videos/{video.id}", token=token_for(owner.id))
    assert ok.status == 200
    missing = call(
        analytics_fn, "GET", f"/v1/analytics/videos/{video.id}", token=token_for(stranger.id)
    )
    assert missing.status == 404
    rows = {
        r.user_id: r
        for r in session.scalars(
            select(ApiUsage).where(ApiUsage.endpoint == "/v1/analytics/videos/{video_id}")
        )
    }
    mine, theirs = rows[owner.id], rows[stranger.id]
    assert (mine.method, mine.status_code, mine.error_message) == ("GET", 200, None)
    assert mine.response_size_bytes == len(ok.body.encode())
    assert mine.request_size_bytes == 0 and mine.response_time_ms >= 0
    assert str(mine.ip_address) == "198.51.100.77" and "iPhone" in mine.user_agent
    assert str(video.id) not in mine.endpoint
    assert theirs.status_code == 404 and theirs.error_message == "not-found: No such video."


def test_usage_logging_failure_never_fails_the_request(session, jwt_env, analytics_fn, monkeypatch):
    from ecomvideo.http import usage

    def broken(*args, **kwargs):
        raise RuntimeError("log table unavailable")

    monkeypatch.setattr(usage, "transaction", broken)
    response = call(analytics_fn, "GET", "/v1/me/usage", token=token_for(make_user(session).id))
    assert response.status == 200
    assert session.scalar(select(ApiUsage.id).where(ApiUsage.endpoint == "/v1/me/usage")) is None


def test_requests_refused_before_any_route_runs_are_logged_and_count_toward_the_limit(
    session, jwt_env, analytics_fn, limit_of_three
):
    user = make_user(session)
    token = token_for(user.id)
    clock.freeze(_window_start_plus(10))
    try:
        invalid = call(analytics_fn, "GET", "/v1/analytics/overview", token=token, query="top=0")
        assert invalid.status == 422  # request validation: outside the middlewares
        assert rate_limits(invalid.headers)["requests"]["r"] == 2
        unknown = call(
            analytics_fn, "GET", "/v1/analytics/nowhere", token=token, unrouted_to="analytics"
        )
        assert unknown.status == 404 and rate_limits(unknown.headers)["requests"]["r"] == 1
        assert call(analytics_fn, "GET", "/v1/me/usage", token=token).status == 200

        refused = call(analytics_fn, "GET", "/v1/analytics/overview", token=token, query="top=0")
        assert refused.status == 429 and refused.headers["Retry-After"] == "50"
        assert refused.json()["type"].endswith("/rate-limited")
    finally:
        clock.unfreeze()
    rows = session.scalars(
        select(ApiUsage).where(ApiUsage.user_id == user.id).order_by(ApiUsage.created_at)
    ).all()
    logged = sorted((r.status_code, r.endpoint, r.rate_limit_hit) for r in rows)
    assert logged == [
        (200, "/v1/me/usage", False),
        (404, "/v1/analytics/nowhere", False),
        (422, "/v1/analytics/overview", False),
        (429, "/v1/analytics/overview", True),
    ]


def test_a_request_refused_by_validation_is_logged_under_its_route_template(
    session, jwt_env, analytics_fn
):
    user = make_user(session)
    refused = call(
        analytics_fn, "GET", "/v1/analytics/videos/not-a-uuid-4711", token=token_for(user.id)
    )
    assert refused.status == 422  # request validation: outside the middlewares
    row = session.scalars(select(ApiUsage).where(ApiUsage.user_id == user.id)).one()
    # The template, as for routed requests: rows group by endpoint and hold no ids.
    assert (row.status_code, row.endpoint) == (422, "/v1/analytics/videos/{video_id}")
