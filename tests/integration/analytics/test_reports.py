"""Reports over the daily rollup through the real analytics handler."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from ecomvideo.enums import AnalyticsEventType as Ev
from ecomvideo.services import analytics
from ecomvideo.services.tracked_events import TrackedEvent
from tests.support.engagement import BOT_UA, BROWSER_UA, api, completed_video, token_for
from tests.support.factories import make_user

DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"
)
DAY = datetime(2026, 3, 2, 10, 0)  # a Monday


def _track(session, video, event_type, when, session_id, *, ua=BROWSER_UA, **kw):
    analytics.record(
        session,
        TrackedEvent(
            video_id=video.id,
            event_type=event_type,
            occurred_at=when,
            ip="198.51.100.7",
            user_agent=ua,
            session_id=session_id,
            **kw,
        ),
    )


def _report(path, token, query=""):
    return api().call("analytics", "GET", path, token=token, query=query)


def test_video_report_totals_series_tops_and_csv(session, jwt_env):
    owner = make_user(session)
    video = completed_video(session, owner)
    _track(
        session,
        video,
        Ev.VIEW,
        DAY,
        "s-0001-aa",
        platform="TikTok",
        country_code="DE",
        duration_seconds=10,
    )
    _track(
        session,
        video,
        Ev.VIEW,
        DAY,
        "s-0002-aa",
        platform="TikTok",
        country_code="US",
        ua=DESKTOP_UA,
        duration_seconds=20,
    )
    _track(
        session,
        video,
        Ev.VIEW,
        DAY + timedelta(days=1),
        "s-0003-aa",
        platform="Instagram",
        country_code="DE",
    )
    _track(session, video, Ev.VIEW, DAY + timedelta(days=8), "s-0004-aa", country_code="FR")
    _track(session, video, Ev.VIEW, DAY, "s-bot-0001", ua=BOT_UA)
    _track(session, video, Ev.DOWNLOAD, DAY, "s-0001-aa")
    _track(session, video, Ev.VIEW, DAY + timedelta(days=40), "s-0005-aa")  # out of range

    token = token_for(owner.id)
    query = "from=2026-03-02&to=2026-03-15"
    response = _report(f"/v1/analytics/videos/{video.id}", token, query)
    assert response.status == 200, response.body
    report = response.json()
    assert report["totals"]["views"] == 4
    assert report["totals"]["downloads"] == 1
    assert report["totals"]["bot_events"] == 1
    assert report["totals"]["watch_seconds"] == 30
    assert len(report["series"]) == 14
    assert [p["views"] for p in report["series"][:3]] == [2, 1, 0]
    assert {t["value"]: t["views"] for t in report["top_platforms"]} == {
        "TikTok": 2,
        "Instagram": 1,
        "Unknown": 1,
    }
    assert report["top_countries"][0] == {"value": "DE", "views": 2}
    assert {t["value"] for t in report["top_devices"]} == {"Mobile", "Desktop"}

    weekly = _report(f"/v1/analytics/videos/{video.id}", token, query + "&interval=week").json()
    assert [(p["period_start"], p["views"]) for p in weekly["series"]] == [
        ("2026-03-02", 3),
        ("2026-03-09", 1),
    ]

    exported = _report(f"/v1/analytics/videos/{video.id}", token, query + "&format=csv")
    assert exported.status == 200 and exported.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.body)))
    assert rows[0] == ["period_start", "views", "downloads", "shares", "likes"]
    assert rows[1] == ["2026-03-02", "2", "1", "0", "0"]
    assert rows[-1] == ["total", "4", "1", "0", "0"]


def test_overview_is_own_videos_and_admin_sees_everyone(session, jwt_env):
    alice, bob, admin = make_user(session), make_user(session), make_user(session)
    a_video = completed_video(session, alice, title="Alice video")
    b_video = completed_video(session, bob, title="Bob video")
    _track(session, a_video, Ev.VIEW, DAY, "alice-viewer-1")
    _track(session, b_video, Ev.VIEW, DAY, "bob-viewer-1")
    _track(session, b_video, Ev.VIEW, DAY, "bob-viewer-2")
    query = "from=2026-03-01&to=2026-03-31"

    mine = _report("/v1/analytics/overview", token_for(alice.id), query).json()
    assert mine["totals"]["views"] == 1
    assert [v["title"] for v in mine["top_videos"]] == ["Alice video"]
    # Someone else's video report is a 404, the admin overview a 403 for users
    assert _report(f"/v1/analytics/videos/{b_video.id}", token_for(alice.id)).status == 404
    assert _report("/v1/admin/analytics/overview", token_for(alice.id)).status == 403

    everyone = _report("/v1/admin/analytics/overview", token_for(admin.id, "Admin"), query)
    assert everyone.status == 200
    titles = [v["title"] for v in everyone.json()["top_videos"]]
    assert titles[:1] == ["Bob video"] and "Alice video" in titles
    support = _report("/v1/admin/analytics/overview", token_for(admin.id, "Support"), query)
    assert support.status == 200
    bad = _report("/v1/analytics/overview", token_for(alice.id), "from=2026-03-10&to=2026-03-01")
    assert bad.status == 422


@pytest.mark.parametrize(
    "query",
    [
        "to=0001-01-01",
        "from=0001-01-01",
        "to=9999-12-31",
        "from=9999-12-01&to=9999-12-31",
        "from=1999-12-31&to=2000-01-10",
    ],
)
def test_dates_outside_the_supported_range_are_a_422(session, jwt_env, query):
    owner = make_user(session)
    for path in ("/v1/analytics/overview", "/v1/admin/analytics/overview"):
        response = _report(path, token_for(owner.id, "User", "Admin"), query)
        assert response.status == 422, (path, query, response.body)
        assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("interval", ["month", "DAY", ""])
def test_an_interval_other_than_day_or_week_is_a_422_naming_the_parameter(
    session, jwt_env, interval
):
    owner = make_user(session)
    response = _report("/v1/analytics/overview", token_for(owner.id), f"interval={interval}")
    assert response.status == 422, response.body
    assert [e["pointer"] for e in response.json()["errors"]] == ["interval"]  # a query parameter
