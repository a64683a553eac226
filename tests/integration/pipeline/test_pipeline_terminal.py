"""A cancelled or failed video is never touched again: no provider request, no S3 write, its
steps closed, and the files written for it before the end removed.

moto runs the real ASL, the fake Freepik answers at the HTTP layer, signed webhooks go through
the real webhook handler, and every S3 write of the process is counted on the boto3 client.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ecomvideo.clients import aws as aws_clients
from ecomvideo.enums import VideoStatus
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.services import media_store
from ecomvideo.settings import reset_settings
from tests.fakes.freepik_fake import freepik_configured
from tests.integration.pipeline.test_pipeline_freepik import _create, _video, webhook
from tests.support.factories import make_grant, make_user
from tests.support.pipeline_stack import PipelineStack, call
from tests.support.scheduled import invoke_scheduled

INTERVAL = 1.0
S3_WRITES = ("PutObject", "CreateMultipartUpload", "UploadPart", "CopyObject")


@pytest.fixture
def freepik_stack(aws, monkeypatch) -> Iterator[tuple[PipelineStack, object, list[str]]]:
    """The stack, the fake Freepik and the list of S3 writes (operation names) made since."""
    monkeypatch.setenv("PROVIDER_POLL_INTERVALS", str(INTERVAL))
    stack = PipelineStack()
    writes: list[str] = []

    def count(model, **_kwargs):
        writes.append(model.name)

    try:
        with freepik_configured(monkeypatch) as state:
            client = aws_clients.s3()  # the one client of the process (worker and API)
            for operation in S3_WRITES:
                client.meta.events.register(f"before-call.s3.{operation}", count)
            yield stack, state, writes
    finally:
        stack.close()
        reset_settings()


def _objects(stack: PipelineStack, user_id, video_id) -> list[str]:
    prefix = media_store.media_prefix(user_id, uuid.UUID(str(video_id)))
    listing = stack.s3.list_objects_v2(Bucket=stack.videos_bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def _open_steps(session, video_id) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(PipelineStep.step).where(
                PipelineStep.video_id == uuid.UUID(str(video_id)),
                PipelineStep.state.in_(("Queued", "Starting", "Started")),
            )
        )
    )


def _drive(stack, freepik, until, *, finish=("image",), timeout=30.0) -> None:
    """Feed the worker, finish Freepik tasks of the kinds in ``finish`` and deliver their
    webhooks until ``until()``."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "did not get there in time"
        messages = stack.receive()
        if messages:
            stack.deliver(messages)
        for task_id, task in list(freepik.tasks.items()):
            if task.status == "CREATED" and task.kind in finish:
                freepik.complete(task_id)
        for delivery in freepik.pop_outbox():
            assert webhook(delivery)[0] == 200
        time.sleep(0.05)


def _settle(stack, seconds: float) -> None:
    """Keep feeding the worker for a while (several poll intervals)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        messages = stack.receive()
        if messages:
            stack.deliver(messages)
        time.sleep(0.05)


def _waiting_on_the_video_task(session, stack, freepik):
    """A Freepik video whose image step is done (its still stored) and whose video task runs."""
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)
    _drive(stack, freepik, lambda: any(t.kind == "video" for t in freepik.tasks.values()))
    assert any("/work/a1-image." in key for key in _objects(stack, user.id, video_id))
    return user, video_id


def _run_jobs() -> None:
    run = invoke_scheduled("jobs_worker", {"batch_size": 10, "max_jobs": 20}, timeout_s=120)
    assert run["failed"] == 0


def test_cancel_removes_the_files_written_so_far_and_nothing_is_requested_or_written_after(
    session, freepik_stack
):
    stack, freepik, writes = freepik_stack
    user, video_id = _waiting_on_the_video_task(session, stack, freepik)

    status, body, _ = call("videos", "POST", f"/v1/videos/{video_id}/cancel", user_id=user.id)
    assert status == 200, body
    calls_at_cancel, writes_at_cancel = len(freepik.calls), len(writes)
    for task_id, task in list(freepik.tasks.items()):
        if task.status != "COMPLETED":
            freepik.complete(task_id)  # the cancelled video's task finishes anyway
    for delivery in freepik.pop_outbox():
        assert webhook(delivery)[0] == 200  # its late webhook is accepted and ignored
    _settle(stack, 3 * INTERVAL + 1)

    assert freepik.calls[calls_at_cancel:] == []  # no poll, no download
    assert writes[writes_at_cancel:] == []  # no S3 write
    assert _objects(stack, user.id, video_id) != []  # queued with the cancel (media.purge)
    _run_jobs()
    assert _objects(stack, user.id, video_id) == []  # the generated still is gone too
    assert _open_steps(session, video_id) == []
    assert _video(session, video_id).status is VideoStatus.CANCELLED


def test_a_cancel_during_the_providers_download_leaves_no_file(session, freepik_stack):
    stack, freepik, writes = freepik_stack
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)
    serve = freepik.asset_bytes
    cancelled_at: list[int] = []

    def cancel_while_downloading(kind: str) -> bytes:
        if kind == "videos":  # the user cancels while the worker copies the finished video
            status, _, _ = call("videos", "POST", f"/v1/videos/{video_id}/cancel", user_id=user.id)
            assert status == 200
            cancelled_at.append(len(writes))
        return serve(kind)

    freepik.asset_bytes = cancel_while_downloading
    _drive(stack, freepik, lambda: bool(cancelled_at), finish=("image", "video"))
    _settle(stack, 2 * INTERVAL)

    assert writes[cancelled_at[0] :] == []  # the downloaded render was not stored
    _run_jobs()  # the cancel's media.purge
    assert _objects(stack, user.id, video_id) == []
    assert _open_steps(session, video_id) == []
    assert _video(session, video_id).status is VideoStatus.CANCELLED


def test_a_failed_video_has_its_steps_closed_and_its_work_files_removed(session, freepik_stack):
    stack, freepik, _writes = freepik_stack
    user, video_id = _waiting_on_the_video_task(session, stack, freepik)

    for task_id, task in list(freepik.tasks.items()):
        if task.kind == "video":
            freepik.fail(task_id, "content policy")
    _drive(stack, freepik, lambda: _video(session, video_id).status.is_terminal)
    _settle(stack, INTERVAL)

    video = _video(session, video_id)
    assert video.status is VideoStatus.FAILED
    assert "Freepik" not in (video.error_message or "")
    assert _objects(stack, user.id, video_id) == []
    assert _open_steps(session, video_id) == []
