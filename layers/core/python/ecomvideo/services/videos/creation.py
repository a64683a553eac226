"""Creating a video: quote, submit (two-phase, see ``ecomvideo.services.videos``), render of a
draft, the Step Functions start and the poll headers of a started video."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.enums import VideoInputType, VideoStatus
from ecomvideo.errors import Conflict, ServiceUnavailable
from ecomvideo.media import storyboard as sb
from ecomvideo.models.videos import Video
from ecomvideo.observability import logger
from ecomvideo.providers import makes_clips
from ecomvideo.schemas import videos as schemas
from ecomvideo.security.principal import Principal
from ecomvideo.services import (
    credits,
    idempotency,
    storyboards,
    system_settings,
    tagging,
    video_formats,
)
from ecomvideo.services.video_access import awaiting_confirmation, current_attempt, owned_video
from ecomvideo.services.video_lifecycle import execution_name, transition
from ecomvideo.services.videos.preparation import Prepared, prepare
from ecomvideo.settings import get_settings

IDEMPOTENCY_SCOPE = "POST /v1/videos"


def quote(session: Session, user_id: uuid.UUID, body: schemas.VideoCreate) -> schemas.Quote:
    """The cost of a request as it would be created now; creates nothing."""
    prepared = prepare(session, user_id, body)
    story = storyboards.story_input(
        session,
        title=prepared.title,
        prompt=prepared.text_prompt,
        variables=prepared.variables,
        style=prepared.style,
        image_url=prepared.image_url,
        more_images=prepared.more_images,
    )
    board = sb.build(
        story,
        float(prepared.duration_seconds),
        storyboards.template_spec(prepared.template),
        clip=makes_clips(prepared.provider),
    )
    board = replace(board, music=prepared.music)
    return schemas.Quote(
        cost=prepared.cost,
        balance=credits.balance(session, user_id),
        duration_seconds=prepared.duration_seconds,
        resolution=prepared.resolution,
        aspect_ratio=prepared.aspect_ratio,
        formats=prepared.formats,
        provider=prepared.provider,
        storyboard=storyboards.to_schema(board),
    )


def _insert_video(session: Session, user_id: uuid.UUID, prepared: Prepared) -> Video:
    request_meta: dict[str, Any] = {
        "attempt": 1,
        "cost": prepared.cost,
        "hasImage": prepared.input_type is VideoInputType.IMAGE,
    }
    if correlation_id := logger.get_correlation_id():
        # The request that created the video: the execution, its worker steps and the provider
        # webhooks log under it (pipeline.adopt_correlation_id).
        request_meta["correlationId"] = correlation_id
    if prepared.variables:
        request_meta["variables"] = prepared.variables
    if prepared.product_url:
        request_meta["productUrl"] = prepared.product_url
    if not prepared.auto_render:
        request_meta["awaitingConfirmation"] = True
    if prepared.more_images:
        request_meta["moreImages"] = prepared.more_images
    if prepared.music:
        request_meta["music"] = prepared.music
    if len(prepared.formats) > 1:
        request_meta[video_formats.FORMATS_KEY] = prepared.formats
    video = Video(
        id=uuid.uuid4(),
        user_id=user_id,
        category_id=prepared.category_id,
        template_id=prepared.template.id if prepared.template else None,
        title=prepared.title,
        description=prepared.description,
        text_prompt=prepared.text_prompt,
        input_type=prepared.input_type,
        status=VideoStatus.PENDING,
        resolution=prepared.resolution,
        aspect_ratio=prepared.aspect_ratio,
        duration_seconds=prepared.duration_seconds,
        style=prepared.style,
        image_url=prepared.image_url,
        ai_provider=prepared.provider,
        meta={"request": request_meta},
        created_by=str(user_id),
    )
    session.add(video)
    session.flush()
    if prepared.tags:
        tagging.set_video_tags(session, video.id, prepared.tags)
    return video


def _warn_when_credits_low(session: Session, user_id: uuid.UUID) -> None:
    """Tell the customer's webhooks (credits.low) when this hold left the balance low."""
    # lazy: its HTTP delivery stack is needed only when a hold leaves credits low
    from ecomvideo.services import outbound_webhooks

    outbound_webhooks.emit_credits_low(session, user_id, credits.balance(session, user_id))


def submit(
    user_id: uuid.UUID, body: schemas.VideoCreate, *, idempotency_key: str | None = None
) -> tuple[schemas.VideoAccepted, bool]:
    """Create a video and start its pipeline. Returns (response, replayed).

    Owns its transactions (see the module docstring).
    """
    key = idempotency.validate_key(idempotency_key)
    body_hash = idempotency.request_hash(body.model_dump(mode="json"))
    with transaction() as session:
        if system_settings.get(session, "app.maintenance_mode", False):
            raise ServiceUnavailable("New videos are paused for maintenance; try again soon.")
        if key is not None:
            replay = idempotency.claim(session, user_id, IDEMPOTENCY_SCOPE, key, body_hash)
            if replay is not None:
                return _replayed(session, replay), True
        prepared = prepare(session, user_id, body)
        video = _insert_video(session, user_id, prepared)
        credits.hold(session, user_id, video.id, prepared.cost, attempt=1)
        _warn_when_credits_low(session, user_id)
        accepted = schemas.VideoAccepted(id=video.id, status=video.status, cost=prepared.cost)
        if key is not None:
            idempotency.complete(
                session,
                user_id,
                IDEMPOTENCY_SCOPE,
                key,
                resource_id=video.id,
                status_code=202,
                response=accepted.model_dump(mode="json"),
            )
        start_input = execution_input(video, attempt=1)
    if not prepared.auto_render:
        return accepted, False  # POST /v1/videos/{id}/render starts it
    status = start_execution(video.id, user_id, start_input, attempt=1)
    return accepted.model_copy(update={"status": status}), False


def render(principal: Principal, video_id: uuid.UUID) -> schemas.VideoAccepted:
    """Confirm a video created with ``auto_render: false``: start its pipeline (once).

    The credits were held at creation; a second call answers 409.
    """
    with transaction() as session:
        video = owned_video(session, principal, video_id, write=True, lock=True)
        if not awaiting_confirmation(video):
            raise Conflict("The video is not waiting for confirmation.")
        request = dict((video.meta or {}).get("request") or {})
        request.pop("awaitingConfirmation", None)
        video.meta = {**(video.meta or {}), "request": request}
        start_input = execution_input(video, attempt=current_attempt(video))
        cost = int(request.get("cost", 0))
        user_id = video.user_id
        attempt = current_attempt(video)
    status = start_execution(video_id, user_id, start_input, attempt=attempt)
    return schemas.VideoAccepted(id=video_id, status=status, cost=cost)


def _replayed(session: Session, replay: idempotency.Replay) -> schemas.VideoAccepted:
    stored = schemas.VideoAccepted.model_validate(replay.response or {})
    video = session.get(Video, replay.resource_id) if replay.resource_id else None
    # The current status is more useful to the client than the one stored at creation.
    return stored.model_copy(update={"status": video.status}) if video else stored


def execution_input(video: Video, *, attempt: int) -> dict[str, Any]:
    request = (video.meta or {}).get("request", {})
    return {
        # The correlation id of the request that started this attempt (API Gateway request
        # id): the state machine copies it into every step message. The video id when there
        # is none (the key must exist for "$$.Execution.Input.correlationId").
        "correlationId": request.get("correlationId") or str(video.id),
        "videoId": str(video.id),
        "userId": str(video.user_id),
        "inputType": str(video.input_type),
        "hasImage": bool(request.get("hasImage")),
        "attempt": attempt,
    }


def start_execution(
    video_id: uuid.UUID, user_id: uuid.UUID, start_input: dict[str, Any], *, attempt: int
) -> VideoStatus:
    """StartExecution (name = video id, or '<id>-<attempt>' for retries); on failure the video
    is marked Failed and its hold released. Returns the video's status afterwards."""
    settings = get_settings()
    try:
        if not settings.state_machine_arn:
            raise RuntimeError("STATE_MACHINE_ARN is not configured")
        aws.stepfunctions().start_execution(
            stateMachineArn=settings.state_machine_arn,
            name=execution_name(video_id, attempt),
            input=json.dumps(start_input),
        )
        return VideoStatus.PENDING
    except Exception as exc:
        if type(exc).__name__ == "ExecutionAlreadyExists":
            return VideoStatus.PENDING
        logger.exception("StartExecution failed", extra={"video_id": str(video_id)})
        with transaction() as session:
            video = session.get(Video, video_id, with_for_update=True)
            if video is not None and not video.status.is_terminal:
                transition(video, VideoStatus.FAILED)
                video.error_message = (
                    "The video pipeline could not be started; no credits were used."
                )
            credits.release(session, user_id, video_id)
        return VideoStatus.FAILED
