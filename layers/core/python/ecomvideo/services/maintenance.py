"""Scheduled housekeeping. Each function does one bounded, idempotent step in the caller's
transaction and returns a count; the cleanup function commits between steps.

* tokens: delete expired refresh tokens (revoked ones are kept until they expire: reuse
  detection of a rotated token needs them), expired or used verification/reset tokens;
* subscriptions: Active/Trial/PastDue past ``ends_at`` become Expired when Stripe did not say
  so (auto-renewing ones after a grace period, Stripe's renewal webhook may be late);
* credit grants past ``expires_at`` are deactivated (``credits.expire_grants``);
* stuck videos: non-terminal longer than ``pipeline.stuck_video_minutes`` become Failed, their
  hold is released (exactly once: the row is locked and re-checked, and ``credits.release`` is
  idempotent), their Step Functions execution is stopped and a ``media.purge`` job deletes
  the failed attempt's work files;
* monthly credit grants for yearly plans (billing service, when present);
* S3 objects of deleted videos (prefixes whose video row no longer exists);
* accounts whose ``locked_until`` passed are unlocked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import rowcount
from ecomvideo.enums import (
    ACTIVE_SUBSCRIPTION_STATUSES,
    TERMINAL_VIDEO_STATUSES,
    SubscriptionStatus,
    VideoStatus,
)
from ecomvideo.models import (
    EmailVerificationToken,
    PasswordResetToken,
    RefreshToken,
    User,
    UserSubscription,
    Video,
)
from ecomvideo.observability import logger
from ecomvideo.services import (
    credits,
    media_purge,
    notifications,
    subscription_credits,
    system_settings,
    video_lifecycle,
)
from ecomvideo.services.video_lifecycle import close_open_steps

USED_TOKEN_GRACE = timedelta(days=1)
DEFAULT_STUCK_MINUTES = 60
DEFAULT_EXPIRY_GRACE_HOURS = 48
STUCK_VIDEO_MESSAGE = "The video took too long to generate and was stopped; no credits were used."


def _ids_for_update(session: Session, stmt: Any) -> list[Any]:
    return list(session.scalars(stmt.with_for_update(skip_locked=True)))


# ---------------------------------------------------------------------------- tokens


def purge_tokens(session: Session, *, now: datetime | None = None, limit: int = 5000) -> int:
    """Delete expired refresh tokens and expired/used one-time tokens (one batch per table)."""
    moment = now or clock.utcnow()
    deleted = 0
    refresh = _ids_for_update(
        session,
        select(RefreshToken.id).where(RefreshToken.expires_at < moment).limit(limit),
    )
    if refresh:
        session.execute(
            delete(RefreshToken)
            .where(RefreshToken.id.in_(refresh))
            .execution_options(synchronize_session=False)
        )
        deleted += len(refresh)
    for model in (EmailVerificationToken, PasswordResetToken):
        ids = _ids_for_update(
            session,
            select(model.id)
            .where(
                or_(
                    model.expires_at < moment,
                    model.used_at < moment - USED_TOKEN_GRACE,
                )
            )
            .limit(limit),
        )
        if ids:
            session.execute(
                delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
            )
            deleted += len(ids)
    return deleted


# ---------------------------------------------------------------------------- subscriptions


def expire_subscriptions(
    session: Session, *, now: datetime | None = None, limit: int = 500
) -> list[uuid.UUID]:
    """Mark subscriptions past their end Expired; returns their ids (a notification each)."""
    moment = now or clock.utcnow()
    grace = timedelta(
        hours=int(
            system_settings.get(
                session, "billing.subscription_expiry_grace_hours", DEFAULT_EXPIRY_GRACE_HOURS
            )
        )
    )
    subs = list(
        session.scalars(
            select(UserSubscription)
            .where(
                UserSubscription.status.in_(ACTIVE_SUBSCRIPTION_STATUSES),
                or_(
                    # Not renewing: over at ends_at. Renewing: Stripe gets a grace period.
                    (UserSubscription.auto_renew.is_not(True))
                    & (UserSubscription.ends_at < moment),
                    UserSubscription.ends_at < moment - grace,
                ),
            )
            .order_by(UserSubscription.ends_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    expired: list[uuid.UUID] = []
    for sub in subs:
        sub.status = SubscriptionStatus.EXPIRED
        sub.updated_by = "maintenance"
        expired.append(sub.id)
        plan = sub.plan.name if sub.plan is not None else ""
        notifications.notify(
            session,
            sub.user_id,
            notifications.Kind.SUBSCRIPTION_EXPIRED,
            {"plan": plan},
            at=sub.ends_at,
            dedupe_key=f"subscription-expired:{sub.id}",
        )
    session.flush()
    return expired


# ---------------------------------------------------------------------------- credits


def expire_grants(session: Session, *, limit: int = 1000) -> int:
    return credits.expire_grants(session, limit=limit)


def monthly_grants_for_yearly_plans(session: Session) -> int:
    """The monthly credits of yearly plans (``subscription_credits``); returns grants made."""
    return subscription_credits.grant_monthly_credits_for_yearly_plans(session)


# ---------------------------------------------------------------------------- stuck videos


@dataclass
class StuckVideo:
    video_id: uuid.UUID
    user_id: uuid.UUID
    released: int
    attempt: int


@dataclass
class ReapResult:
    videos: list[StuckVideo] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.videos)


def _attempt(video: Video) -> int:
    try:
        return int(((video.meta or {}).get("request") or {}).get("attempt", 1))
    except (TypeError, ValueError):
        return 1


def execution_arn(state_machine_arn: str, video_id: uuid.UUID, attempt: int) -> str:
    """The pipeline's execution ARN (name = video id, '<id>-<attempt>' for retries)."""
    return str(video_lifecycle.execution_arn(state_machine_arn, video_id, attempt))


def reap_stuck_videos(
    session: Session, *, now: datetime | None = None, limit: int = 100
) -> ReapResult:
    """Fail videos stuck in a non-terminal status too long and release their credits.

    The rows are locked (``SKIP LOCKED``: a video the pipeline is updating right now is left
    for the next run) and their status re-read under the lock, so a video is failed and its
    hold released at most once even when two runs overlap. Stop the executions afterwards with
    ``stop_executions`` (outside the transaction: a slow AWS call must not hold row locks).
    """
    moment = now or clock.utcnow()
    minutes = int(
        system_settings.get(session, "pipeline.stuck_video_minutes", DEFAULT_STUCK_MINUTES)
    )
    threshold = moment - timedelta(minutes=max(1, minutes))
    non_terminal = [s for s in VideoStatus if s not in TERMINAL_VIDEO_STATUSES]
    videos = list(
        session.scalars(
            select(Video)
            .where(
                Video.status.in_(non_terminal),
                # updated_at moves with every status change (trigger); created_at if never.
                text("COALESCE(videos.updated_at, videos.created_at) < :threshold"),
            )
            .params(threshold=threshold)
            .order_by(Video.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    result = ReapResult()
    for video in videos:
        if video.status in TERMINAL_VIDEO_STATUSES:
            continue
        video.status = VideoStatus.FAILED
        video.error_message = STUCK_VIDEO_MESSAGE
        video.updated_by = "maintenance"
        # Its waiting steps end too: no poll, webhook or redelivery runs them again.
        close_open_steps(session, video.id, STUCK_VIDEO_MESSAGE)
        released = credits.release(session, video.user_id, video.id)
        result.videos.append(StuckVideo(video.id, video.user_id, released, _attempt(video)))
        # Its attempt's work files go too (a queued job: committed with the failure).
        media_purge.enqueue_attempt_work_purge(session, video.user_id, video.id, _attempt(video))
        session.flush()
        try:
            notifications.on_video_finished(session, video)
        except Exception:  # a notification must never keep a video stuck
            logger.exception("could not enqueue stuck-video notifications")
    return result


def stop_executions(reaped: ReapResult, sfn: Any, state_machine_arn: str | None) -> int:
    """StopExecution for every reaped video; a missing or finished execution is fine."""
    if not state_machine_arn:
        return 0
    stopped = 0
    for video in reaped.videos:
        try:
            sfn.stop_execution(
                executionArn=execution_arn(state_machine_arn, video.video_id, video.attempt),
                error="Timeout",
                cause="stuck video reaped by the maintenance job",
            )
            stopped += 1
        except Exception as exc:
            logger.warning(
                "StopExecution failed",
                extra={"video_id": str(video.video_id), "error": type(exc).__name__},
            )
    return stopped


# ---------------------------------------------------------------------------- accounts


def unlock_accounts(session: Session, *, now: datetime | None = None) -> int:
    """Clear ``locked_until`` (and the failed-login counter) once the lock has passed."""
    moment = now or clock.utcnow()
    result = session.execute(
        update(User)
        .where(User.locked_until.is_not(None), User.locked_until <= moment)
        .values(locked_until=None, failed_login_attempts=0)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


# ---------------------------------------------------------------------------- S3


def delete_orphan_media(
    session: Session,
    s3: Any,
    bucket: str,
    *,
    max_keys: int = 1000,
    start_after: str | None = None,
) -> tuple[int, str | None]:
    """Delete objects under ``users/<user>/videos/<video>/`` whose video row is gone.

    Scans at most ``max_keys`` keys from ``start_after``; returns (objects deleted, the key to
    continue after, or None when the listing is complete).
    """
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": "users/", "MaxKeys": max_keys}
    if start_after:
        kwargs["StartAfter"] = start_after
    listing = s3.list_objects_v2(**kwargs)
    contents = listing.get("Contents", [])
    by_video: dict[uuid.UUID, list[str]] = {}
    for obj in contents:
        parts = obj["Key"].split("/")
        if len(parts) >= 5 and parts[0] == "users" and parts[2] == "videos":
            try:
                by_video.setdefault(uuid.UUID(parts[3]), []).append(obj["Key"])
            except ValueError:
                continue
    deleted = 0
    if by_video:
        existing = set(session.scalars(select(Video.id).where(Video.id.in_(list(by_video)))))
        doomed = [k for vid, keys in by_video.items() if vid not in existing for k in keys]
        for i in range(0, len(doomed), 1000):
            chunk = doomed[i : i + 1000]
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
            deleted += len(chunk)
    more = listing.get("IsTruncated") and contents
    return deleted, (contents[-1]["Key"] if more else None)
