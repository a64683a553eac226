"""Run one step message: ``handle`` (the pipeline worker's entry point for steps).

The step row is claimed first (``_begin``: replay what is Done, skip inactive videos, keep a
running provider task, queue behind the provider gate), then the step's handler runs and its
result is recorded and sent to Step Functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.enums import VideoStatus
from ecomvideo.errors import ProviderError
from ecomvideo.models import Video
from ecomvideo.observability import logger
from ecomvideo.services.pipeline import gate, messages, resume, rows, steps, timers
from ecomvideo.services.pipeline.messages import StepMessage, take_token
from ecomvideo.services.pipeline.results import (
    Output,
    ProviderGateFull,
    Started,
    StepContext,
    StepFailed,
    StepResult,
    provider_for,
)
from ecomvideo.services.video_access import current_attempt
from ecomvideo.services.video_lifecycle import (
    FINALIZE,
    IMAGE,
    MARK_FAILED,
    POLL,
    POLLABLE_STEPS,
    SCRAPE,
    STEP_STATUS,
    VIDEO,
    StepState,
    transition,
)
from ecomvideo.settings import get_settings

HANDLERS: dict[str, Callable[[StepContext], StepResult]] = {
    SCRAPE: steps.scrape_step,
    IMAGE: steps.image_step,
    VIDEO: steps.video_step,
    FINALIZE: lambda ctx: _finalize().finalize_step(ctx),
}


def _finalize() -> ModuleType:
    # lazy: only Finalize and MarkFailed need credits, notifications and the format outputs
    from ecomvideo.services.pipeline import finalize

    return finalize


@dataclass(frozen=True)
class _Begin:
    kind: str  # run | done | waiting | queued | skip | ambiguous
    output: dict[str, Any] | None = None
    reason: str = ""
    video: Video | None = None
    state: str = StepState.STARTING


def _begin(message: StepMessage) -> _Begin:
    with transaction() as session:
        row, video = rows.lock_step(session, message)
        if video is None:
            return _Begin("skip", reason="The video was deleted.")
        if current_attempt(video) != message.attempt:
            return _Begin("skip", reason="A newer attempt of this video is running.")
        if row.state == StepState.DONE:
            return _Begin("done", output=dict(row.output or {}))
        if video.status.is_terminal:
            return _Begin("skip", reason=f"The video is {video.status}.")
        row.deliveries = (row.deliveries or 0) + 1
        previous = row.state
        take_token(row, message)
        if previous == StepState.FAILED:
            return _Begin("failed", reason=row.error or "The step failed.")
        if previous == StepState.STARTED and row.provider_task_id:
            return _Begin("waiting")  # async task in flight: keep the fresh token only
        if (
            previous == StepState.STARTED
            and message.step in (IMAGE, VIDEO)
            and getattr(provider_for(video), "asynchronous", False)
        ):
            return _Begin("ambiguous")  # a task may exist that we never heard of
        if message.step in POLLABLE_STEPS and gate.gate_full(session, video, row):
            row.state = StepState.QUEUED  # shown as progress step "Queued" with its position
            row.queued_at = row.queued_at or clock.utcnow()
            return _Begin("queued")
        row.state = StepState.STARTED
        row.provider = row.provider or video.ai_provider
        row.started_at = row.started_at or clock.utcnow()
        row.error = None
        target = STEP_STATUS[message.step]
        if video.status is VideoStatus.PENDING and target is not VideoStatus.PROCESSING:
            transition(video, VideoStatus.PROCESSING)
        transition(video, target)
        session.flush()
        session.expunge(video)
        return _Begin("run", video=video, state=previous)


def handle(message: StepMessage) -> str:
    """Run one step message; returns what happened (for logs/tests). Raises on transient
    errors so that SQS redelivers."""
    if message.step == MARK_FAILED:
        return _finalize().mark_failed(message)
    if message.step == POLL:
        return resume.poll_waiting_step(message)
    begin = _begin(message)
    if begin.kind == "skip":
        messages.send_failure(message.task_token, "VideoNotActive", begin.reason)
        return "skipped"
    if begin.kind == "done":
        messages.send_success(message.task_token, begin.output or {})
        return "replayed"
    if begin.kind == "failed":  # redelivered after the failure was recorded
        messages.send_failure(message.task_token, "StepFailed", begin.reason)
        return "failed"
    if begin.kind == "waiting":
        return "waiting"
    if begin.kind == "queued":  # the worker re-sends the message after the delay
        raise ProviderGateFull(get_settings().provider_gate_retry_seconds)
    if begin.kind == "ambiguous":
        text = "The provider task state is unknown after a worker restart; please retry."
        rows.record_failure(message, text)
        messages.send_failure(message.task_token, "ProviderStateUnknown", text)
        return "failed"
    assert begin.video is not None
    ctx = StepContext(message=message, video=begin.video, step_row_state=begin.state)
    try:
        result = HANDLERS[message.step](ctx)
    except StepFailed as exc:
        return _fail(message, exc.message, exc.error)
    except ProviderError as exc:
        if getattr(exc, "retryable", False):
            # Nothing was started (the call raised): let SQS redeliver after the visibility
            # timeout; the state machine's timeout ends it if the provider stays down.
            rows.reset_step(message)
            raise
        # ProviderError messages are written to be shown to users (see ecomvideo.errors).
        code = str(getattr(exc, "code", "provider_error"))
        return _fail(message, exc.detail, f"Provider.{code}")
    if isinstance(result, Started):
        rows.record_started(message, result)
        timers.send_poll(result.task_id, 0)
        resume.apply_parked_webhook(result.task_id)
        return "started"
    if isinstance(result, Output):
        return rows.complete_step(message.video_id, message.attempt, message.step, result.data)
    messages.send_success(message.task_token, result.data)
    return "completed"


def _fail(message: StepMessage, text: str, error: str) -> str:
    logger.warning("pipeline step failed", extra={"step": message.step, "error": error})
    rows.record_failure(message, text)
    messages.send_failure(message.task_token, error, text)
    return "failed"
