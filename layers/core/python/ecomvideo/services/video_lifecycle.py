"""A video's lifecycle as the API and the pipeline both see it: statuses, steps, progress.

The lower module under ``services.videos`` (the API) and ``services.pipeline`` (the worker):
the step names and states, the forward-only status transitions, the progress bands and poll
hints, execution names, and the step-row helpers both sides need (closing a video's steps,
its place in the provider queue). It imports neither of them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.enums import VideoStatus
from ecomvideo.errors import Conflict
from ecomvideo.models import Video
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.settings import get_settings

SCRAPE, IMAGE, VIDEO, FINALIZE, MARK_FAILED, POLL = (
    "ScrapeProduct",
    "GenerateImage",
    "GenerateVideo",
    "Finalize",
    "MarkFailed",
    "PollProvider",
)


STEPS = (SCRAPE, IMAGE, VIDEO, FINALIZE, MARK_FAILED, POLL)


# Steps an asynchronous provider may leave waiting (PollProvider's ``waitingStep``).
POLLABLE_STEPS = (IMAGE, VIDEO)


TIMEOUT_MESSAGE = "The video took too long to generate and was stopped; no credits were used."


# The status a video shows while a step runs (Finalize keeps GeneratingVideo).
STEP_STATUS = {
    SCRAPE: VideoStatus.PROCESSING,
    IMAGE: VideoStatus.GENERATING_IMAGE,
    VIDEO: VideoStatus.GENERATING_VIDEO,
    FINALIZE: VideoStatus.GENERATING_VIDEO,
}


STATUS_RANK = {
    VideoStatus.PENDING: 0,
    VideoStatus.PROCESSING: 1,
    VideoStatus.GENERATING_IMAGE: 2,
    VideoStatus.GENERATING_VIDEO: 3,
}


STATUS_PROGRESS = {
    VideoStatus.PENDING: 0,
    VideoStatus.PROCESSING: 10,
    VideoStatus.GENERATING_IMAGE: 30,
    VideoStatus.GENERATING_VIDEO: 60,
    VideoStatus.COMPLETED: 100,
}


# progress_percent band of each running step: [start, end); the provider's own progress
# (0-100, stored on the step as ``provider_progress``) moves the value inside the band.
STEP_PROGRESS = {SCRAPE: (10, 30), IMAGE: (30, 60), VIDEO: (60, 95), FINALIZE: (95, 99)}


# How long a client should wait before polling a video again, by status (seconds).
POLL_AFTER_SECONDS = {
    VideoStatus.PENDING: 2,
    VideoStatus.PROCESSING: 3,
    VideoStatus.GENERATING_IMAGE: 5,
    VideoStatus.GENERATING_VIDEO: 10,
}


class StepState:
    QUEUED = "Queued"  # waiting for a slot of the provider's concurrency gate
    STARTING = "Starting"
    STARTED = "Started"
    DONE = "Done"
    FAILED = "Failed"


class InvalidTransition(Conflict):
    """A status change the lifecycle does not allow (e.g. out of a terminal status)."""


def progress_percent(status: VideoStatus, step: str | None, provider_progress: int | None) -> int:
    """Monotonic while a video runs: statuses and steps only move forward, each step's band
    lies above the previous one, and ``provider_progress`` is only ever raised (see
    ``record_provider_progress``). Terminal and unknown states use the status map."""
    base = STATUS_PROGRESS.get(status, 0)
    if status.is_terminal or step not in STEP_PROGRESS:
        return base
    start, end = STEP_PROGRESS[step]
    fraction = max(0, min(int(provider_progress or 0), 100)) / 100
    return max(base, min(end - 1, start + int((end - start) * fraction)))


def transition(video: Video, new: VideoStatus, *, retry: bool = False) -> bool:
    """Move ``video`` to ``new`` if the lifecycle allows it; returns whether it changed.

    Forward only (Pending -> Processing -> GeneratingImage -> GeneratingVideo -> terminal);
    terminal statuses are final, except Failed -> Pending through an explicit retry.
    """
    current = VideoStatus(video.status)
    if current == new:
        return False
    if current.is_terminal:
        if not (retry and current is VideoStatus.FAILED and new is VideoStatus.PENDING):
            raise InvalidTransition(f"A {current} video cannot become {new}.")
    elif not new.is_terminal and STATUS_RANK[new] < STATUS_RANK[current]:
        raise InvalidTransition(f"A {current} video cannot go back to {new}.")
    video.status = new
    return True


def execution_name(video_id: uuid.UUID | str, attempt: int) -> str:
    return str(video_id) if attempt <= 1 else f"{video_id}-{attempt}"


def execution_arn(state_machine_arn: str, video_id: uuid.UUID | str, attempt: int) -> str:
    """arn:...:stateMachine:<name> -> arn:...:execution:<name>:<execution name>."""
    return (
        state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        + ":"
        + execution_name(video_id, attempt)
    )


def close_row(row: PipelineStep, reason: str) -> None:
    """End a waiting step whose video is terminal (no more polls, webhooks are no-ops)."""
    row.state = StepState.FAILED
    row.error = reason[:2000]
    row.next_poll_at = None


def close_open_steps(
    session: Session, video_id: uuid.UUID, reason: str, *, attempt: int | None = None
) -> None:
    """Cancel/delete/failure: the video's waiting steps (of ``attempt``, or all) are closed in
    the caller's transaction: no poll, webhook or redelivery runs them again."""
    query = select(PipelineStep).where(
        PipelineStep.video_id == video_id,
        PipelineStep.state.in_((StepState.QUEUED, StepState.STARTING, StepState.STARTED)),
    )
    if attempt is not None:
        query = query.where(PipelineStep.attempt == attempt)
    for row in session.scalars(query.with_for_update()):
        close_row(row, reason)


# The terminal statuses as stored (for SQL filters).
TERMINAL_VALUES = [s.value for s in VideoStatus if s.is_terminal]


def queued_ahead(session: Session, row: PipelineStep, provider: str) -> int:
    """Queued steps of active videos for ``provider`` that came before ``row`` (queued
    earlier; ties by key; a step not queued yet comes after all) and whose message still comes
    back (touched within a few retry periods: a lost message cannot hold the line)."""

    retry = get_settings().provider_gate_retry_seconds
    # Database time on both sides: updated_at is stamped by PostgreSQL.
    alive = func.timezone("UTC", func.now()) - timedelta(seconds=max(60, 4 * retry))
    me = (row.queued_at or clock.utcnow(), row.video_id, row.attempt, row.step)
    ahead = session.scalar(
        select(func.count())
        .select_from(PipelineStep)
        .join(Video, Video.id == PipelineStep.video_id)
        .where(
            PipelineStep.state == StepState.QUEUED,
            PipelineStep.provider == provider,
            func.coalesce(PipelineStep.updated_at, PipelineStep.created_at) >= alive,
            tuple_(
                PipelineStep.queued_at,
                PipelineStep.video_id,
                PipelineStep.attempt,
                PipelineStep.step,
            )
            < tuple_(*me),
            Video.status.not_in(TERMINAL_VALUES),
        )
    )
    return int(ahead or 0)


def queue_position(session: Session, row: PipelineStep) -> int:
    """1 + the steps queued for the same provider before this one (the gate's order)."""
    return queued_ahead(session, row, str(row.provider)) + 1
