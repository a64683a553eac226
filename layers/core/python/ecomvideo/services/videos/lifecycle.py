"""Changing a video after creation: edit, cancel, retry, delete (with its S3 objects)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.enums import VideoStatus
from ecomvideo.errors import Conflict
from ecomvideo.models.videos import Video
from ecomvideo.observability import logger
from ecomvideo.schemas import videos as schemas
from ecomvideo.security.principal import Principal
from ecomvideo.services import credits, media_purge, tagging, video_formats
from ecomvideo.services.storyboards import STORYBOARD_KEY
from ecomvideo.services.video_access import current_attempt, owned_video
from ecomvideo.services.video_lifecycle import close_open_steps, execution_arn, transition
from ecomvideo.services.videos.creation import execution_input, start_execution
from ecomvideo.settings import get_settings


def update_video(
    session: Session, principal: Principal, video_id: uuid.UUID, changes: schemas.VideoUpdate
) -> None:
    video = owned_video(session, principal, video_id, write=True, lock=True)
    data = changes.model_dump(exclude_unset=True)
    if data.get("title"):
        video.title = data["title"]
    if "description" in data:
        video.description = data["description"]
    if "category" in data:
        video.category_id = tagging.resolve_category(session, data["category"])
    if "is_public" in data and data["is_public"] is not None:
        video.is_public = data["is_public"]
    if data.get("tags") is not None:
        tagging.set_video_tags(session, video.id, data["tags"])
    video.updated_by = str(principal.user_id)
    session.flush()


def _stop_execution(video_id: uuid.UUID, attempt: int, cause: str) -> None:
    settings = get_settings()
    if not settings.state_machine_arn:
        return
    try:
        aws.stepfunctions().stop_execution(
            executionArn=execution_arn(settings.state_machine_arn, video_id, attempt),
            error="Cancelled",
            cause=cause,
        )
    except Exception:
        # The worker ignores steps of cancelled videos and ends their executions itself.
        logger.warning("StopExecution failed", extra={"video_id": str(video_id)})


def cancel(principal: Principal, video_id: uuid.UUID) -> VideoStatus:
    """Cancel a video in progress: status Cancelled, hold released, execution stopped.

    Idempotent: cancelling a Cancelled video answers the same; Completed/Failed -> 409.
    """
    with transaction() as session:
        video = owned_video(session, principal, video_id, write=True, lock=True)
        if video.status is VideoStatus.CANCELLED:
            return video.status
        if video.status.is_terminal:
            raise Conflict(f"The video is already {video.status}.")
        transition(video, VideoStatus.CANCELLED)
        video.error_message = None
        credits.release(session, video.user_id, video.id)
        close_open_steps(session, video.id, "The video was cancelled.")
        attempt = current_attempt(video)
        # Files go with the jobs worker (a late step writes nothing: the pipeline checks first).
        media_purge.enqueue_video_purge(session, video, reason="cancelled")
    _stop_execution(video_id, attempt, "cancelled by the user")
    return VideoStatus.CANCELLED


def retry(principal: Principal, video_id: uuid.UUID) -> schemas.VideoAccepted:
    """Run a Failed video again: new hold (attempt + 1), new execution '<id>-<attempt>'."""
    with transaction() as session:
        video = owned_video(session, principal, video_id, write=True, lock=True)
        if video.status is not VideoStatus.FAILED:
            raise Conflict("Only failed videos can be retried.")
        attempt = current_attempt(video) + 1
        cost = video_formats.video_cost(session, video)
        credits.hold(session, video.user_id, video.id, cost, attempt=attempt)
        transition(video, VideoStatus.PENDING, retry=True)
        video.error_message = None
        request = dict((video.meta or {}).get("request") or {})
        request.update(attempt=attempt, cost=cost)
        if correlation_id := logger.get_correlation_id():
            request["correlationId"] = correlation_id  # the retry request starts this attempt
        video.meta = {**_kept_meta(video), "request": request}
        start_input = execution_input(video, attempt=attempt)
        user_id = video.user_id
    status = start_execution(video_id, user_id, start_input, attempt=attempt)
    return schemas.VideoAccepted(id=video_id, status=status, cost=cost)


def _kept_meta(video: Video) -> dict[str, Any]:
    """What a new attempt keeps of the metadata: the user's edited storyboard."""
    meta = video.meta or {}
    return {STORYBOARD_KEY: meta[STORYBOARD_KEY]} if STORYBOARD_KEY in meta else {}


def delete(principal: Principal, video_id: uuid.UUID) -> None:
    """Delete a video and its tags' counts, and queue the deletion of its stored files (the
    ``media.purge`` job, in the same transaction); an unfinished one is cancelled first."""
    with transaction() as session:
        video = owned_video(session, principal, video_id, write=True, lock=True)
        running = not video.status.is_terminal
        attempt = current_attempt(video)
        if running:
            credits.release(session, video.user_id, video.id)
        media_purge.enqueue_video_purge(session, video, reason="deleted")
        tagging.untag_video(session, video.id)
        session.delete(video)
        session.flush()
    if running:
        _stop_execution(video_id, attempt, "deleted by the user")
