"""Reading videos: the library (filters, keyset pages), one video's detail with its progress,
counted downloads, and the credits summary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients import aws
from ecomvideo.enums import VideoStatus
from ecomvideo.errors import Conflict, NotFound
from ecomvideo.keyset import apply_keyset, clamp_limit, decode_cursor, page
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.models.videos import Video, VideoTag, video_tag_mappings
from ecomvideo.schemas import videos as schemas
from ecomvideo.security.principal import Principal
from ecomvideo.services import tagging, video_formats
from ecomvideo.services.video_access import READ_ALL_ROLES, owned_video, visible_to
from ecomvideo.services.video_lifecycle import (
    POLL_AFTER_SECONDS,
    StepState,
    progress_percent,
    queue_position,
)

DOWNLOAD_URL_TTL = 3600


@dataclass(frozen=True)
class ListFilters:
    status: VideoStatus | None = None
    category: str | None = None
    tag: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str | None = None
    all_users: bool = False

    def __post_init__(self) -> None:
        # Timestamps are naive UTC in the database.
        for name in ("created_from", "created_to"):
            if (value := getattr(self, name)) is not None:
                object.__setattr__(self, name, clock.naive_utc(value))


def _list_statement(session: Session, principal: Principal, filters: ListFilters) -> Select:
    stmt = select(Video)
    if filters.all_users and principal.has_any(*READ_ALL_ROLES):
        pass
    else:
        stmt = stmt.where(Video.user_id == principal.user_id)
    if filters.status is not None:
        stmt = stmt.where(Video.status == filters.status)
    if filters.category:
        stmt = stmt.where(Video.category_id == tagging.resolve_category(session, filters.category))
    if filters.tag:
        tag_name = tagging.normalise_tags([filters.tag])
        stmt = stmt.where(
            Video.id.in_(
                select(video_tag_mappings.c.video_id)
                .join(VideoTag, VideoTag.id == video_tag_mappings.c.tag_id)
                .where(VideoTag.name == (tag_name[0] if tag_name else ""))
            )
        )
    if filters.created_from is not None:
        stmt = stmt.where(Video.created_at >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(Video.created_at < filters.created_to)
    if filters.q:
        # ILIKE is served by the pg_trgm GIN indexes when the extension is installed.
        pattern = (
            "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            or_(
                Video.title.ilike(pattern, escape="\\"),
                Video.description.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def list_videos(
    session: Session,
    principal: Principal,
    filters: ListFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> schemas.VideoPage:
    """Newest first, keyset-paginated; two queries per page whatever its size."""
    size = clamp_limit(limit)
    stmt = apply_keyset(
        _list_statement(session, principal, filters),
        Video.created_at,
        Video.id,
        decode_cursor(cursor),
    ).limit(size + 1)
    rows, next_cursor = page(list(session.scalars(stmt)), size)
    tags = tagging.tags_for_videos(session, [v.id for v in rows])
    return schemas.VideoPage(
        items=[_summary(v, tags.get(v.id, [])) for v in rows], next_cursor=next_cursor
    )


def _thumbnail(video: Video) -> str | None:
    if not video.thumbnail_url:
        return None
    try:
        bucket, key = aws.split_s3_uri(video.thumbnail_url)
    except ValueError:
        return video.thumbnail_url
    return aws.presigned_get(bucket, key, expires_in=DOWNLOAD_URL_TTL)


def _summary(video: Video, tags: list[str]) -> schemas.VideoSummary:
    return schemas.VideoSummary(
        id=video.id,
        title=video.title,
        description=video.description,
        status=video.status,
        input_type=video.input_type,
        aspect_ratio=video.aspect_ratio,
        resolution=video.resolution,
        duration_seconds=video.duration_seconds,
        category_id=video.category_id,
        template_id=video.template_id,
        tags=tags,
        is_public=bool(video.is_public),
        ai_provider=video.ai_provider,
        thumbnail_url=_thumbnail(video),
        created_at=video.created_at,
        completed_at=video.completed_at,
    )


def detail(session: Session, principal: Principal, video_id: uuid.UUID) -> schemas.VideoDetail:
    video = owned_video(session, principal, video_id)
    tags = tagging.tags_for_videos(session, [video.id])[video.id]
    step, shown_step, provider_progress, position = None, None, None, None
    if not video.status.is_terminal:
        current = session.scalar(
            select(PipelineStep)
            .where(PipelineStep.video_id == video.id)
            .order_by(PipelineStep.attempt.desc(), PipelineStep.created_at.desc())
            .limit(1)
        )
        if current is not None:
            step = shown_step = current.step
            provider_progress = (current.output or {}).get("provider_progress")
            if current.state == StepState.QUEUED:
                shown_step, position = "Queued", queue_position(session, current)
    download_url = None
    if video.status is VideoStatus.COMPLETED and video.video_url:
        bucket, key = aws.split_s3_uri(video.video_url)
        download_url = aws.presigned_get(bucket, key, expires_in=DOWNLOAD_URL_TTL)
    meta = video.meta or {}
    metadata = (
        meta  # validated (and anything else dropped) as schemas.VideoMetadata
        if video.status is VideoStatus.COMPLETED and "width" in meta
        else None
    )
    return schemas.VideoDetail(
        **_summary(video, tags).model_dump(),
        text_prompt=video.text_prompt,
        style=video.style,
        progress_step=shown_step,
        progress_percent=progress_percent(video.status, step, provider_progress),
        queue_position=position,
        poll_after_seconds=POLL_AFTER_SECONDS.get(video.status),
        error_message=video.error_message,
        download_url=download_url,
        download_url_expires_in=DOWNLOAD_URL_TTL if download_url else None,
        file_size_bytes=video.file_size_bytes or 0,
        download_count=video.download_count or 0,
        view_count=video.view_count or 0,
        generation_cost_credits=video.generation_cost_credits or 0,
        metadata=metadata,
        formats=video_formats.outputs(video),
        user_id=video.user_id,
        updated_at=video.updated_at,
    )


def record_download(
    session: Session, principal: Principal, video_id: uuid.UUID, ratio: str | None = None
) -> str:
    """Count the download atomically and return a presigned URL (1 h) to redirect to: the main
    file, or the rendered format ``ratio`` (a format that was not rendered is a 404, and the
    count rolls back with the request's transaction)."""
    row = session.execute(
        update(Video)
        .where(Video.id == video_id, visible_to(principal), Video.status == VideoStatus.COMPLETED)
        .values(download_count=func.coalesce(Video.download_count, 0) + 1)
        .returning(Video.video_url, Video.title, Video.aspect_ratio, Video.meta)
    ).first()
    if row is None or not row.video_url:
        owned_video(session, principal, video_id)  # 404 for others' ids
        raise Conflict("The video is not ready to download yet.")
    uri = row.video_url
    if ratio is not None and ratio != row.aspect_ratio:
        uri = video_formats.rendered_uri(row.meta, ratio)
        if uri is None:
            raise NotFound(f"This video was not rendered in the {ratio} format.")
    bucket, key = aws.split_s3_uri(uri)
    safe_name = "".join(c for c in row.title if c.isalnum() or c in " -_")[:60].strip() or "video"
    suffix = "" if ratio is None else "-" + video_formats.slug(ratio)
    return aws.presigned_get(
        bucket, key, expires_in=DOWNLOAD_URL_TTL, filename=f"{safe_name}{suffix}.mp4"
    )


def poll_headers(video_id: uuid.UUID | None, status: VideoStatus) -> dict[str, str]:
    """``Location`` of a started video and, while it runs, ``Retry-After`` (poll hint)."""
    headers = {"Location": f"/v1/videos/{video_id}"} if video_id else {}
    wait = POLL_AFTER_SECONDS.get(status)
    if wait is not None:
        headers["Retry-After"] = str(wait)
    return headers


def accepted_headers(accepted: schemas.VideoAccepted, *, replayed: bool = False) -> dict[str, str]:
    """``poll_headers`` of a video just started (create, retry, render); an Idempotency-Key
    replay says so (``Idempotent-Replayed``)."""
    headers = poll_headers(accepted.id, accepted.status)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return headers
