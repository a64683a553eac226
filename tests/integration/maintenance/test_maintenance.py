"""Scheduled maintenance through the real cleanup handler, with a frozen clock."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from ecomvideo import clock
from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.enums import SubscriptionStatus, VideoStatus
from ecomvideo.models import (
    BackgroundJob,
    CreditMovement,
    EmailVerificationToken,
    MovementKind,
    PasswordResetToken,
    PipelineStep,
    RefreshToken,
    User,
    UserSubscription,
    Video,
)
from ecomvideo.services import credits, maintenance, system_settings
from ecomvideo.settings import reset_settings
from tests.support.factories import make_grant, make_subscription, make_user, make_video
from tests.support.scheduled import invoke_scheduled, run_task
from tests.support.storage import VIDEOS_BUCKET, media_buckets, put, stored

NOW = datetime(2030, 6, 15, 12, 0, 0)
SECOND = timedelta(seconds=1)
STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:ecomvideo-pipeline-test"


@pytest.fixture(autouse=True)
def _clock():
    system_settings.clear_cache()
    clock.freeze(NOW)
    yield
    clock.unfreeze()
    system_settings.clear_cache()


class FakeStepFunctions:
    def __init__(self) -> None:
        self.stopped: list[str] = []

    def stop_execution(self, executionArn: str, **_: object) -> dict:
        self.stopped.append(executionArn)
        return {}


@pytest.fixture
def sfn(monkeypatch):
    fake = FakeStepFunctions()
    monkeypatch.setenv("STATE_MACHINE_ARN", STATE_MACHINE)
    reset_settings()
    aws.set_client("stepfunctions", fake)
    yield fake
    aws.reset_clients()
    monkeypatch.delenv("STATE_MACHINE_ARN")
    reset_settings()


def test_expired_and_used_tokens_are_deleted_and_live_ones_kept(session):
    user = make_user(session)

    def refresh(label: str, expires: datetime, revoked: bool = False) -> None:
        session.add(
            RefreshToken(user_id=user.id, token=label, expires_at=expires, is_revoked=revoked)
        )

    refresh("expired", NOW - SECOND)
    refresh("live", NOW + SECOND)
    # Revoked but unexpired: kept, reuse detection of a rotated token needs it.
    refresh("revoked-live", NOW + timedelta(days=3), revoked=True)
    for model in (EmailVerificationToken, PasswordResetToken):
        session.add_all(
            [
                model(user_id=user.id, token=f"{model.__name__}-expired", expires_at=NOW - SECOND),
                model(user_id=user.id, token=f"{model.__name__}-live", expires_at=NOW + SECOND),
                model(
                    user_id=user.id,
                    token=f"{model.__name__}-used",
                    expires_at=NOW + timedelta(hours=1),
                    used_at=NOW - timedelta(days=1) - SECOND,
                ),
            ]
        )
    session.flush()

    report = run_task("maintenance")

    assert set(session.scalars(select(RefreshToken.token))) == {"live", "revoked-live"}
    for model in (EmailVerificationToken, PasswordResetToken):
        assert set(session.scalars(select(model.token))) == {f"{model.__name__}-live"}
    assert report["counts"]["tokens_deleted"] == 5


def test_subscriptions_past_their_end_expire_unless_stripe_may_still_renew(session):
    def sub(ends_at: datetime, auto_renew: bool) -> UserSubscription:
        return make_subscription(
            session,
            make_user(session),
            ends_at=ends_at,
            auto_renew=auto_renew,
            started_at=ends_at - timedelta(days=30),
        )

    ended = sub(NOW - SECOND, auto_renew=False)
    not_yet = sub(NOW + SECOND, auto_renew=False)
    renewing = sub(NOW - SECOND, auto_renew=True)  # Stripe's renewal webhook may be late
    renewal_missed = sub(NOW - timedelta(hours=48) - SECOND, auto_renew=True)
    already_cancelled = make_subscription(
        session, make_user(session), SubscriptionStatus.CANCELLED, ends_at=NOW - timedelta(days=9)
    )

    run_task("maintenance")
    second = run_task("maintenance")

    for row in (ended, not_yet, renewing, renewal_missed, already_cancelled):
        session.refresh(row)
    assert ended.status is SubscriptionStatus.EXPIRED
    assert renewal_missed.status is SubscriptionStatus.EXPIRED
    assert not_yet.status is SubscriptionStatus.ACTIVE
    assert renewing.status is SubscriptionStatus.ACTIVE
    assert already_cancelled.status is SubscriptionStatus.CANCELLED
    assert second["counts"]["subscriptions_expired"] == 0
    notices = session.scalars(
        select(BackgroundJob).where(BackgroundJob.job_type == "notification.email")
    ).all()
    assert sorted(j.job_data["user_id"] for j in notices) == sorted(
        str(s.user_id) for s in (ended, renewal_missed)
    )
    assert {j.job_data["kind"] for j in notices} == {"subscription_expired"}


def test_accounts_are_unlocked_once_locked_until_has_passed(session):
    past = make_user(session, locked_until=NOW - SECOND, failed_login_attempts=5)
    future = make_user(session, locked_until=NOW + SECOND, failed_login_attempts=5)
    run_task("maintenance")
    session.expire_all()
    past, future = session.get(User, past.id), session.get(User, future.id)
    assert (past.locked_until, past.failed_login_attempts) == (None, 0)
    assert future.locked_until == NOW + SECOND


def test_expired_grants_are_deactivated(session):
    user = make_user(session)
    gone = make_grant(session, user, 5, expires_at=NOW - SECOND)
    live = make_grant(session, user, 5, expires_at=NOW + SECOND)
    report = run_task("maintenance")
    session.refresh(gone)
    session.refresh(live)
    assert (gone.is_active, live.is_active) == (False, True)
    assert report["counts"]["grants_expired"] == 1
    assert credits.balance(session, user.id) == 5


def _stuck_video(session, minutes_ago: float, status=VideoStatus.GENERATING_VIDEO) -> Video:
    user = make_user(session)
    make_grant(session, user, 10)
    started = NOW - timedelta(minutes=minutes_ago)
    video = make_video(session, user, status=status, created_at=started, updated_at=started)
    credits.hold(session, user.id, video.id, 4)
    return video


def _releases(session, video_id: uuid.UUID) -> list[CreditMovement]:
    return list(
        session.scalars(
            select(CreditMovement).where(
                CreditMovement.video_id == video_id, CreditMovement.kind == MovementKind.RELEASE
            )
        )
    )


def test_stuck_video_is_failed_its_credits_released_once_and_execution_stopped(session, sfn):
    stuck = _stuck_video(session, 60 + 1 / 60)  # threshold 60 min + 1 s
    fresh = _stuck_video(session, 60 - 1 / 60)
    done = _stuck_video(session, 600, status=VideoStatus.COMPLETED)
    for video in (stuck, fresh):  # each waits on a provider task
        session.add(
            PipelineStep(
                video_id=video.id,
                attempt=1,
                step="GenerateVideo",
                state="Started",
                provider_task_id=f"task-{video.id}",
                next_poll_at=NOW,
            )
        )
    session.flush()

    first = run_task("stuck_videos")
    second = run_task("stuck_videos")

    session.expire_all()
    assert session.get(Video, stuck.id).status is VideoStatus.FAILED
    assert "too long" in session.get(Video, stuck.id).error_message
    assert session.get(Video, fresh.id).status is VideoStatus.GENERATING_VIDEO
    # The stuck video's waiting step is closed (never polled again); the fresh one still waits.
    closed = session.get(PipelineStep, (stuck.id, 1, "GenerateVideo"))
    assert (closed.state, closed.next_poll_at) == ("Failed", None)
    assert session.get(PipelineStep, (fresh.id, 1, "GenerateVideo")).state == "Started"
    assert session.get(Video, done.id).status is VideoStatus.COMPLETED
    assert [m.amount for m in _releases(session, stuck.id)] == [4]
    assert credits.balance(session, stuck.user_id) == 10
    assert first["counts"] == {"videos_failed": 1, "credits_released": 4, "executions_stopped": 1}
    assert second["counts"]["videos_failed"] == 0
    assert sfn.stopped == [STATE_MACHINE.replace(":stateMachine:", ":execution:") + f":{stuck.id}"]
    kinds = {
        j.job_data.get("kind") or j.job_type
        for j in session.scalars(select(BackgroundJob))
        if str(stuck.user_id) in str(j.job_data)
    }
    assert "video_failed" in kinds


def test_a_reaped_video_loses_its_failed_attempts_work_files(session, sfn, aws):
    stuck = _stuck_video(session, 61)
    stuck.meta = {"request": {"attempt": 2}}
    fresh = _stuck_video(session, 5)
    session.flush()
    with media_buckets() as s3:
        stuck_base = f"users/{stuck.user_id}/videos/{stuck.id}/"
        work = put(s3, VIDEOS_BUCKET, *(stuck_base + f"work/a2-{n}" for n in ("still", "render")))
        kept = put(
            s3,
            VIDEOS_BUCKET,
            stuck_base + "work/a3-still",  # a retry's attempt, started after the reaping
            stuck_base + "work/segments/0-3f2a.mp4",  # scene segments: a retry reuses them
            f"users/{fresh.user_id}/videos/{fresh.id}/work/a1-still",  # not stuck
        )

        assert run_task("stuck_videos")["counts"]["videos_failed"] == 1
        assert stored(s3) == work | kept  # deleted by a job committed with the failure
        invoke_scheduled("jobs_worker", {"batch_size": 10, "max_jobs": 200}, timeout_s=120)

        assert stored(s3) == kept
    session.expire_all()
    assert session.get(Video, stuck.id).status is VideoStatus.FAILED
    assert len(sfn.stopped) == 1


def test_stuck_threshold_comes_from_system_settings(session, sfn):
    system_settings.update(session, "pipeline.stuck_video_minutes", 10, updated_by="test")
    video = _stuck_video(session, 11)
    run_task("stuck_videos")
    session.expire_all()
    assert session.get(Video, video.id).status is VideoStatus.FAILED


def test_two_reapers_in_parallel_release_credits_exactly_once(fresh_db):
    with transaction() as session:
        ids = [_stuck_video(session, 120).id for _ in range(5)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def reaper() -> None:
        barrier.wait()
        with transaction() as session:
            results.append(maintenance.reap_stuck_videos(session).count)

    threads = [threading.Thread(target=reaper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(results) == 5
    with transaction() as session:
        releases = session.scalar(
            select(func.count())
            .select_from(CreditMovement)
            .where(CreditMovement.video_id.in_(ids), CreditMovement.kind == MovementKind.RELEASE)
        )
        assert releases == 5
        assert {session.get(Video, i).status for i in ids} == {VideoStatus.FAILED}


def test_maintenance_purges_finished_rate_limit_windows_and_old_view_markers(session):
    from ecomvideo.models import AnalyticsCountedSession, RateLimitCounter

    video_id = uuid.uuid4()
    session.add_all(
        [
            RateLimitCounter(
                key="api:rpm:done",
                window_start=NOW - timedelta(minutes=2),
                count=3,
                expires_at=NOW - SECOND,
            ),
            RateLimitCounter(
                key="api:rpm:live", window_start=NOW, count=1, expires_at=NOW + timedelta(minutes=1)
            ),
            AnalyticsCountedSession(
                video_id=video_id,
                session_key="old",
                event_type="View",
                counted_at=NOW - timedelta(minutes=31),
            ),
            AnalyticsCountedSession(
                video_id=video_id,
                session_key="recent",
                event_type="View",
                counted_at=NOW - timedelta(minutes=5),
            ),
        ]
    )
    session.flush()

    report = run_task("maintenance")

    assert set(session.scalars(select(RateLimitCounter.key))) == {"api:rpm:live"}
    assert set(session.scalars(select(AnalyticsCountedSession.session_key))) == {"recent"}
    assert report["counts"]["rate_limit_counters_deleted"] == 1
    assert report["counts"]["view_dedup_markers_deleted"] == 1
