"""The media.purge job through the jobs worker (EventBridge schedule event), on moto S3:
paginated and bounded per run, idempotent, tolerant of missing keys, retried on S3 failures,
and never outside a user's or a public copy's prefix."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import Stubber
from sqlalchemy import select

from ecomvideo import clock
from ecomvideo.clients import aws as aws_clients
from ecomvideo.enums import JobStatus
from ecomvideo.models import BackgroundJob
from ecomvideo.services import jobs, media_purge, media_store
from tests.support.scheduled import invoke_scheduled
from tests.support.storage import UPLOADS_BUCKET, VIDEOS_BUCKET, media_buckets, put, stored

RUN = {"batch_size": 10, "max_jobs": 200}


@pytest.fixture
def s3(aws):  # aws: the moto fixture
    with media_buckets() as client:
        yield client


@pytest.fixture(autouse=True)
def _clock():
    clock.freeze(datetime.now(UTC))
    yield
    clock.unfreeze()


def _jobs(session) -> list[BackgroundJob]:
    session.expire_all()
    query = select(BackgroundJob).where(BackgroundJob.job_type == media_purge.JOB_TYPE)
    return list(session.scalars(query.order_by(BackgroundJob.created_at)))


def _user_prefix() -> str:
    return f"users/{uuid.uuid4()}/"


def test_many_objects_are_deleted_page_by_page_in_bounded_runs(session, s3, monkeypatch):
    monkeypatch.setattr(media_purge, "PAGE_SIZE", 10)
    monkeypatch.setattr(media_purge, "MAX_OBJECTS_PER_RUN", 25)
    prefix = _user_prefix()
    put(s3, VIDEOS_BUCKET, *(f"{prefix}videos/{uuid.uuid4()}/work/a1-{n}" for n in range(60)))
    put(s3, UPLOADS_BUCKET, *(f"{prefix}{n}.jpg" for n in range(7)))
    kept = put(s3, VIDEOS_BUCKET, f"{_user_prefix()}videos/x/video.mp4")
    media_purge.enqueue(session, [("videos", prefix), ("uploads", prefix)], reason="test")

    run = invoke_scheduled("jobs_worker", RUN, timeout_s=120)

    assert stored(s3) == kept
    done = _jobs(session)
    assert len(done) == 3  # 30 + 30 deleted, then the uploads: each run ends near 25
    assert {j.status for j in done} == {JobStatus.COMPLETED} and run["failed"] == 0


def test_purging_what_is_already_gone_completes(session, s3):
    prefix = _user_prefix()
    put(s3, VIDEOS_BUCKET, f"{prefix}videos/v/video.mp4")
    for _ in range(2):  # the same purge twice: the second finds nothing
        media_purge.enqueue(session, [("videos", prefix), ("uploads", prefix)], reason="test")
    invoke_scheduled("jobs_worker", RUN, timeout_s=120)

    assert stored(s3) == set()
    assert [j.status for j in _jobs(session)] == [JobStatus.COMPLETED] * 2


def test_an_s3_failure_keeps_the_job_and_a_later_run_finishes_it(session, aws):
    prefix = _user_prefix()
    media_purge.enqueue(session, [("videos", prefix)], reason="test")

    invoke_scheduled("jobs_worker", RUN, timeout_s=120)  # no bucket yet: NoSuchBucket
    (job,) = _jobs(session)
    assert job.status is JobStatus.PENDING and job.attempts == 1
    assert "NoSuchBucket" in job.error_message

    with media_buckets() as s3:
        put(s3, VIDEOS_BUCKET, f"{prefix}videos/v/video.mp4")
        clock.advance(jobs.backoff(1) + timedelta(seconds=1))
        invoke_scheduled("jobs_worker", RUN, timeout_s=120)
        assert stored(s3) == set()
    assert [j.status for j in _jobs(session)] == [JobStatus.COMPLETED]


def test_keys_s3_refuses_inside_a_200_answer_fail_the_deletion(s3):
    client = aws_clients.s3()
    with Stubber(client) as stub:
        refused = {"Errors": [{"Key": "users/k", "Code": "AccessDenied", "Message": "no"}]}
        stub.add_response("delete_objects", refused)
        with pytest.raises(media_store.StorageError, match="AccessDenied"):
            media_store.remove_keys(VIDEOS_BUCKET, ["users/k"])


@pytest.mark.parametrize(
    "target",
    [
        ("videos", ""),
        ("videos", "users/"),
        ("videos", "users/not-a-uuid/"),
        ("videos", f"users/{uuid.uuid4()}/../"),
        ("videos", "public/"),
        ("logs", f"users/{uuid.uuid4()}/"),
    ],
)
def test_a_purge_outside_a_user_or_public_copy_prefix_is_refused(session, s3, target):
    everything = put(s3, VIDEOS_BUCKET, f"{_user_prefix()}videos/v/video.mp4", "public/ab/v.mp4")
    with pytest.raises(ValueError, match="refusing"):
        media_purge.enqueue(session, [target], reason="test")
    # A job written some other way is refused by the worker too, before any deletion.
    jobs.enqueue(session, media_purge.JOB_TYPE, {"targets": [list(target)]})

    invoke_scheduled("jobs_worker", RUN, timeout_s=120)

    assert stored(s3) == everything
    (job,) = _jobs(session)
    assert job.status is not JobStatus.COMPLETED and "refusing" in job.error_message
