"""Notification emails go through the job queue and respect the user's settings and locale."""

from __future__ import annotations

from datetime import datetime

import pytest

from ecomvideo.models import NotificationSettings, UserPreferences
from ecomvideo.services import jobs, notifications
from tests.support.factories import make_user, make_video


def _drain() -> None:
    jobs.work(job_types=[notifications.JOB_TYPE])


def test_video_completed_email_is_localised_in_the_users_zone(session, ses):
    user = make_user(session, first_name="Anna")
    session.add(
        UserPreferences(
            user_id=user.id,
            preferred_language="de-DE",
            timezone="Europe/Berlin",
            date_format="DD/MM/YYYY",
            time_format="24h",
        )
    )
    video = make_video(session, user, title="Sneaker", status="Completed")
    notifications.on_video_finished(session, video)
    _drain()
    (mail,) = ses.sent
    assert mail["Message"]["Subject"]["Data"] == 'Ihr Video "Sneaker" ist fertig'
    text = mail["Message"]["Body"]["Text"]["Data"]
    assert "Hallo Anna" in text and "15/06/2030 14:00 (Europe/Berlin)" in text
    assert f"/videos/{video.id}" in text


@pytest.mark.parametrize(
    "settings,prefs",
    [
        ({"video_failed": False}, {}),
        ({"email_enabled": False}, {}),
        ({}, {"email_notifications_enabled": False}),
    ],
)
def test_disabled_notifications_are_not_sent(session, ses, settings, prefs):
    user = make_user(session)
    session.add(NotificationSettings(user_id=user.id, **settings))
    session.add(UserPreferences(user_id=user.id, **prefs))
    video = make_video(session, user, status="Failed", error_message="provider down")
    notifications.on_video_finished(session, video)
    run = jobs.work(job_types=[notifications.JOB_TYPE])
    assert ses.sent == []
    assert run.completed == 1  # skipped, not failed


def test_weekly_digest_is_queued_once_per_week_for_users_who_want_it(session, ses):
    keen, opted_out = make_user(session), make_user(session)
    session.add(NotificationSettings(user_id=opted_out.id, weekly_digest=False))
    for user in (keen, opted_out):
        make_video(session, user, created_at=datetime(2030, 6, 12))
    assert notifications.enqueue_weekly_digests(session) >= 1
    assert notifications.enqueue_weekly_digests(session) == 0
    _drain()
    recipients = [m["Destination"]["ToAddresses"][0] for m in ses.sent]
    assert keen.email in recipients and opted_out.email not in recipients
