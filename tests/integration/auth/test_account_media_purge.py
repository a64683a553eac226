"""Deleting an account deletes its stored files: every video's final file, extra formats,
thumbnails, scene segments, work files, the user's uploads and the public copies of shared
videos; through DELETE /v1/me (API Gateway v2 event) and the jobs worker (EventBridge)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecomvideo.enums import JobStatus, VideoStatus
from ecomvideo.models import BackgroundJob
from ecomvideo.services import media_purge
from tests.support.accounts import PASSWORD, signed_in
from tests.support.factories import make_user, make_video
from tests.support.scheduled import invoke_scheduled
from tests.support.storage import UPLOADS_BUCKET, VIDEOS_BUCKET, media_buckets, put, stored

VIDEO_FILES = (
    "video.mp4",
    "thumbnail.jpg",
    "video-1x1.mp4",
    "thumbnail-1x1.jpg",
    "work/segments/0-3f2a.mp4",
    "work/a1-still.png",
    "work/a2-render.mp4",
)


@pytest.fixture
def s3(mailbox):  # mailbox: inside mock_aws
    with media_buckets() as client:
        yield client


def _store_everything_of(s3, session, user, public_key: str) -> set[tuple[str, str]]:
    shared = make_video(session, user, status=VideoStatus.COMPLETED)
    shared.meta = {"public_media_key": public_key}
    running = make_video(session, user, status=VideoStatus.GENERATING_VIDEO)
    session.flush()
    objects: set[tuple[str, str]] = set()
    for video in (shared, running):
        base = f"users/{user.id}/videos/{video.id}/"
        objects |= put(s3, VIDEOS_BUCKET, *(base + name for name in VIDEO_FILES))
    objects |= put(s3, UPLOADS_BUCKET, f"users/{user.id}/a1.jpg", f"users/{user.id}/b2.png")
    objects |= put(s3, VIDEOS_BUCKET, f"public/{public_key}/video.mp4")
    return objects | put(s3, VIDEOS_BUCKET, f"public/{public_key}/thumbnail.jpg")


def _purge_jobs(session) -> list[BackgroundJob]:
    session.expire_all()
    query = select(BackgroundJob).where(BackgroundJob.job_type == media_purge.JOB_TYPE)
    return list(session.scalars(query))


def test_deleting_an_account_deletes_all_its_stored_files_and_nothing_else(api, session, s3):
    user, tokens = signed_in(api, session, "leaving@example.com")
    theirs = _store_everything_of(s3, session, user, "a1" * 20)
    other = make_user(session)
    kept = _store_everything_of(s3, session, other, "b2" * 20)

    deleted = api.call(
        "account", "DELETE", "/v1/me", {"password": PASSWORD}, token=tokens["access_token"]
    )
    assert deleted.status == 204

    # Queued with the deletion; the files go when the jobs worker runs.
    (job,) = _purge_jobs(session)
    assert job.status is JobStatus.PENDING and stored(s3) == theirs | kept
    run = invoke_scheduled("jobs_worker", {"batch_size": 10, "max_jobs": 200}, timeout_s=120)

    assert run["failed"] == 0
    assert stored(s3) == kept
    assert [j.status for j in _purge_jobs(session)] == [JobStatus.COMPLETED]


def test_a_refused_deletion_queues_no_purge_and_keeps_the_files(api, session, s3):
    user, tokens = signed_in(api, session, "staying@example.com")
    theirs = _store_everything_of(s3, session, user, "c3" * 20)

    refused = api.call(
        "account", "DELETE", "/v1/me", {"password": "not my password"}, token=tokens["access_token"]
    )
    assert refused.status == 403
    invoke_scheduled("jobs_worker", {"batch_size": 10, "max_jobs": 200}, timeout_s=120)

    assert _purge_jobs(session) == []
    assert stored(s3) == theirs
