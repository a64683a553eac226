"""Retention with a frozen clock: exactly what is past its period goes, nothing else.

Boundary rows sit at cutoff - 1 s (deleted), cutoff and cutoff + 1 s (kept). Whole months before
the cutoff are dropped as partitions; the boundary month is deleted row by row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from ecomvideo import clock
from ecomvideo.enums import JobStatus
from ecomvideo.models import (
    ApiUsage,
    BackgroundJob,
    FreepikWebhookEvent,
    UserActivity,
    VideoAnalytics,
)
from ecomvideo.models.stripe import StripeEvent
from ecomvideo.services import partitions, retention, system_settings
from tests.support.factories import make_user, make_video
from tests.support.scheduled import run_task

NOW = datetime(2030, 6, 15, 12, 0, 0)
SECOND = timedelta(seconds=1)
PERIODS = {"video_analytics": 365, "user_activity": 730, "api_usage": 90}


@pytest.fixture(autouse=True)
def _clock():
    system_settings.clear_cache()
    clock.freeze(NOW)
    yield
    clock.unfreeze()
    system_settings.clear_cache()


def _row(session, table: str, created_at: datetime, label: str):
    if table == "video_analytics":
        user = make_user(session)
        video = make_video(session, user)
        return VideoAnalytics(
            video_id=video.id, event_type="View", created_at=created_at, platform=label
        )
    if table == "user_activity":
        user = make_user(session)
        return UserActivity(user_id=user.id, action=label, created_at=created_at)
    return ApiUsage(endpoint=label, method="GET", status_code=200, created_at=created_at)


def _label_column(table: str):
    return {
        "video_analytics": VideoAnalytics.platform,
        "user_activity": UserActivity.action,
        "api_usage": ApiUsage.endpoint,
    }[table]


@pytest.mark.parametrize("table", sorted(PERIODS))
def test_retention_deletes_exactly_the_rows_past_the_period(session, table):
    cutoff = NOW - timedelta(days=PERIODS[table])
    assert 10 <= cutoff.day <= 20  # mid-month boundary: both mechanisms are exercised
    partitions.ensure_partitions(session, table, months_back=3, months_ahead=1, now=cutoff)
    rows = {
        "old-partition": cutoff - timedelta(days=45),  # a whole month before the cutoff
        "before-1s": cutoff - SECOND,
        "at-cutoff": cutoff,
        "after-1s": cutoff + SECOND,
        "recent": NOW - timedelta(hours=1),
        "ancient-default": datetime(1999, 1, 1),  # in the default partition
    }
    for label, created in rows.items():
        session.add(_row(session, table, created, label))
    session.flush()
    old_partition = partitions.partition_name(table, partitions.month_start(rows["old-partition"]))

    report = run_task("retention")

    left = set(session.scalars(select(_label_column(table))))
    assert left == {"at-cutoff", "after-1s", "recent"}
    assert old_partition not in [p.name for p in partitions.list_partitions(session, table)]
    boundary = partitions.partition_name(table, partitions.month_start(cutoff))
    assert boundary in [p.name for p in partitions.list_partitions(session, table)]
    assert report["counts"][f"{table}_partitions_dropped"] >= 1
    assert report["counts"][f"{table}_rows_deleted"] == 2  # before-1s + ancient-default
    assert report["complete"] is True


def test_retention_period_comes_from_system_settings(session):
    system_settings.update(session, "retention.api_usage_days", 10, updated_by="test")
    cutoff = NOW - timedelta(days=10)
    session.add_all(
        [
            _row(session, "api_usage", cutoff - SECOND, "gone"),
            _row(session, "api_usage", cutoff + SECOND, "kept"),
        ]
    )
    session.flush()

    step = retention.purge_table(session, "api_usage")

    assert step.cutoff == cutoff
    assert set(session.scalars(select(ApiUsage.endpoint))) == {"kept"}


def test_malformed_period_falls_back_to_the_spec_value(session):
    session.execute(
        text("UPDATE system_settings SET value = 'soon' WHERE key = 'retention.api_usage_days'")
    )
    assert retention.cutoff_for(session, "api_usage") == NOW - timedelta(days=90)


def test_deletes_run_in_bounded_batches(session):
    cutoff = NOW - timedelta(days=90)
    session.add_all([_row(session, "api_usage", cutoff - SECOND * (i + 1), "x") for i in range(5)])
    session.flush()
    first = retention.purge_table(session, "api_usage", batch_size=3)
    second = retention.purge_table(session, "api_usage", batch_size=3)
    assert (first.rows_deleted, first.more) == (3, True)
    assert (second.rows_deleted, second.more) == (2, False)


def test_finished_background_jobs_are_kept_30_days(session):
    cutoff = NOW - timedelta(days=30)

    def job(label: str, status: JobStatus, finished: datetime | None) -> None:
        session.add(
            BackgroundJob(
                job_type="test.retention",
                job_data={"label": label},
                status=status,
                scheduled_at=datetime(2030, 1, 1),
                completed_at=finished,
                created_at=datetime(2030, 1, 1),
            )
        )

    job("completed-old", JobStatus.COMPLETED, cutoff - SECOND)
    job("failed-old", JobStatus.FAILED, cutoff - SECOND)
    job("completed-at-cutoff", JobStatus.COMPLETED, cutoff)
    job("completed-new", JobStatus.COMPLETED, cutoff + SECOND)
    job("pending-old", JobStatus.PENDING, None)  # never deleted, whatever its age
    job("running-old", JobStatus.RUNNING, None)
    session.flush()

    report = run_task("retention")

    labels = {
        j.job_data["label"]
        for j in session.scalars(
            select(BackgroundJob).where(BackgroundJob.job_type == "test.retention")
        )
    }
    assert labels == {"completed-at-cutoff", "completed-new", "pending-old", "running-old"}
    assert report["counts"]["background_jobs_deleted"] == 2


def test_webhook_event_ids_are_kept_90_days(session):
    cutoff = NOW - timedelta(days=90)
    for label, at in (("old", cutoff - SECOND), ("at", cutoff), ("new", cutoff + SECOND)):
        session.add(
            StripeEvent(id=f"evt_ret_{label}", type="invoice.paid", created=at, processed_at=at)
        )
        session.add(FreepikWebhookEvent(webhook_id=f"msg_ret_{label}", created_at=at))
    session.flush()

    report = run_task("retention")

    stripe_ids = set(
        session.scalars(select(StripeEvent.id).where(StripeEvent.id.like("evt_ret_%")))
    )
    freepik_ids = set(
        session.scalars(
            select(FreepikWebhookEvent.webhook_id).where(
                FreepikWebhookEvent.webhook_id.like("msg_ret_%")
            )
        )
    )
    assert stripe_ids == {"evt_ret_at", "evt_ret_new"}
    assert freepik_ids == {"msg_ret_at", "msg_ret_new"}
    assert report["counts"]["stripe_events_deleted"] == 1
    assert report["counts"]["freepik_webhook_events_deleted"] == 1


def test_parked_stripe_events_are_purged_90_days_after_applied_and_kept_while_parked(session):
    from ecomvideo.models.stripe import StripeParkedEvent

    old = NOW - timedelta(days=90) - SECOND
    for label, applied_at in (("applied-old", old), ("applied-new", NOW), ("parked", None)):
        session.add(
            StripeParkedEvent(
                event_id=f"evt_park_{label}",
                type="charge.refunded",
                event_created=old,
                waiting_for="payment:pi_x",
                reason="test",
                payload={},
                state="parked" if applied_at is None else "applied",
                created_at=old,
                applied_at=applied_at,
            )
        )
    session.flush()

    report = run_task("retention")

    kept = set(
        session.scalars(
            select(StripeParkedEvent.event_id).where(StripeParkedEvent.event_id.like("evt_park_%"))
        )
    )
    assert kept == {"evt_park_applied-new", "evt_park_parked"}
    assert report["counts"]["stripe_parked_events_deleted"] == 1
