"""Asynchronous providers: webhooks, polls and timeouts resume the waiting step.

The Freepik webhook only queues a ``ResumeProviderTask`` message; the worker polls the task,
copies the finished asset and resumes the execution (``resume_provider_task``). Scheduled
polls (``poll_provider_task``), the polling sweep (``stalled_provider_tasks``) and the state
machine's PollProvider fallback (``poll_waiting_step``) end there too. Terminal videos are
never polled or downloaded again: their steps are closed instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.errors import ProviderError
from ecomvideo.models import FreepikWebhookEvent, Video
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.observability import logger, metrics
from ecomvideo.services.pipeline import assets, messages, rows, timers
from ecomvideo.services.pipeline.messages import StepMessage, take_token
from ecomvideo.services.pipeline.results import VideoNotActive, provider_named
from ecomvideo.services.pipeline.timers import RESUME_MESSAGE
from ecomvideo.services.video_access import current_attempt
from ecomvideo.services.video_lifecycle import (
    IMAGE,
    TIMEOUT_MESSAGE,
    StepState,
    close_row,
)
from ecomvideo.settings import get_settings


def record_task_progress(provider_task_id: str, progress: int) -> str:
    """A provider's non-terminal webhook: raise the waiting step's provider progress (never
    lowers it, see ``record_provider_progress``). Returns ``progress`` or ``unknown``."""
    with transaction() as session:
        row = rows.for_task(session, provider_task_id)
        if row is None:
            return "unknown"
        key = (row.video_id, row.attempt, row.step)
    rows.record_provider_progress(key, progress)
    return "progress"


def _waiting(session: Session, provider_task_id: str) -> tuple[Any, Video | None, str]:
    """The step waiting on the task and its video, or why there is nothing to resume:
    ``unknown`` (no step has the task) or ``done`` (the step already ended)."""
    row = rows.for_task(session, provider_task_id)
    if row is None:
        return None, None, "unknown"
    if row.state in (StepState.DONE, StepState.FAILED):
        return row, None, "done"
    return row, session.get(Video, row.video_id), ""


def queue_provider_resume(provider_task_id: str) -> str:
    """The Freepik webhook's path: hand the poll and the asset download to the pipeline worker.

    The webhook answers at once (a large MP4 copied inside the HTTP request could outlast API
    Gateway's 30 s) and SQS retries a failed resume. Returns ``unknown`` (no step waits on the
    task), ``done`` (already resumed) or ``queued``.
    """
    with transaction() as session:
        _row, video, ended = _waiting(session, provider_task_id)
        if ended:
            return ended
        request = ((video.meta or {}).get("request") or {}) if video else {}
    queue_url = get_settings().pipeline_queue_url
    if not queue_url:
        raise RuntimeError("PIPELINE_QUEUE_URL is not set")
    message = {
        "kind": RESUME_MESSAGE,
        "taskId": provider_task_id,
        "correlationId": request.get("correlationId"),
        "triggerId": logger.get_correlation_id(),
    }
    aws.sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
    return "queued"


def resume_provider_task(provider_task_id: str) -> str:
    """Poll the provider task a step waits on and resume the execution when it is done.

    Run by the pipeline worker for a webhook's ``ResumeProviderTask`` message and by the polling
    sweep (lost webhooks). Returns
    ``unknown`` (no step waits on it), ``done`` (already resumed), ``pending`` (still
    running), ``completed`` or ``failed``. Idempotent.
    """
    with transaction() as session:
        row, video, ended = _waiting(session, provider_task_id)
        if ended:
            return ended
        if video is None:
            return "unknown"
        if video.status.is_terminal or current_attempt(video) != row.attempt:
            close_row(row, f"The video is {video.status}.")
            return "closed"  # cancelled/failed/superseded: never polled or downloaded again
        video_id, attempt, step = row.video_id, row.attempt, row.step
        provider_name = row.provider
        started = dict((row.output or {}).get("started") or {})
        session.expunge(video)
    with correlated(video):
        outcome = _resume(
            video, provider_task_id, provider_name, started, (video_id, attempt, step)
        )
        logger.info(
            "provider task resumed", extra={"task_id": provider_task_id, "outcome": outcome}
        )
        return outcome


def _resume(
    video: Video,
    provider_task_id: str,
    provider_name: str | None,
    started: dict[str, Any],
    key: tuple[uuid.UUID, int, str],
) -> str:
    video_id, attempt, step = key
    provider = provider_named(provider_name)
    # Poll with the model the task was started with (its status path depends on it).
    options = (
        {"model": started["model"]}
        if started.get("model") and getattr(provider, "configurable_models", False)
        else {}
    )
    try:
        poll = provider.poll_image if step == IMAGE else provider.poll_video
        result = poll(provider_task_id, **options)
    except ProviderError as exc:
        if getattr(exc, "retryable", False):
            raise
        code = str(getattr(exc, "code", type(exc).__name__))
        return rows.fail_step(video_id, attempt, step, exc.detail, error=f"Provider.{code}")
    if not result.is_completed:
        # No heartbeat: the waits have plain timeouts, and on one the PollProvider state polls.
        rows.record_provider_progress(key, result.progress)
        return "pending"
    try:
        output = assets.store_provider_asset(video, attempt, step, result)
    except VideoNotActive as exc:
        rows.close_step(key, exc.message)
        return "closed"
    return rows.complete_step(video_id, attempt, step, output)


@contextmanager
def correlated(video: Video) -> Iterator[None]:
    """Log under the correlation id of the request that started the video's current attempt.

    Provider webhooks and the polling sweep arrive as invocations of their own: their own id
    is kept as ``trigger_id`` meanwhile, and both are restored afterwards (the sweep resumes
    many videos in one invocation)."""
    previous = logger.get_correlation_id()
    origin = ((video.meta or {}).get("request") or {}).get("correlationId")
    keys = {"video_id": str(video.id)}
    if origin and previous and previous != origin:
        keys["trigger_id"] = previous
    logger.append_keys(**keys)
    if origin:
        logger.set_correlation_id(origin)
    try:
        yield
    finally:
        logger.set_correlation_id(previous)
        logger.remove_keys(list(keys))


def poll_provider_task(provider_task_id: str, poll: int | None) -> str:
    """One poll of the task's backoff schedule (``poll`` None: the sweep's catch-up poll).

    A scheduled poll whose number is not the step's current one belongs to a superseded chain
    and is dropped, so there is at most one chain per task. Still running -> the next poll is
    scheduled (interval n+1); finished -> resumed like a webhook; terminal video -> closed.
    """
    with transaction() as session:
        row = session.scalar(
            select(PipelineStep)
            .where(PipelineStep.provider_task_id == provider_task_id)
            .with_for_update()
        )
        if row is None:
            return "unknown"
        if row.state != StepState.STARTED:
            return "done"
        if poll is not None and poll != row.polls:
            return "superseded"
    outcome = resume_provider_task(provider_task_id)
    if outcome == "pending":
        with transaction() as session:
            row = session.scalar(
                select(PipelineStep)
                .where(PipelineStep.provider_task_id == provider_task_id)
                .with_for_update()
            )
            if row is None or row.state != StepState.STARTED:
                return outcome
            row.polls = (row.polls or 0) + 1
            row.next_poll_at = clock.utcnow() + timedelta(seconds=timers.poll_interval(row.polls))
            following = row.polls
        timers.send_poll(provider_task_id, following)
    return outcome


def apply_parked_webhook(provider_task_id: str) -> None:
    """A terminal webhook that arrived before the task id was committed was recorded (parked)
    as unknown: re-apply it now (the webhook side re-checks too, see freepik_webhooks)."""
    with transaction() as session:
        parked = session.scalar(
            select(FreepikWebhookEvent.webhook_id)
            .where(
                FreepikWebhookEvent.task_id == provider_task_id,
                FreepikWebhookEvent.status.in_(("COMPLETED", "FAILED")),
            )
            .limit(1)
        )
    if parked is not None:
        logger.info("re-applying a parked webhook", extra={"task_id": provider_task_id})
        queue_provider_resume(provider_task_id)


def stalled_provider_tasks(
    session: Session, *, older_than_minutes: int, limit: int = 100
) -> list[str]:
    """Provider task ids whose scheduled poll is overdue by the threshold (its delayed poll
    message was lost), most overdue first: ordered by due time, not age, so closed or stale
    rows cannot starve the ones that need a poll."""
    due = func.coalesce(PipelineStep.next_poll_at, PipelineStep.started_at)
    cutoff = clock.utcnow() - timedelta(minutes=older_than_minutes)
    return list(
        session.scalars(
            select(PipelineStep.provider_task_id)
            .where(
                PipelineStep.state == StepState.STARTED,
                PipelineStep.provider_task_id.is_not(None),
                due <= cutoff,
            )
            .order_by(due)
            .limit(limit)
        )
    )


def poll_waiting_step(message: StepMessage) -> str:
    """The state machine's fallback when a provider step's wait timed out (lost webhook).

    The PollProvider task's token replaces the timed-out one on the waiting step's row, so a
    webhook arriving now resumes this wait. Then the provider is polled: finished -> resume
    (``complete_step``), failed -> ``fail_step``, still running -> wait again (the state
    machine loops back here on the next timeout) until ``provider_max_wait_minutes`` after the
    step started, when the video fails as too slow. A step with no provider task yet (a slow
    synchronous render, a backlog) just waits again: its completion uses the new token.
    """
    step = str(message.waiting_step)
    with transaction() as session:
        video = session.get(Video, message.video_id, with_for_update=True)
        row = session.get(
            PipelineStep, (message.video_id, message.attempt, step), with_for_update=True
        )
        if video is None or current_attempt(video) != message.attempt or video.status.is_terminal:
            verdict, text = "skip", "The video is no longer active."
        elif row is None or row.state == StepState.FAILED:
            verdict, text = "fail", (row.error if row else None) or TIMEOUT_MESSAGE
        elif row.state == StepState.DONE:
            verdict, text = "done", ""
        else:
            # Whoever finishes the step next (webhook, poll, a slow synchronous worker)
            # resumes the execution through this token.
            verdict, text = ("poll" if row.provider_task_id else "wait"), ""
            take_token(row, message)
        output = dict(row.output or {}) if row is not None else {}
        task_id = row.provider_task_id if row is not None else None
        started_at = (row.started_at if row is not None else None) or (
            video.created_at if video is not None else None
        )
    if verdict == "skip":
        messages.send_failure(message.task_token, "VideoNotActive", text)
        return "skipped"
    if verdict == "fail":
        messages.send_failure(message.task_token, "Provider.Timeout", text)
        return "failed"
    if verdict == "done":
        messages.send_success(message.task_token, output)
        return "replayed"
    if verdict == "poll":
        metrics.add_metric(name="ProviderPollFallbacks", unit="Count", value=1)
        outcome = resume_provider_task(str(task_id))
        if outcome != "pending":
            return outcome
    limit = timedelta(minutes=get_settings().provider_max_wait_minutes)
    if started_at is not None and clock.utcnow() - started_at >= limit:
        return rows.fail_step(
            message.video_id, message.attempt, step, TIMEOUT_MESSAGE, error="Provider.Timeout"
        )
    return "waiting"
