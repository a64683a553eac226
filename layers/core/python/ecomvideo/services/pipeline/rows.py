"""The ``video_pipeline_steps`` bookkeeping: one row per (video, attempt, step).

Rows are locked (video first, then step) and updated *before* side effects, so a redelivered
message finds what was done; ``complete_step`` / ``fail_step`` are the entry points for
webhooks and polls too, and are idempotent.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.models import Video
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.observability import logger
from ecomvideo.services import media_store
from ecomvideo.services.pipeline import messages, timers
from ecomvideo.services.pipeline.messages import StepMessage
from ecomvideo.services.pipeline.results import Started, VideoNotActive
from ecomvideo.services.video_access import current_attempt
from ecomvideo.services.video_lifecycle import IMAGE, StepState, close_row
from ecomvideo.settings import get_settings


def ensure_active(video_id: uuid.UUID, attempt: int) -> None:
    """Raise ``VideoNotActive`` unless the video exists, is not terminal and runs ``attempt``:
    checked before every provider download and every S3 write, so a cancelled or failed video
    is never written to again (what a write in flight still leaves, its completion removes)."""
    with transaction() as session:
        video = session.get(Video, video_id)
        if video is None or video.status.is_terminal or current_attempt(video) != attempt:
            raise VideoNotActive()


def step_output(video_id: uuid.UUID, attempt: int, step: str) -> dict[str, Any] | None:
    with transaction() as session:
        row = session.get(PipelineStep, (video_id, attempt, step))
        return dict(row.output) if row is not None and row.output else None


def record_provider_progress(key: tuple[uuid.UUID, int, str], progress: int | None) -> None:
    """Keep the provider's reported progress on the waiting step, never lowering it (a late
    or repeated poll cannot move a video backwards)."""
    if progress is None:
        return
    with transaction() as session:
        row = session.get(PipelineStep, key, with_for_update=True)
        if row is None or row.state != StepState.STARTED:
            return
        output = dict(row.output or {})
        if int(progress) > int(output.get("provider_progress") or 0):
            row.output = {**output, "provider_progress": min(int(progress), 100)}


def lock_step(session: Session, message: StepMessage) -> tuple[PipelineStep, Video | None]:
    """Lock the video, then the step row (created on first sight). Always in this order."""
    video = session.get(Video, message.video_id, with_for_update=True)
    if video is not None:
        session.execute(
            insert(PipelineStep)
            .values(
                video_id=message.video_id,
                attempt=message.attempt,
                step=message.step,
                state=StepState.STARTING,
            )
            .on_conflict_do_nothing()
        )
    row = session.get(
        PipelineStep, (message.video_id, message.attempt, message.step), with_for_update=True
    )
    if row is None:  # the video is gone (deleted): a transient row, never flushed
        row = PipelineStep(state=StepState.FAILED)
    return row, video


def mark_done(row: PipelineStep, output: dict[str, Any]) -> None:
    row.state = StepState.DONE
    row.output = output
    row.completed_at = clock.utcnow()


def record_started(message: StepMessage, started: Started) -> None:
    with transaction() as session:
        row, video = lock_step(session, message)
        row.provider = started.provider
        row.provider_task_id = started.task_id
        # Until the step is Done, ``output`` keeps what polling needs (the model); the result
        # replaces it.
        row.output = {"started": started.options} if started.options else None
        # Polling starts with the task: a lost webhook costs at most one interval.
        row.polls = 0
        row.next_poll_at = clock.utcnow() + timedelta(seconds=timers.poll_interval(0))
        if video is not None and started.provider == "Freepik" and len(started.task_id) <= 100:
            # The spec's columns (unique partial indexes): support can find a video by task id.
            if message.step == IMAGE:
                video.freepik_image_task_id = started.task_id
            else:
                video.freepik_task_id = started.task_id


def reset_step(message: StepMessage) -> None:
    with transaction() as session:
        row, _video = lock_step(session, message)
        if row.state == StepState.STARTED and not row.provider_task_id:
            row.state = StepState.STARTING


def record_failure(message: StepMessage, text: str) -> None:
    with transaction() as session:
        row, video = lock_step(session, message)
        row.state = StepState.FAILED
        row.error = text
        if video is not None and not video.status.is_terminal:
            video.error_message = text


def complete_step(video_id: uuid.UUID, attempt: int, step: str, output: dict[str, Any]) -> str:
    """Record a step's result and resume the execution (the webhook/poll entry point too).

    Idempotent: a second call finds the step Done and only re-sends the stored output.
    """
    with transaction() as session:
        video = session.get(Video, video_id, with_for_update=True)
        row = session.get(PipelineStep, (video_id, attempt, step), with_for_update=True)
        if row is None or not row.task_token:
            logger.info("no waiting step", extra={"video_id": str(video_id), "step": step})
            return "unknown"
        token = row.task_token
        if video is None or video.status.is_terminal:
            cause = "The video is no longer active."
            active = False
            if row.state != StepState.DONE:
                close_row(row, cause)
        else:
            active = True
            if row.state != StepState.DONE:
                mark_done(row, output)
            output = dict(row.output or output)
    if not active:
        # What this step wrote while the video was cancelled/failed: work files only.
        written = [v for k, v in output.items() if k.endswith("Key") and isinstance(v, str)]
        media_store.delete_keys(get_settings().videos_bucket, [k for k in written if "/work/" in k])
        messages.send_failure(token, "VideoNotActive", cause)
        return "skipped"
    messages.send_success(token, output)
    return "completed"


def fail_step(video_id: uuid.UUID, attempt: int, step: str, text: str, *, error: str) -> str:
    """Fail a waiting step with a user-meaningful message (the webhook/poll entry point)."""
    with transaction() as session:
        video = session.get(Video, video_id, with_for_update=True)
        row = session.get(PipelineStep, (video_id, attempt, step), with_for_update=True)
        if row is None or not row.task_token or row.state == StepState.DONE:
            return "unknown"
        token = row.task_token
        row.state = StepState.FAILED
        row.error = text[:2000]
        if video is not None and not video.status.is_terminal:
            video.error_message = text[:2000]
    messages.send_failure(token, error, text)
    return "failed"


def for_task(session: Session, provider_task_id: str) -> PipelineStep | None:
    """The step waiting on a provider task (webhooks find their video this way)."""
    return session.scalar(
        select(PipelineStep).where(PipelineStep.provider_task_id == provider_task_id)
    )


def close_step(key: tuple[uuid.UUID, int, str], reason: str) -> None:
    """Close one step (its own transaction) unless it is already Done."""
    with transaction() as session:
        row = session.get(PipelineStep, key, with_for_update=True)
        if row is not None and row.state != StepState.DONE:
            close_row(row, reason)
