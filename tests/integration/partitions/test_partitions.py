"""Monthly partitions: created ahead, default partition catches everything, expired ones drop."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from ecomvideo import clock
from ecomvideo.models import ApiUsage, UserActivity, VideoAnalytics
from ecomvideo.services import partitions
from tests.support.factories import make_user, make_video
from tests.support.scheduled import run_task


@pytest.fixture(autouse=True)
def _unfreeze():
    yield
    clock.unfreeze()


def _names(session, table: str) -> list[str]:
    return [p.name for p in partitions.list_partitions(session, table)]


def _where(session, table: str, row_id) -> str:
    return session.execute(
        text(f"SELECT tableoid::regclass::text FROM {table} WHERE id = :id"),  # noqa: S608
        {"id": row_id},
    ).scalar_one()


@pytest.mark.parametrize("table", partitions.PARTITIONED_TABLES)
def test_tables_are_range_partitioned_with_a_default_partition(session, table):
    kind, key = session.execute(
        text("SELECT c.relkind, pg_get_partkeydef(c.oid) FROM pg_class c WHERE c.relname = :t"),
        {"t": table},
    ).one()
    assert kind == "p"
    assert key == "RANGE (created_at)"
    assert f"{table}_default" in _names(session, table)


def test_scheduled_job_creates_this_month_and_three_ahead_once(session):
    clock.freeze(datetime(2031, 5, 15, 8, 30))

    first = run_task("partitions")
    second = run_task("partitions")

    expected = {
        f"{t}_p{m}"
        for t in partitions.PARTITIONED_TABLES
        for m in ("203105", "203106", "203107", "203108")
    }
    assert expected <= set(_names(session, "video_analytics")) | set(
        _names(session, "user_activity")
    ) | set(_names(session, "api_usage"))
    assert first["counts"]["partitions_created"] == 12
    assert second["counts"]["partitions_created"] == 0  # idempotent
    bounds = {p.name: (p.start, p.end) for p in partitions.list_partitions(session, "api_usage")}
    assert bounds["api_usage_p203108"] == (datetime(2031, 8, 1), datetime(2031, 9, 1))


def test_rows_outside_every_partition_land_in_default_and_move_when_the_month_is_created(
    session,
):
    user = make_user(session)
    video = make_video(session, user)
    event = VideoAnalytics(
        video_id=video.id, event_type="View", created_at=datetime(2032, 1, 10, 12, 0)
    )
    session.add(event)
    session.flush()
    assert _where(session, "video_analytics", event.id) == "video_analytics_default"

    created = partitions.ensure_partitions(
        session, "video_analytics", months_ahead=0, now=datetime(2032, 1, 2)
    )

    assert created == ["video_analytics_p203201"]
    assert _where(session, "video_analytics", event.id) == "video_analytics_p203201"
    assert session.scalar(text("SELECT count(*) FROM video_analytics")) == 1


def test_inserts_never_fail_for_lack_of_a_partition(session):
    user = make_user(session)
    rows = [
        UserActivity(user_id=user.id, action="Old", created_at=datetime(1999, 1, 1)),
        ApiUsage(endpoint="/v1/x", method="GET", status_code=200, created_at=datetime(2099, 1, 1)),
    ]
    session.add_all(rows)
    session.flush()
    assert _where(session, "user_activity", rows[0].id) == "user_activity_default"
    assert _where(session, "api_usage", rows[1].id) == "api_usage_default"


def test_drop_expired_partitions_drops_only_whole_months_before_the_cutoff(session):
    partitions.ensure_partitions(
        session, "api_usage", months_back=2, months_ahead=1, now=datetime(2020, 3, 10)
    )
    session.add_all(
        [
            ApiUsage(endpoint="/a", method="GET", status_code=200, created_at=datetime(2020, 1, 5)),
            ApiUsage(endpoint="/b", method="GET", status_code=200, created_at=datetime(2020, 2, 5)),
        ]
    )
    session.flush()

    dropped = partitions.drop_expired_partitions(session, "api_usage", datetime(2020, 2, 15))

    assert dropped == ["api_usage_p202001"]  # February ends after the cutoff: kept
    names = _names(session, "api_usage")
    assert "api_usage_p202002" in names and "api_usage_p202003" in names
    assert session.scalar(text("SELECT count(*) FROM api_usage")) == 1


def test_partitioned_tables_keep_their_foreign_keys(session):
    user = make_user(session)
    video = make_video(session, user)
    session.add(VideoAnalytics(video_id=video.id, user_id=user.id, event_type="View"))
    session.add(UserActivity(user_id=user.id, action="VideoCreated"))
    session.flush()
    session.execute(text("DELETE FROM videos WHERE id = :id"), {"id": video.id})
    assert session.scalar(text("SELECT count(*) FROM video_analytics")) == 0  # CASCADE
    session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
    assert session.scalar(text("SELECT count(*) FROM user_activity")) == 0  # CASCADE
