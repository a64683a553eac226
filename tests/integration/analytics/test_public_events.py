"""Public view/download/share/like events through the real public handler and the consumer."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select

from devserver.events import sqs_event
from ecomvideo import clock
from ecomvideo.models import User, Video, VideoAnalytics
from ecomvideo.models.rollups import VideoAnalyticsDaily
from ecomvideo.services import system_settings
from tests.support.engagement import BOT_UA, api, completed_video, token_for
from tests.support.factories import make_user
from tests.support.lambda_handlers import context, load_handler_module

# Tokens are checked against real time, so freeze close to it.
NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    yield
    clock.unfreeze()


def _event(client, video_id, event_type="View", **extra):
    body = {"event_type": event_type, **extra}
    return client.call("public", "POST", f"/v1/public/videos/{video_id}/events", body)


def _counts(session, video_id):
    session.expire_all()
    video = session.get(Video, video_id)
    raw = session.scalar(
        select(func.count()).select_from(VideoAnalytics).where(VideoAnalytics.video_id == video_id)
    )
    return video.view_count, raw


def test_bot_views_are_recorded_but_not_counted(session):
    video = completed_video(session, is_public=True)
    assert _event(api(user_agent=BOT_UA), video.id, session_id="bot-session-1").status == 202
    assert _event(api(user_agent=""), video.id, session_id="empty-agent-1").status == 202
    assert _event(api(), video.id, session_id="human-session-1").status == 202
    assert _counts(session, video.id) == (1, 3)
    bot_row = session.scalars(
        select(VideoAnalytics).where(VideoAnalytics.user_agent == BOT_UA)
    ).one()
    assert bot_row.meta == {"counted": False, "bot": True}
    total = session.scalars(
        select(VideoAnalyticsDaily).where(
            VideoAnalyticsDaily.video_id == video.id, VideoAnalyticsDaily.dimension == "total"
        )
    ).one()
    assert (total.events, total.counted, total.bots) == (3, 1, 2)


def test_one_view_per_session_per_30_minutes(session):
    video = completed_video(session, is_public=True)
    client = api()
    for _ in range(3):
        _event(client, video.id, session_id="session-aaaa-1")
    assert _counts(session, video.id) == (1, 3)

    _event(client, video.id, session_id="session-bbbb-2")  # another viewer
    assert _counts(session, video.id) == (2, 4)

    clock.advance(timedelta(minutes=29, seconds=59))
    _event(client, video.id, session_id="session-aaaa-1")
    assert _counts(session, video.id) == (2, 5)
    clock.advance(timedelta(minutes=30))
    _event(client, video.id, session_id="session-aaaa-1")
    assert _counts(session, video.id) == (3, 6)

    # Without a session id the viewer is IP + user agent
    _event(client, video.id)
    _event(client, video.id)
    assert _counts(session, video.id) == (4, 8)
    # Downloads are not deduplicated: each is a real download
    _event(client, video.id, "Download", session_id="session-aaaa-1")
    _event(client, video.id, "Download", session_id="session-aaaa-1")
    session.expire_all()
    assert session.get(Video, video.id).download_count == 2


def test_ip_is_anonymised_by_default_and_details_are_parsed(session):
    video = completed_video(session, is_public=True)
    _event(
        api(source_ip="198.51.100.77"),
        video.id,
        session_id="v4-session-1",
        referrer="https://www.instagram.com/",
    )
    _event(api(source_ip="2001:db8:abcd:12:1:2:3:4"), video.id, session_id="v6-session-1")
    stored = dict(
        session.execute(
            select(VideoAnalytics.session_id, VideoAnalytics.ip_address).where(
                VideoAnalytics.video_id == video.id
            )
        ).all()
    )
    assert str(stored["v4-session-1"]) == "198.51.100.0"
    assert str(stored["v6-session-1"]) == "2001:db8:abcd::"
    row = session.scalars(
        select(VideoAnalytics).where(VideoAnalytics.session_id == "v4-session-1")
    ).one()
    assert (str(row.device_type), row.browser, row.os) == ("Mobile", "Safari", "iOS")
    assert row.referrer == "https://www.instagram.com/"
    assert row.created_at == NOW


def test_full_ip_kept_when_anonymisation_is_off(session):
    system_settings.update(
        session, "analytics.ip_anonymization", False, updated_by="test", data_type="boolean"
    )
    system_settings.clear_cache()
    try:
        video = completed_video(session, is_public=True)
        _event(api(source_ip="198.51.100.77"), video.id, session_id="full-ip-session")
        ip = session.scalar(
            select(VideoAnalytics.ip_address).where(VideoAnalytics.video_id == video.id)
        )
        assert str(ip) == "198.51.100.77"
    finally:
        system_settings.clear_cache()


def test_geo_headers_and_share_platform_are_recorded(session, jwt_env):
    owner = make_user(session)
    video = completed_video(session, owner)  # private: reachable through its link only
    client = api()
    share = client.call(
        "sharing",
        "POST",
        f"/v1/videos/{video.id}/shares",
        {"platform": "Pinterest"},
        token=token_for(owner.id),
    ).json()
    response = client.call(
        "public",
        "POST",
        f"/v1/public/videos/{share['slug']}/events",
        {"event_type": "View", "session_id": "geo-session-1", "platform": "Spoofed"},
        headers={"CloudFront-Viewer-Country": "de", "CloudFront-Viewer-City": "M%C3%BCnchen"},
    )
    assert response.status == 202
    row = session.scalars(select(VideoAnalytics).where(VideoAnalytics.video_id == video.id)).one()
    assert (row.country_code, row.city, row.platform) == ("DE", "München", "Pinterest")
    assert row.meta["share_id"] == share["id"]


def test_analytics_survive_viewer_account_deletion(session, jwt_env):
    video = completed_video(session, is_public=True)
    viewer = make_user(session)
    client = api()
    response = client.call(
        "public",
        "POST",
        f"/v1/public/videos/{video.id}/events",
        {"event_type": "Like", "session_id": "viewer-session-1"},
        headers={"authorization": f"Bearer {token_for(viewer.id)}"},
    )
    assert response.status == 202
    row_id = session.scalar(select(VideoAnalytics.id).where(VideoAnalytics.video_id == video.id))
    assert (
        session.scalar(select(VideoAnalytics.user_id).where(VideoAnalytics.id == row_id))
        == viewer.id
    )

    session.execute(delete(User).where(User.id == viewer.id))
    session.flush()
    session.expire_all()
    survivor = session.scalars(select(VideoAnalytics).where(VideoAnalytics.id == row_id)).one()
    assert survivor.user_id is None
    assert survivor.session_id == "viewer-session-1"


def test_invalid_token_is_ignored_and_bad_events_are_rejected(session, jwt_env):
    video = completed_video(session, is_public=True)
    client = api()
    ok = client.call(
        "public",
        "POST",
        f"/v1/public/videos/{video.id}/events",
        {"event_type": "View", "session_id": "anon-session-1"},
        headers={"authorization": "Bearer not-a-token"},
    )
    assert ok.status == 202
    assert (
        session.scalar(select(VideoAnalytics.user_id).where(VideoAnalytics.video_id == video.id))
        is None
    )
    assert _event(client, video.id, "Purchase").status == 422
    assert _event(client, video.id, duration_seconds=-5).status == 422


# ---------------------------------------------------------------- concurrency (real commits)


def _one_view(args: tuple[str, int]) -> int:
    """In a forked child: one public View event through the real handler."""
    from ecomvideo import db

    db.reset_engine()
    video_id, n = args
    client = api(source_ip=f"203.0.113.{n % 250}")
    return _event(client, video_id, session_id=f"concurrent-session-{n:04d}").status


def test_counts_are_exact_under_50_concurrent_views(fresh_db):
    from ecomvideo import db
    from ecomvideo.db import transaction

    with transaction() as s:
        video_id = completed_video(s, is_public=True).id
    load_handler_module("public")  # imported once, inherited by the children
    db.reset_engine()  # no parent connection may be shared with a child
    clock.unfreeze()  # the children record real time (one day, no dedup collisions)
    fork = multiprocessing.get_context("fork")
    with fork.Pool(50) as pool:
        statuses = pool.map(_one_view, [(str(video_id), n) for n in range(50)])
    assert statuses == [202] * 50
    with transaction() as s:
        assert s.get(Video, video_id).view_count == 50
        assert (
            s.scalar(
                select(func.count())
                .select_from(VideoAnalytics)
                .where(VideoAnalytics.video_id == video_id)
            )
            == 50
        )
        assert (
            s.scalar(
                select(func.sum(VideoAnalyticsDaily.counted)).where(
                    VideoAnalyticsDaily.video_id == video_id,
                    VideoAnalyticsDaily.dimension == "total",
                )
            )
            == 50
        )


# ---------------------------------------------------------------- queue path


def test_queue_path_with_partial_batch_failure(session, aws, monkeypatch):
    import boto3

    from ecomvideo.clients import aws as aws_clients
    from ecomvideo.services import analytics

    video = completed_video(session, is_public=True)
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="analytics-test")["QueueUrl"]
    aws_clients.reset_clients()
    public = load_handler_module("public")
    monkeypatch.setattr(
        public, "get_settings", lambda: SimpleNamespace(analytics_queue_url=queue_url)
    )
    client = api()
    for n in range(3):
        assert _event(client, video.id, session_id=f"queued-session-{n}").status == 202
    # Enqueued, not yet recorded
    assert _counts(session, video.id) == (0, 0)

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 3
    messages.append({"MessageId": "bad-1", "ReceiptHandle": "r", "Body": "{not json"})
    poison_session = json.loads(messages[0]["Body"])["session_id"]
    real_record = analytics.record

    def flaky(s, event):
        if event.session_id == poison_session:
            raise RuntimeError("database hiccup")
        return real_record(s, event)

    monkeypatch.setattr(analytics, "record", flaky)
    ingest = load_handler_module("analytics_ingest")
    event = sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:analytics-test", "us-east-1")
    result = ingest.lambda_handler(event, context("analytics_ingest"))

    # Only the failing record is retried; the malformed one is dropped, the rest committed
    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert _counts(session, video.id) == (2, 2)
    monkeypatch.setattr(analytics, "record", real_record)
    retry = sqs_event(messages[:1], "arn:aws:sqs:us-east-1:123456789012:analytics-test", "x")
    assert ingest.lambda_handler(retry, context("analytics_ingest")) == {"batchItemFailures": []}
    assert _counts(session, video.id) == (3, 3)
