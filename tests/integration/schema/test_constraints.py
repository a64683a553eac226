"""The spec's business rules hold in the database itself, whatever code writes to it."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from ecomvideo.enums import AnalyticsEventType, SubscriptionStatus
from ecomvideo.models import (
    ApiUsage,
    NotificationSettings,
    RefreshToken,
    UserPreferences,
    UserSubscription,
    Video,
    VideoAnalytics,
    VideoShare,
    utcnow,
)
from tests.support.factories import make_grant, make_subscription, make_user, make_video


def _count(session, model, **where):
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return session.scalar(stmt)


def test_second_active_subscription_for_a_user_is_rejected(session):
    user = make_user(session)
    make_subscription(session, user, SubscriptionStatus.ACTIVE)
    with pytest.raises(IntegrityError, match="ux_user_subscriptions_one_active"):
        with session.begin_nested():
            make_subscription(session, user, SubscriptionStatus.TRIAL)


def test_cancelled_subscriptions_do_not_count_as_active(session):
    user = make_user(session)
    make_subscription(session, user, SubscriptionStatus.CANCELLED)
    make_subscription(session, user, SubscriptionStatus.EXPIRED)
    make_subscription(session, user, SubscriptionStatus.PAST_DUE)
    assert _count(session, UserSubscription, user_id=user.id) == 3


def test_used_amount_above_amount_is_rejected(session):
    user = make_user(session)
    grant = make_grant(session, user, 5)
    grant.used_amount = 6
    with pytest.raises(IntegrityError, match="ck_usage_credits_used_amount_range"):
        with session.begin_nested():
            session.flush()


def test_negative_used_amount_is_rejected(session):
    user = make_user(session)
    with pytest.raises(IntegrityError, match="ck_usage_credits_used_amount_range"):
        with session.begin_nested():
            make_grant(session, user, 5, used_amount=-1)


def test_unknown_enum_value_is_rejected_by_check_constraint(session):
    user = make_user(session)
    video = make_video(session, user)
    with pytest.raises(IntegrityError, match="ck_videos_status"), session.begin_nested():
        session.execute(
            text("UPDATE videos SET status = 'Exploded' WHERE id = :id"), {"id": video.id}
        )


def test_interest_level_must_be_between_1_and_5(session):
    user = make_user(session)
    with pytest.raises(IntegrityError, match="ck_user_interests_level_range"):
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO user_interests (user_id, category, level) VALUES (:u, 'Food', 6)"
                ),
                {"u": user.id},
            )


def test_email_is_unique_case_insensitively_because_it_is_stored_lower_case(session):
    make_user(session, email="ana@example.com")
    with pytest.raises(IntegrityError), session.begin_nested():
        make_user(session, email="Ana@Example.com")
    with pytest.raises(IntegrityError, match="uq_users_email"), session.begin_nested():
        make_user(session, email="ana@example.com")


def test_deleting_a_user_cascades_to_their_data(session):
    user = make_user(session)
    video = make_video(session, user)
    session.add_all(
        [
            RefreshToken(user_id=user.id, token=uuid.uuid4().hex, expires_at=utcnow()),
            UserPreferences(user_id=user.id),
            NotificationSettings(user_id=user.id),
            VideoShare(video_id=video.id, user_id=user.id, platform="TikTok"),
        ]
    )
    make_grant(session, user, 3)
    make_subscription(session, user)
    session.flush()
    user_id = user.id
    session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
    session.expire_all()
    for model in (Video, RefreshToken, UserPreferences, NotificationSettings, VideoShare):
        assert _count(session, model, user_id=user_id) == 0, model.__name__


def test_deleting_a_video_cascades_to_shares_and_analytics(session):
    user = make_user(session)
    video = make_video(session, user)
    session.add_all(
        [
            VideoShare(video_id=video.id, user_id=user.id, platform="Instagram"),
            VideoAnalytics(video_id=video.id, event_type=AnalyticsEventType.VIEW),
        ]
    )
    session.flush()
    session.execute(text("DELETE FROM videos WHERE id = :id"), {"id": video.id})
    assert _count(session, VideoShare, video_id=video.id) == 0
    assert _count(session, VideoAnalytics, video_id=video.id) == 0


def test_viewer_deletion_keeps_analytics_and_api_usage_with_null_user(session):
    owner = make_user(session)
    viewer = make_user(session)
    video = make_video(session, owner)
    event = VideoAnalytics(video_id=video.id, user_id=viewer.id, event_type=AnalyticsEventType.VIEW)
    usage = ApiUsage(user_id=viewer.id, endpoint="/v1/videos", method="GET", status_code=200)
    session.add_all([event, usage])
    session.flush()
    # Partitioned tables: the primary key is (id, created_at), see docs/decisions.md.
    event_key, usage_key = (event.id, event.created_at), (usage.id, usage.created_at)
    session.execute(text("DELETE FROM users WHERE id = :id"), {"id": viewer.id})
    session.expire_all()
    kept_event = session.get(VideoAnalytics, event_key)
    kept_usage = session.get(ApiUsage, usage_key)
    assert kept_event is not None and kept_event.user_id is None
    assert kept_usage is not None and kept_usage.user_id is None


def test_updated_at_is_maintained_on_update(session):
    user = make_user(session)
    assert user.updated_at is None
    time.sleep(0.01)
    session.execute(text("UPDATE users SET first_name = 'Zoe' WHERE id = :id"), {"id": user.id})
    session.refresh(user)
    assert user.updated_at is not None
    assert user.updated_at >= user.created_at
