"""The pipeline's ends: Finalize (store, charge, Completed) and MarkFailed (Failed, release).

Finalize first composes the storyboard around a provider's generated clip (``compose``), then
conforms the rendered file to the plan (``media.conform``), stores it with its
thumbnail and metadata, and completes the video, charges the credits and marks the step Done
in one transaction. MarkFailed is the state machine's catch-all: Failed, error message,
credits released, the attempt's steps closed and its files removed.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.enums import VideoStatus
from ecomvideo.media.formats import VIDEO_METADATA_KEYS
from ecomvideo.models import Video
from ecomvideo.observability import logger, metrics
from ecomvideo.services import (
    credits,
    media_store,
    notifications,
    pricing,
    scene_segments,
    storyboards,
    tagging,
    video_formats,
)
from ecomvideo.services.pipeline import assets, compose, messages, rows, steps
from ecomvideo.services.pipeline.messages import StepMessage
from ecomvideo.services.pipeline.results import (
    Recorded,
    StepContext,
    StepFailed,
    StepResult,
    VideoNotActive,
)
from ecomvideo.services.video_access import current_attempt
from ecomvideo.services.video_lifecycle import (
    IMAGE,
    TIMEOUT_MESSAGE,
    VIDEO,
    StepState,
    close_open_steps,
    transition,
)
from ecomvideo.settings import get_settings


def finalize_step(ctx: StepContext) -> StepResult:
    message = ctx.message
    rendered = rows.step_output(message.video_id, message.attempt, VIDEO) or {}
    rows.ensure_active(message.video_id, message.attempt)
    # A provider's clip becomes the hero scene of the composed storyboard (``compose``).
    rendered, clip, still = compose.around_clip(ctx, rendered)
    render_key = rendered.get("videoKey")
    if not render_key:
        raise StepFailed("The generated video is missing.", error="RenderMissing")
    bucket = get_settings().videos_bucket
    video = ctx.video
    video_key = assets.asset_key(video, media_store.VIDEO_FILE)
    thumb_key = assets.asset_key(video, media_store.THUMBNAIL_FILE)
    rows.ensure_active(message.video_id, message.attempt)
    with tempfile.TemporaryDirectory(prefix="finalize-") as tmp:
        path = Path(tmp) / "render.mp4"
        path.write_bytes(assets.get_object(bucket, render_key))
        path, metadata, thumb = _final_file(video, path, rendered)
        rows.ensure_active(message.video_id, message.attempt)
        aws.s3().upload_file(str(path), bucket, video_key, ExtraArgs={"ContentType": "video/mp4"})
    assets.put_asset(message.video_id, message.attempt, thumb_key, thumb, "image/jpeg")
    extras = video_formats.render_extras(  # the other formats asked for, if any
        video,
        message.attempt,
        storyboard=lambda provider: steps.storyboard_for(ctx, provider),
        put=partial(assets.put_asset, message.video_id, message.attempt),
        clip=clip,
        clip_still=still,
    )
    output = {"videoKey": video_key, "thumbnailKey": thumb_key}
    with transaction() as session:
        row, video_row = rows.lock_step(session, message)
        if video_row is None or video_row.status.is_terminal:
            active = False  # cancelled/deleted while we wrote: remove what we wrote, end it
        else:
            active = True
            if row.state == StepState.DONE:
                return Recorded(dict(row.output or {}))
            _complete_video(session, video_row, metadata, video_key, thumb_key, rendered)
            video_formats.record(video_row, extras)
            rows.mark_done(row, output)
    if not active:
        media_store.delete_keys(bucket, [video_key, thumb_key])
        raise VideoNotActive()
    media_store.delete_keys(
        bucket,
        [
            render_key,
            *_work_keys(message),
            *filter(None, [rendered.get("thumbnailKey"), rendered.get(compose.CLIP_KEY)]),
            *video_formats.work_keys(video, message.attempt),
            *scene_segments.keys(video),
        ],
    )
    metrics.add_metric(name="VideosCompleted", unit="Count", value=1)
    return Recorded(output)


def _final_file(
    video: Video, render: Path, rendered: dict[str, Any]
) -> tuple[Path, dict[str, Any], bytes]:
    """The file to store, its metadata and thumbnail: the render conformed to the plan (its
    resolution cap, its watermark; ``media.conform``), probed as written."""
    # lazy: PyAV/Pillow load only where a file is processed (webhook, sweeps import this)
    from ecomvideo.media.conform import conform
    from ecomvideo.media.probe import probe

    try:
        final = render.with_name("video.mp4")
        conformed = conform(render, final, output_limits(video))
        path = final if conformed else render
        metadata = dict(probe(path))
        if rendered.get("thumbnailKey") and not conformed:
            thumb = assets.get_object(get_settings().videos_bucket, rendered["thumbnailKey"])
        else:
            thumb = _thumbnail(path)
    except Exception as exc:
        logger.exception("conforming or probing the rendered video failed")
        raise StepFailed("The generated video is not a valid MP4.", error="InvalidVideo") from exc
    return path, metadata, thumb


def output_limits(video: Video) -> Any:
    """The plan's limits on the stored file (``media.conform.OutputLimits``): the long side of
    the smaller of the plan's ``max_resolution`` and the class the video was quoted for (a
    provider rendering more is scaled down), and the watermark when the plan carries one."""
    # lazy: PyAV/Pillow load only where a file is processed (webhook, sweeps import this)
    from ecomvideo.media.conform import WATERMARK_TEXT, OutputLimits
    from ecomvideo.media.formats import CLASS_LONG_SIDE
    from ecomvideo.services import plans

    with transaction() as session:
        plan = plans.entitlement(session, video.user_id).plan
        plan_class = str(plan.max_resolution or "1080p").lower()
        watermark = plans.watermarks_output(plan)
    quoted = pricing.resolution_class(video.resolution or "")
    sides = [CLASS_LONG_SIDE.get(plan_class), CLASS_LONG_SIDE.get(quoted)]
    return OutputLimits(
        max_long_side=min((side for side in sides if side), default=None),
        watermark=WATERMARK_TEXT if watermark else None,
    )


def _thumbnail(path: Path) -> bytes:
    # lazy: PyAV/Pillow load only where a file is processed (webhook, sweeps import this)
    from ecomvideo.media.thumbnail import thumbnail_from_video

    return thumbnail_from_video(path.read_bytes())


def _complete_video(
    session: Session,
    video: Video,
    metadata: dict[str, Any],
    video_key: str,
    thumb_key: str,
    rendered: dict[str, Any],
) -> None:
    """Completed: the file's metadata, the scenes' timings and the music bed (as rendered)."""
    bucket = get_settings().videos_bucket
    transition(video, VideoStatus.COMPLETED)
    # The storyboard as rendered (edited, or built from the request that is dropped now: its
    # variables, extra photos and music) stays what GET /storyboard shows.
    board = storyboards.for_video(session, video).to_dict()
    video.meta = {"storyboard": board, **{k: metadata[k] for k in VIDEO_METADATA_KEYS}}
    for key in ("scenes", "music"):
        if rendered.get(key):
            video.meta[key] = rendered[key]
    video.file_size_bytes = int(metadata["fileSize"])
    video.video_url = f"s3://{bucket}/{video_key}"
    video.thumbnail_url = f"s3://{bucket}/{thumb_key}"
    video.completed_at = clock.utcnow()
    video.error_message = None
    video.generation_cost_credits = credits.charge(session, video.user_id, video.id) or int(
        video.generation_cost_credits or 0
    )
    if video.template_id is not None:
        tagging.increment_template_usage(session, video.template_id)
    notify_finished(session, video)


def notify_finished(session: Session, video: Video) -> None:
    """Email + customer webhooks, enqueued in the same transaction as the final status."""
    notifications.on_video_finished(session, video)


def _work_keys(message: StepMessage) -> list[str]:
    image = rows.step_output(message.video_id, message.attempt, IMAGE) or {}
    return [image["imageKey"]] if image.get("imageKey") else []


def mark_failed(message: StepMessage) -> str:
    """Catch-all of the state machine: Failed + error_message + credits released."""
    discard: dict[str, Any] | None = None
    with transaction() as session:
        video = session.get(Video, message.video_id, with_for_update=True)
        if video is not None:
            current = current_attempt(video) == message.attempt
            if current and not video.status.is_terminal:
                transition(video, VideoStatus.FAILED)
                video.error_message = video.error_message or _describe(message.error)
                notify_finished(session, video)
                metrics.add_metric(name="VideosFailed", unit="Count", value=1)
            if video.status is not VideoStatus.COMPLETED:
                credits.release(session, video.user_id, video.id)
                close_open_steps(session, video.id, "The video failed.", attempt=message.attempt)
                discard = {
                    "user_id": video.user_id,
                    "video_id": video.id,
                    # Cancelled: everything; else this attempt's files (a retry may be next),
                    # and the final names only while no newer attempt runs.
                    "attempt": None if video.status is VideoStatus.CANCELLED else message.attempt,
                    "final": current,
                }
    if discard is not None:
        media_store.discard_unfinished(**discard)
    messages.send_success(message.task_token, {"markedFailed": True})
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
