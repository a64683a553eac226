"""The video pipeline's steps, run by the pipeline worker (one SQS message = one step).

The state machine (statemachines/video_pipeline.asl.json) sends every step as an SQS
``waitForTaskToken`` message ``{step, videoId, userId, attempt, taskToken, ...}``. ``handle``
runs it and answers Step Functions with SendTaskSuccess / SendTaskFailure, except for
asynchronous providers: the step then stores the provider task id and the task token, and the
webhook (or a poll) calls ``complete_step`` / ``fail_step`` later.

Idempotency (SQS delivers at least once, a worker may crash anywhere):
* every step has a ``video_pipeline_steps`` row (video, attempt, step), locked and updated
  *before* side effects: Done -> the stored output is sent again, nothing re-runs;
  Started with a provider task id -> no second task is started, the new token is kept;
  Starting without a task id on an asynchronous provider -> the step fails rather than risk a
  second paid task;
* Finalize completes the video, charges credits and marks the step Done in one transaction;
* status transitions only move forward; terminal statuses never change (``transition``), so a
  late or duplicated message cannot resurrect a cancelled or failed video.

Failures meant for the user (provider errors, bad input) are recorded in ``error_message``
before SendTaskFailure; MarkFailed then sets Failed and releases the held credits. Anything
else (database or S3 down) raises, so SQS redelivers the message.
"""

from __future__ import annotations

import json
import math
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.enums import VideoStatus
from ecomvideo.errors import Conflict, ProviderError
from ecomvideo.media.formats import VIDEO_METADATA_KEYS
from ecomvideo.models import ProductData, Video
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.observability import logger, metrics
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


class StepState:
    QUEUED = "Queued"  # waiting for a slot of the provider's concurrency gate
    STARTING = "Starting"
    STARTED = "Started"
    DONE = "Done"
    FAILED = "Failed"


class ProviderGateFull(ProviderError):
    """The provider account's concurrent tasks are at the limit: run the step again later."""

    retryable = True

    def __init__(self, retry_after: float) -> None:
        super().__init__("Waiting for a free slot at the video provider.")
        self.retry_after = retry_after


class InvalidTransition(Conflict):
    """A status change the lifecycle does not allow (e.g. out of a terminal status)."""


class StepFailed(Exception):
    """A failure to report to the user (``message`` goes into error_message)."""

    def __init__(self, message: str, *, error: str = "StepFailed") -> None:
        super().__init__(message)
        self.message = message[:2000]
        self.error = error


# ---------------------------------------------------------------------------- lifecycle


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


# ---------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class StepMessage:
    step: str
    video_id: uuid.UUID
    user_id: uuid.UUID
    attempt: int
    task_token: str
    execution_arn: str | None = None
    error: dict[str, Any] | None = None
    waiting_step: str | None = None
    # When the state that issued the token was entered ($$.State.EnteredTime): orders tokens.
    entered_at: datetime | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> StepMessage:
        """Validate a message body from the state machine; raises ValueError when malformed."""
        step = body.get("step")
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}")
        token = body.get("taskToken")
        if not isinstance(token, str) or not token:
            raise ValueError("taskToken missing")
        error = body.get("error")
        waiting = body.get("waitingStep")
        if step == POLL and waiting not in POLLABLE_STEPS:
            raise ValueError(f"PollProvider cannot poll {waiting!r}")
        return cls(
            step=step,
            video_id=uuid.UUID(str(body["videoId"])),
            user_id=uuid.UUID(str(body["userId"])),
            attempt=int(body.get("attempt") or 1),
            task_token=token,
            execution_arn=body.get("executionArn"),
            error=error if isinstance(error, dict) else None,
            waiting_step=waiting if step == POLL else None,
            entered_at=_parse_time(body.get("enteredAt")),
        )


def _parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as naive UTC (the database's convention); None if absent/invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _take_token(row: PipelineStep, message: StepMessage) -> bool:
    """Compare-and-set: keep ``message``'s token unless the stored one was issued later.

    A redelivered (older) step message must not overwrite the token of a newer wait (e.g. the
    PollProvider state's): the webhook would then resume a dead token."""
    stored, offered = row.token_entered_at, message.entered_at
    if row.task_token and stored is not None and (offered is None or offered < stored):
        logger.info("older task token ignored", extra={"step": row.step})
        return False
    row.task_token = message.task_token
    row.token_entered_at = offered
    return True


# ---------------------------------------------------------------------------- Step Functions


def _send(method: str, **kwargs: Any) -> bool:
    """SendTaskSuccess/Failure; a token of a stopped/timed-out execution is not an error."""
    try:
        getattr(aws.stepfunctions(), method)(**kwargs)
        return True
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in {"InvalidToken", "TaskDoesNotExist", "TaskTimedOut", "ExecutionDoesNotExist"}:
            logger.info("task token no longer valid", extra={"code": code, "call": method})
            return False
        raise


def send_success(token: str, output: dict[str, Any]) -> bool:
    import json

    return _send("send_task_success", taskToken=token, output=json.dumps(output))


def send_failure(token: str, error: str, cause: str) -> bool:
    return _send("send_task_failure", taskToken=token, error=error[:256], cause=cause[:32768])


# ---------------------------------------------------------------------------- provider seam


@dataclass(frozen=True)
class StepContext:
    """What a step handler needs; ``video`` is a detached snapshot (no session held)."""

    message: StepMessage
    video: Video
    step_row_state: str


@dataclass(frozen=True)
class Output:
    """A synchronous result to record and send."""

    data: dict[str, Any]


@dataclass(frozen=True)
class Started:
    """An asynchronous provider task was started; completion comes by webhook or poll.

    ``options`` are what polling the task needs again (e.g. ``{"model": ...}``).
    """

    provider: str
    task_id: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """The handler already recorded the step as Done (Finalize); just send ``data``."""

    data: dict[str, Any]


StepResult = Output | Started | Recorded


def _key(video: Video, name: str) -> str:
    return f"users/{video.user_id}/videos/{video.id}/{name}"


def _put(key: str, body: bytes, content_type: str) -> None:
    aws.s3().put_object(
        Bucket=get_settings().videos_bucket, Key=key, Body=body, ContentType=content_type
    )


def _get(bucket: str, key: str) -> bytes:
    return aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read()


def _step_output(video_id: uuid.UUID, attempt: int, step: str) -> dict[str, Any] | None:
    with transaction() as session:
        row = session.get(PipelineStep, (video_id, attempt, step))
        return dict(row.output) if row is not None and row.output else None


def _request(video: Video) -> dict[str, Any]:
    return dict((video.meta or {}).get("request") or {})


def _source_image(ctx: StepContext) -> bytes:
    """The still the video is made from: generated this attempt, uploaded, or remote."""
    video = ctx.message
    generated = _step_output(video.video_id, video.attempt, IMAGE)
    if generated and generated.get("imageKey"):
        return _get(get_settings().videos_bucket, generated["imageKey"])
    image_url = ctx.video.image_url
    if image_url and image_url.startswith("s3://"):
        bucket, key = aws.split_s3_uri(image_url)
        try:
            return _get(bucket, key)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404"}:
                raise StepFailed("The uploaded image is no longer available.") from exc
            raise
    if image_url and image_url.startswith(("https://", "http://")):
        # Shop images may be plain http; the fetcher guards every address either way.
        return _fetch_remote_image(image_url)
    raise StepFailed("There is no image to make the video from.")


def _source_location(ctx: StepContext) -> tuple[str, str] | None:
    """``(bucket, key)`` of the still when it is in S3 (generated or uploaded), else ``None``."""
    generated = _step_output(ctx.message.video_id, ctx.message.attempt, IMAGE)
    if generated and generated.get("imageKey"):
        return get_settings().videos_bucket, str(generated["imageKey"])
    image_url = ctx.video.image_url
    if image_url and image_url.startswith("s3://"):
        return aws.split_s3_uri(image_url)
    return None


def _fetch_remote_image(url: str) -> bytes:
    """Download a remote image (user-given or scraped) through the SSRF-safe fetcher."""
    from ecomvideo.scraping import ScrapeError
    from ecomvideo.services import products

    try:
        content, _ = products.fetch_image(url)
    except ScrapeError as exc:
        raise StepFailed(f"The image could not be downloaded: {exc.message}") from exc
    return content


# Provider adapters: the only code that knows the provider interface (ecomvideo.providers).

_IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def _provider(video: Video) -> Any:
    from ecomvideo.providers import get_provider

    return get_provider(video.ai_provider or None)


def _product(video: Video) -> Any:
    """The text on the video: from the scraped product when there is one, else the request."""
    from ecomvideo.providers import ProductCard

    variables = _request(video).get("variables") or {}
    if video.product_data_id is not None:
        with transaction() as session:
            product = session.get(ProductData, video.product_data_id)
            if product is not None and product.name:
                price = f"{product.price} {product.currency}" if product.price else None
                original = (
                    f"{product.original_price} {product.currency}"
                    if product.original_price
                    else None
                )
                return ProductCard(
                    name=product.name[:200],
                    price=variables.get("price") or price,
                    original_price=original,
                    brand=product.brand,
                    tagline=variables.get("tagline"),
                )
    return ProductCard(
        name=(variables.get("product_name") or video.title)[:200],
        price=variables.get("price"),
        brand=variables.get("brand"),
        tagline=variables.get("tagline"),
    )


def _size(video: Video) -> tuple[int, int]:
    from ecomvideo.media.formats import frame_size

    return frame_size(video.aspect_ratio, video.resolution)


def _asset_bytes(result: Any) -> bytes:
    """The result's bytes; a provider URL (expiring) is copied at once."""
    if result.asset:
        return bytes(result.asset)
    if result.asset_url:
        import httpx

        response = httpx.get(result.asset_url, timeout=60, follow_redirects=True)
        response.raise_for_status()
        return response.content
    raise StepFailed("The provider returned no file.", error="EmptyResult")


def _image_step(ctx: StepContext) -> StepResult:
    from ecomvideo.providers import ImageRequest

    video = ctx.video
    provider = _provider(video)
    width, height = _size(video)
    options = _model_options(video, provider, IMAGE)
    result = provider.start_image(
        ImageRequest(
            prompt=video.text_prompt,
            aspect_ratio=video.aspect_ratio,
            width=width,
            height=height,
            style=video.style,
            product=_product(video),
            reference=_reference(ctx),
        ),
        **options,
    )
    if not result.is_completed:
        return Started(provider.name, str(result.task_id), _started_options(result))
    return Output(_store_provider_asset(video, ctx.message.attempt, IMAGE, result))


def _video_step(ctx: StepContext) -> StepResult:
    from ecomvideo.providers import VideoRequest

    video = ctx.video
    provider = _provider(video)
    width, height = _size(video)
    card = _product(video)
    # Remote providers may fetch our S3 copy through a short-lived presigned URL (Freepik
    # prefers it to megabytes of base64); every provider also gets the bytes.
    location = _source_location(ctx) if getattr(provider, "asynchronous", False) else None
    image_url = aws.presigned_get(*location, expires_in=3600) if location else None
    options = _model_options(video, provider, VIDEO)
    storyboard, images = _storyboard(ctx, provider)
    result = provider.start_video(
        VideoRequest(
            storyboard=storyboard,
            images=images,
            prompt=video.text_prompt,
            duration_seconds=float(video.duration_seconds),
            aspect_ratio=video.aspect_ratio,
            width=width,
            height=height,
            image_bytes=_source_image(ctx),
            image_url=image_url,
            title=video.title,
            price_text=card.price,
            product=card,
            style=video.style,
            reference=_reference(ctx),
        ),
        **options,
    )
    if not result.is_completed:
        return Started(provider.name, str(result.task_id), _started_options(result))
    output = _store_provider_asset(video, ctx.message.attempt, VIDEO, result)
    if result.metadata.get("scenes"):
        output["scenes"] = result.metadata["scenes"]
    if result.thumbnail:
        output["thumbnailKey"] = _key(video, f"work/a{ctx.message.attempt}-thumb.jpg")
        _put(output["thumbnailKey"], bytes(result.thumbnail), "image/jpeg")
    return Output(output)


def _storyboard(ctx: StepContext, provider: Any) -> tuple[dict[str, Any] | None, tuple[bytes, ...]]:
    """The storyboard and its photos for providers that compose scenes (``storyboards``).

    A photo that cannot be fetched is left out (its scenes fall back to designed cards); the
    video fails only when the one photo of an Image video is gone (``_source_image``).
    """
    if not getattr(provider, "storyboards", False):
        return None, ()
    from ecomvideo.services import storyboards

    with transaction() as session:
        video = session.get(Video, ctx.video.id)
        if video is None:
            raise StepFailed("The video is no longer active.", error="VideoNotActive")
        board = storyboards.for_video(session, video)
    images: list[bytes] = []
    for ref in board.images:
        try:
            if ref.startswith("s3://"):
                images.append(_get(*aws.split_s3_uri(ref)))
            else:
                images.append(_fetch_remote_image(ref))
        except Exception:
            logger.warning("storyboard image skipped", extra={"image": ref[:200]})
            images.append(b"")
    return board.to_dict(), tuple(images)


def _model_options(video: Video, provider: Any, step: str) -> dict[str, Any]:
    """``{"model": ...}`` for providers whose models are configurable, else ``{}``.

    Key ``<provider>_<image|video>_model`` (e.g. ``freepik_video_model``): the video template's
    ``style_settings`` wins over the plan's ``features`` (a JSON object, or list entries
    ``"freepik_video_model=kling-v2-5-pro"``); neither -> the provider's default (settings).
    """
    if not getattr(provider, "configurable_models", False):
        return {}
    key = f"{str(provider.name).lower()}_{'image' if step == IMAGE else 'video'}_model"
    from ecomvideo.models import VideoTemplate
    from ecomvideo.services import plans

    with transaction() as session:
        template = session.get(VideoTemplate, video.template_id) if video.template_id else None
        model = _config_value(template.style_settings if template else None, key)
        if model is None:
            model = _config_value(plans.entitlement(session, video.user_id).plan.features, key)
    return {"model": model} if model else {}


def _config_value(config: Any, key: str) -> str | None:
    """``key`` from a JSON object, or from ``"key=value"`` entries of a JSON list."""
    if isinstance(config, dict):
        value = config.get(key)
        return str(value) if value else None
    if isinstance(config, list):
        for entry in config:
            name, sep, value = str(entry).partition("=")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return None


def _started_options(result: Any) -> dict[str, Any]:
    """What polling a started task needs again (the model it was started with)."""
    model = (getattr(result, "metadata", None) or {}).get("model")
    return {"model": str(model)} if model else {}


def _reference(ctx: StepContext) -> str:
    """A stable id for the provider call (providers that support idempotent starts use it)."""
    return f"{ctx.message.video_id}:{ctx.message.attempt}:{ctx.message.step}"


def _scrape_step(ctx: StepContext) -> StepResult:
    """Url input: scrape the product page; its primary image then feeds the video step."""
    from ecomvideo.enums import ScrapingStatus
    from ecomvideo.scraping import ScrapeError
    from ecomvideo.services import products

    with transaction() as session:
        video = session.get(Video, ctx.video.id)
        if video is None:
            raise StepFailed("The video is no longer active.", error="VideoNotActive")
        try:
            product = products.scrape_for_video(session, video)
        except ScrapeError as exc:
            raise StepFailed(exc.message, error="ScrapeFailed") from exc
        ok = product.scraping_status is ScrapingStatus.SUCCESS
        output = {"hasImage": bool(product.main_image_url), "productDataId": str(product.id)}
        reason = product.error_message or "The product page could not be read."
    if not ok:  # raised after the commit, so the Failed product row is kept for the user
        raise StepFailed(reason, error="ScrapeFailed")
    return Output(output)


def _finalize_step(ctx: StepContext) -> StepResult:
    from ecomvideo.media.probe import probe

    message = ctx.message
    rendered = _step_output(message.video_id, message.attempt, VIDEO) or {}
    render_key = rendered.get("videoKey")
    if not render_key:
        raise StepFailed("The generated video is missing.", error="RenderMissing")
    bucket = get_settings().videos_bucket
    video = ctx.video
    video_key = _key(video, "video.mp4")
    thumb_key = _key(video, "thumbnail.jpg")
    with tempfile.TemporaryDirectory(prefix="finalize-") as tmp:
        path = Path(tmp) / "video.mp4"
        path.write_bytes(_get(bucket, render_key))
        try:
            metadata = dict(probe(path))
            if rendered.get("thumbnailKey"):
                thumb = _get(bucket, rendered["thumbnailKey"])
            else:
                thumb = _thumbnail(path)
        except Exception as exc:
            logger.exception("probing the rendered video failed")
            raise StepFailed(
                "The generated video is not a valid MP4.", error="InvalidVideo"
            ) from exc
        aws.s3().upload_file(str(path), bucket, video_key, ExtraArgs={"ContentType": "video/mp4"})
    _put(thumb_key, thumb, "image/jpeg")
    output = {"videoKey": video_key, "thumbnailKey": thumb_key}
    with transaction() as session:
        row, video_row = _lock(session, message)
        if video_row is None or video_row.status.is_terminal:
            # Cancelled/deleted while we rendered: leave it alone, end the execution.
            raise StepFailed("The video is no longer active.", error="VideoNotActive")
        if row.state == StepState.DONE:
            return Recorded(dict(row.output or {}))
        _complete_video(session, video_row, metadata, video_key, thumb_key, rendered.get("scenes"))
        _mark_done(row, output)
    _delete_quietly(
        bucket, [render_key, *_work_keys(message), *filter(None, [rendered.get("thumbnailKey")])]
    )
    metrics.add_metric(name="VideosCompleted", unit="Count", value=1)
    return Recorded(output)


def _thumbnail(path: Path) -> bytes:
    from ecomvideo.media.thumbnail import thumbnail_from_video

    return thumbnail_from_video(path.read_bytes())


def _complete_video(
    session: Session,
    video: Video,
    metadata: dict[str, Any],
    video_key: str,
    thumb_key: str,
    scenes: list[dict[str, Any]] | None = None,
) -> None:
    from ecomvideo.services import catalog, credits

    bucket = get_settings().videos_bucket
    transition(video, VideoStatus.COMPLETED)
    kept = {k: (video.meta or {})[k] for k in ("storyboard",) if k in (video.meta or {})}
    video.meta = {**kept, **{k: metadata[k] for k in VIDEO_METADATA_KEYS}}
    if scenes:
        video.meta["scenes"] = scenes
    video.file_size_bytes = int(metadata["fileSize"])
    video.video_url = f"s3://{bucket}/{video_key}"
    video.thumbnail_url = f"s3://{bucket}/{thumb_key}"
    video.completed_at = clock.utcnow()
    video.error_message = None
    video.generation_cost_credits = credits.charge(session, video.user_id, video.id) or int(
        video.generation_cost_credits or 0
    )
    if video.template_id is not None:
        catalog.increment_template_usage(session, video.template_id)
    _notify_finished(session, video)


def _notify_finished(session: Session, video: Video) -> None:
    """Email + customer webhooks, enqueued in the same transaction as the final status."""
    from ecomvideo.services import notifications

    notifications.on_video_finished(session, video)


def _work_keys(message: StepMessage) -> list[str]:
    image = _step_output(message.video_id, message.attempt, IMAGE) or {}
    return [image["imageKey"]] if image.get("imageKey") else []


def _delete_quietly(bucket: str, keys: list[str]) -> None:
    try:
        if keys:
            aws.s3().delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
            )
    except Exception:
        logger.warning("could not delete work objects", extra={"keys": keys})


HANDLERS: dict[str, Callable[[StepContext], StepResult]] = {
    SCRAPE: _scrape_step,
    IMAGE: _image_step,
    VIDEO: _video_step,
    FINALIZE: _finalize_step,
}


# ---------------------------------------------------------------------------- bookkeeping


def _lock(session: Session, message: StepMessage) -> tuple[PipelineStep, Video | None]:
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


def _mark_done(row: PipelineStep, output: dict[str, Any]) -> None:
    row.state = StepState.DONE
    row.output = output
    row.completed_at = clock.utcnow()


@dataclass(frozen=True)
class _Begin:
    kind: str  # run | done | waiting | queued | skip | ambiguous
    output: dict[str, Any] | None = None
    reason: str = ""
    video: Video | None = None
    state: str = StepState.STARTING


def _begin(message: StepMessage) -> _Begin:
    with transaction() as session:
        row, video = _lock(session, message)
        if video is None:
            return _Begin("skip", reason="The video was deleted.")
        if _attempt_of(video) != message.attempt:
            return _Begin("skip", reason="A newer attempt of this video is running.")
        if row.state == StepState.DONE:
            return _Begin("done", output=dict(row.output or {}))
        if video.status.is_terminal:
            return _Begin("skip", reason=f"The video is {video.status}.")
        row.deliveries = (row.deliveries or 0) + 1
        previous = row.state
        _take_token(row, message)
        if previous == StepState.FAILED:
            return _Begin("failed", reason=row.error or "The step failed.")
        if previous == StepState.STARTED and row.provider_task_id:
            return _Begin("waiting")  # async task in flight: keep the fresh token only
        if (
            previous == StepState.STARTED
            and message.step in (IMAGE, VIDEO)
            and getattr(_provider(video), "asynchronous", False)
        ):
            return _Begin("ambiguous")  # a task may exist that we never heard of
        if message.step in POLLABLE_STEPS and _gate_full(session, video, row):
            row.state = StepState.QUEUED  # shown as progress step "Queued" with its position
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


def _gate_full(session: Session, video: Video, row: PipelineStep) -> bool:
    """The provider concurrency gate (per provider account, in PostgreSQL).

    Serialised by a transaction-level advisory lock per provider: count the steps of active
    videos holding a provider task (Started image/video steps); at ``provider_concurrency`` the
    step waits (``Queued``) instead of earning a 429 or a failure. 0 disables the gate."""
    from sqlalchemy import func

    provider = _provider(video)
    limit = get_settings().provider_concurrency
    if limit <= 0 or not getattr(provider, "asynchronous", False):
        return False
    name = str(provider.name)
    row.provider = name
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"provider-gate:{name}"))))
    in_flight = session.scalar(
        select(func.count())
        .select_from(PipelineStep)
        .join(Video, Video.id == PipelineStep.video_id)
        .where(
            PipelineStep.state == StepState.STARTED,
            PipelineStep.step.in_(POLLABLE_STEPS),
            PipelineStep.provider == name,
            Video.status.not_in([s.value for s in VideoStatus if s.is_terminal]),
        )
    )
    return int(in_flight or 0) >= limit


def queue_position(session: Session, row: PipelineStep) -> int:
    """1 + the steps queued for the same provider before this one."""
    from sqlalchemy import func

    ahead = session.scalar(
        select(func.count())
        .select_from(PipelineStep)
        .where(
            PipelineStep.state == StepState.QUEUED,
            PipelineStep.provider == row.provider,
            PipelineStep.created_at < row.created_at,
        )
    )
    return int(ahead or 0) + 1


def _attempt_of(video: Video) -> int:
    return int(((video.meta or {}).get("request") or {}).get("attempt", 1))


def _record_started(message: StepMessage, started: Started) -> None:
    with transaction() as session:
        row, video = _lock(session, message)
        row.provider = started.provider
        row.provider_task_id = started.task_id
        # Until the step is Done, ``output`` keeps what polling needs (the model); the result
        # replaces it.
        row.output = {"started": started.options} if started.options else None
        # Polling starts with the task: a lost webhook costs at most one interval.
        row.polls = 0
        row.next_poll_at = clock.utcnow() + timedelta(seconds=poll_interval(0))
        if video is not None and started.provider == "Freepik" and len(started.task_id) <= 100:
            # The spec's columns (unique partial indexes): support can find a video by task id.
            if message.step == IMAGE:
                video.freepik_image_task_id = started.task_id
            else:
                video.freepik_task_id = started.task_id


def _reset(message: StepMessage) -> None:
    with transaction() as session:
        row, _video = _lock(session, message)
        if row.state == StepState.STARTED and not row.provider_task_id:
            row.state = StepState.STARTING


def _record_failure(message: StepMessage, text: str) -> None:
    with transaction() as session:
        row, video = _lock(session, message)
        row.state = StepState.FAILED
        row.error = text
        if video is not None and not video.status.is_terminal:
            video.error_message = text


# ---------------------------------------------------------------------------- public API


def handle(message: StepMessage) -> str:
    """Run one step message; returns what happened (for logs/tests). Raises on transient
    errors so that SQS redelivers."""
    if message.step == MARK_FAILED:
        return _mark_failed(message)
    if message.step == POLL:
        return poll_waiting_step(message)
    begin = _begin(message)
    if begin.kind == "skip":
        send_failure(message.task_token, "VideoNotActive", begin.reason)
        return "skipped"
    if begin.kind == "done":
        send_success(message.task_token, begin.output or {})
        return "replayed"
    if begin.kind == "failed":  # redelivered after the failure was recorded
        send_failure(message.task_token, "StepFailed", begin.reason)
        return "failed"
    if begin.kind == "waiting":
        return "waiting"
    if begin.kind == "queued":  # the worker re-sends the message after the delay
        raise ProviderGateFull(get_settings().provider_gate_retry_seconds)
    if begin.kind == "ambiguous":
        text = "The provider task state is unknown after a worker restart; please retry."
        _record_failure(message, text)
        send_failure(message.task_token, "ProviderStateUnknown", text)
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
            _reset(message)
            raise
        # ProviderError messages are written to be shown to users (see ecomvideo.errors).
        code = str(getattr(exc, "code", "provider_error"))
        return _fail(message, exc.detail, f"Provider.{code}")
    if isinstance(result, Started):
        _record_started(message, result)
        _send_poll(result.task_id, 0)
        _apply_parked_webhook(result.task_id)
        return "started"
    if isinstance(result, Output):
        return complete_step(message.video_id, message.attempt, message.step, result.data)
    send_success(message.task_token, result.data)
    return "completed"


def _fail(message: StepMessage, text: str, error: str) -> str:
    logger.warning("pipeline step failed", extra={"step": message.step, "error": error})
    _record_failure(message, text)
    send_failure(message.task_token, error, text)
    return "failed"


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
        else:
            active = True
            if row.state != StepState.DONE:
                _mark_done(row, output)
            output = dict(row.output or output)
    if not active:
        send_failure(token, "VideoNotActive", cause)
        return "skipped"
    send_success(token, output)
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
    send_failure(token, error, text)
    return "failed"


def _mark_failed(message: StepMessage) -> str:
    """Catch-all of the state machine: Failed + error_message + credits released."""
    from ecomvideo.services import credits

    with transaction() as session:
        video = session.get(Video, message.video_id, with_for_update=True)
        if video is not None:
            if _attempt_of(video) == message.attempt and not video.status.is_terminal:
                transition(video, VideoStatus.FAILED)
                video.error_message = video.error_message or _describe(message.error)
                _notify_finished(session, video)
                metrics.add_metric(name="VideosFailed", unit="Count", value=1)
            if video.status is not VideoStatus.COMPLETED:
                credits.release(session, video.user_id, video.id)
    send_success(message.task_token, {"markedFailed": True})
    return "marked-failed"


def _describe(error: dict[str, Any] | None) -> str:
    """A user-meaningful message for an error the worker did not record itself."""
    code = str((error or {}).get("Error") or "")
    if code == "States.Timeout" or code == "States.HeartbeatTimeout":
        return TIMEOUT_MESSAGE
    if code.startswith("States."):
        return "The video pipeline failed unexpectedly; no credits were used."
    cause = (error or {}).get("Cause")
    if isinstance(cause, str) and cause and len(cause) < 500 and "Traceback" not in cause:
        return cause
    return "The video could not be generated; no credits were used."


def for_task(session: Session, provider_task_id: str) -> PipelineStep | None:
    """The step waiting on a provider task (webhooks find their video this way)."""
    return session.scalar(
        select(PipelineStep).where(PipelineStep.provider_task_id == provider_task_id)
    )


# ---------------------------------------------------------------------------- async providers


def _store_provider_asset(video: Video, attempt: int, step: str, result: Any) -> dict[str, Any]:
    """Copy a finished provider asset into our bucket (its URLs expire); the step's output."""
    if step == IMAGE:
        content_type = result.content_type or "image/png"
        extension = _IMAGE_EXTENSIONS.get(content_type, "bin")
        key = _key(video, f"work/a{attempt}-image.{extension}")
        _put(key, _asset_bytes(result), content_type)
        return {"imageKey": key}
    key = _key(video, f"work/a{attempt}-render.mp4")
    _put(key, _asset_bytes(result), "video/mp4")
    return {"videoKey": key}


# A worker message that is not a state machine step: "resume the step waiting on this task".
RESUME_MESSAGE = "ResumeProviderTask"


def record_task_progress(provider_task_id: str, progress: int) -> str:
    """A provider's non-terminal webhook: raise the waiting step's provider progress (never
    lowers it, see ``record_provider_progress``). Returns ``progress`` or ``unknown``."""
    with transaction() as session:
        row = for_task(session, provider_task_id)
        if row is None:
            return "unknown"
        key = (row.video_id, row.attempt, row.step)
    record_provider_progress(key, progress)
    return "progress"


def queue_provider_resume(provider_task_id: str) -> str:
    """The Freepik webhook's path: hand the poll and the asset download to the pipeline worker.

    The webhook answers at once (a large MP4 copied inside the HTTP request could outlast API
    Gateway's 30 s) and SQS retries a failed resume. Returns ``unknown`` (no step waits on the
    task), ``done`` (already resumed) or ``queued``.
    """
    with transaction() as session:
        row = for_task(session, provider_task_id)
        if row is None:
            return "unknown"
        if row.state in (StepState.DONE, StepState.FAILED):
            return "done"
        video = session.get(Video, row.video_id)
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
        row = for_task(session, provider_task_id)
        if row is None:
            return "unknown"
        if row.state in (StepState.DONE, StepState.FAILED):
            return "done"
        video = session.get(Video, row.video_id)
        if video is None:
            return "unknown"
        if video.status.is_terminal or _attempt_of(video) != row.attempt:
            _close(row, f"The video is {video.status}.")
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
    provider = _provider_named(provider_name)
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
        return fail_step(video_id, attempt, step, exc.detail, error=f"Provider.{code}")
    if not result.is_completed:
        # No heartbeat: the waits have plain timeouts, and on one the PollProvider state polls.
        record_provider_progress(key, result.progress)
        return "pending"
    output = _store_provider_asset(video, attempt, step, result)
    return complete_step(video_id, attempt, step, output)


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


def _close(row: PipelineStep, reason: str) -> None:
    """End a waiting step whose video is terminal (no more polls, webhooks are no-ops)."""
    row.state = StepState.FAILED
    row.error = reason[:2000]
    row.next_poll_at = None


def close_open_steps(session: Session, video_id: uuid.UUID, reason: str) -> None:
    """Cancel/delete: the video's waiting steps are closed in the caller's transaction."""
    rows = session.scalars(
        select(PipelineStep)
        .where(
            PipelineStep.video_id == video_id,
            PipelineStep.state.in_((StepState.QUEUED, StepState.STARTING, StepState.STARTED)),
        )
        .with_for_update()
    )
    for row in rows:
        _close(row, reason)


# ---------------------------------------------------------------------------- polling

# A worker message that is not a state machine step: "poll this task now" (delayed send).
POLL_MESSAGE = "PollProviderTask"
SQS_MAX_DELAY = 900


def poll_intervals() -> list[float]:
    """``provider_poll_intervals`` ("10,20,40,60"): seconds before poll n; the last repeats."""
    values = []
    for part in get_settings().provider_poll_intervals.split(","):
        try:
            values.append(max(0.0, float(part)))
        except ValueError:
            continue
    return values or [60.0]


def poll_interval(polls: int) -> float:
    intervals = poll_intervals()
    return intervals[min(polls, len(intervals) - 1)]


def _send_poll(task_id: str, poll: int) -> None:
    """Queue poll number ``poll`` of a provider task, delayed by its interval."""
    queue_url = get_settings().pipeline_queue_url
    if not queue_url:
        return  # no queue (unit tests, scripts): the sweep polls by due time
    delay = min(SQS_MAX_DELAY, math.ceil(poll_interval(poll)))
    body = {"kind": POLL_MESSAGE, "taskId": task_id, "poll": poll}
    aws.sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(body), DelaySeconds=delay)


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
            row.next_poll_at = clock.utcnow() + timedelta(seconds=poll_interval(row.polls))
            following = row.polls
        _send_poll(provider_task_id, following)
    return outcome


def _apply_parked_webhook(provider_task_id: str) -> None:
    """A terminal webhook that arrived before the task id was committed was recorded (parked)
    as unknown: re-apply it now (the webhook side re-checks too, see freepik_webhooks)."""
    from ecomvideo.models import FreepikWebhookEvent

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


# ---------------------------------------------------------------------------- retries


def retry_delay(exc: BaseException, receive_count: int) -> int:
    """Seconds until a step that hit a retryable provider error runs again: the provider's
    ``Retry-After`` when it gave one (no cap below SQS's 12 h maximum; the state machine's
    step timeout is the real deadline), else exponential backoff 1, 2, 4 ... 60 s."""
    hint = getattr(exc, "retry_after", None)
    if isinstance(hint, int | float) and math.isfinite(hint) and hint >= 0:
        return min(43_200, math.ceil(hint))
    return min(60, 2 ** max(0, receive_count - 1))


def requeue(body: dict[str, Any], delay: int) -> bool:
    """Send a copy of a message due in ``delay`` seconds (the caller then acknowledges the
    original); returns False when the delay is beyond SQS's 15-minute maximum or there is no
    queue. A copy starts a fresh receive count, so waiting on a busy provider never pushes a
    step into the DLQ (maxReceiveCount counts real failures only)."""
    queue_url = get_settings().pipeline_queue_url
    if not queue_url or delay > SQS_MAX_DELAY:
        return False
    copy = {**body, "retries": int(body.get("retries") or 0) + 1}
    aws.sqs().send_message(
        QueueUrl=queue_url, MessageBody=json.dumps(copy), DelaySeconds=max(0, delay)
    )
    return True


def retry_later(receipt_handle: str, delay: int) -> None:
    """Make the failed message visible again in ``delay`` seconds (not the visibility
    timeout): SQS ChangeMessageVisibility on the message being handled."""
    queue_url = get_settings().pipeline_queue_url
    if not queue_url or not receipt_handle:
        return
    aws.sqs().change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
    )


def _provider_named(name: str | None) -> Any:
    from ecomvideo.providers import get_provider

    return get_provider(name or None)


def stalled_provider_tasks(
    session: Session, *, older_than_minutes: int, limit: int = 100
) -> list[str]:
    """Provider task ids whose scheduled poll is overdue by the threshold (its delayed poll
    message was lost), most overdue first: ordered by due time, not age, so closed or stale
    rows cannot starve the ones that need a poll."""
    from sqlalchemy import func

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
        if video is None or _attempt_of(video) != message.attempt or video.status.is_terminal:
            verdict, text = "skip", "The video is no longer active."
        elif row is None or row.state == StepState.FAILED:
            verdict, text = "fail", (row.error if row else None) or TIMEOUT_MESSAGE
        elif row.state == StepState.DONE:
            verdict, text = "done", ""
        else:
            # Whoever finishes the step next (webhook, poll, a slow synchronous worker)
            # resumes the execution through this token.
            verdict, text = ("poll" if row.provider_task_id else "wait"), ""
            _take_token(row, message)
        output = dict(row.output or {}) if row is not None else {}
        task_id = row.provider_task_id if row is not None else None
        started_at = (row.started_at if row is not None else None) or (
            video.created_at if video is not None else None
        )
    if verdict == "skip":
        send_failure(message.task_token, "VideoNotActive", text)
        return "skipped"
    if verdict == "fail":
        send_failure(message.task_token, "Provider.Timeout", text)
        return "failed"
    if verdict == "done":
        send_success(message.task_token, output)
        return "replayed"
    if verdict == "poll":
        metrics.add_metric(name="ProviderPollFallbacks", unit="Count", value=1)
        outcome = resume_provider_task(str(task_id))
        if outcome != "pending":
            return outcome
    limit = timedelta(minutes=get_settings().provider_max_wait_minutes)
    if started_at is not None and clock.utcnow() - started_at >= limit:
        return fail_step(
            message.video_id, message.attempt, step, TIMEOUT_MESSAGE, error="Provider.Timeout"
        )
    return "waiting"
