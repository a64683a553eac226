"""Share links and public access to videos.

A share is a ``video_shares`` row plus a ``video_share_links`` slug (128 random bits, URL-safe):
the link is a capability, like an "unlisted" video elsewhere. Whoever holds it can watch the
video while it is Completed and the owner has not revoked the link, even when the video itself
is private (``is_public`` false). Without a live link a private video is unreachable: every
public lookup that fails (unknown slug, revoked link, private video id, video not Completed)
answers the same 404, so nothing tells a stranger that a private video exists.

Videos with ``is_public`` are also reachable by their id as slug.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.enums import VideoStatus
from ecomvideo.errors import Conflict, NotFound
from ecomvideo.keyset import apply_keyset, decode_cursor, encode_cursor, page
from ecomvideo.models import Video, VideoShare
from ecomvideo.models.engagement import VideoShareLink
from ecomvideo.schemas import sharing as schemas
from ecomvideo.security.principal import Principal
from ecomvideo.services import public_media
from ecomvideo.services.account_guards import require_verified
from ecomvideo.services.video_access import owned_video
from ecomvideo.settings import get_settings

_NOT_FOUND = "No such video."


@dataclass(frozen=True)
class Preset:
    recommended_aspect_ratio: str | None
    accepted_aspect_ratios: tuple[str, ...]
    max_duration_seconds: int | None
    recommended_duration_seconds: int | None
    caption_max_length: int | None
    # top, bottom, left, right margins in percent of the frame covered by the platform's UI
    safe_zone: tuple[float, float, float, float] | None


# Published platform guidance (2025); the numbers are for warnings, not hard limits.
PRESETS: dict[str, Preset] = {
    "Instagram": Preset("9:16", ("9:16", "4:5", "1:1"), 180, 30, 2200, (14.0, 20.0, 6.0, 6.0)),
    "TikTok": Preset("9:16", ("9:16",), 600, 30, 4000, (8.0, 25.0, 5.0, 13.0)),
    "YouTube": Preset("9:16", ("9:16", "1:1"), 180, 45, 100, (15.0, 20.0, 5.0, 12.0)),
    "Twitter/X": Preset("16:9", ("16:9", "1:1", "9:16", "4:5"), 140, 30, 280, None),
    "Facebook": Preset(
        "9:16", ("9:16", "4:5", "1:1", "16:9"), 90, 30, 2200, (14.0, 20.0, 6.0, 6.0)
    ),
    "Pinterest": Preset(
        "9:16", ("9:16", "2:3", "4:5", "1:1"), 900, 15, 500, (10.0, 25.0, 5.0, 5.0)
    ),
    "Link": Preset(None, (), None, None, None, None),
}
ALIASES = {"Twitter": "Twitter/X", "X": "Twitter/X"}


def normalise_platform(platform: str) -> str:
    """Canonical platform name ("X" and "Twitter" are "Twitter/X")."""
    return ALIASES.get(platform, platform)


def preset_out(platform: str) -> schemas.PlatformPreset:
    preset = PRESETS[platform]
    zone = None
    if preset.safe_zone is not None:
        top, bottom, left, right = preset.safe_zone
        zone = schemas.SafeZone(top_pct=top, bottom_pct=bottom, left_pct=left, right_pct=right)
    return schemas.PlatformPreset(
        platform=platform,
        recommended_aspect_ratio=preset.recommended_aspect_ratio,
        accepted_aspect_ratios=list(preset.accepted_aspect_ratios),
        max_duration_seconds=preset.max_duration_seconds,
        recommended_duration_seconds=preset.recommended_duration_seconds,
        caption_max_length=preset.caption_max_length,
        safe_zone=zone,
    )


def fit_warnings(platform: str, video: Video, caption: str | None) -> list[str]:
    """Human-readable reasons the video or caption does not fit ``platform``."""
    preset = PRESETS[platform]
    warnings: list[str] = []
    accepted = preset.accepted_aspect_ratios
    if accepted and video.aspect_ratio not in accepted:
        warnings.append(
            f"{platform} expects {', '.join(accepted)}; this video is {video.aspect_ratio}."
        )
    duration = int((video.meta or {}).get("duration") or video.duration_seconds or 0)
    if preset.max_duration_seconds and duration > preset.max_duration_seconds:
        warnings.append(
            f"{platform} accepts up to {preset.max_duration_seconds} s; this video is {duration} s."
        )
    if caption and preset.caption_max_length and len(caption) > preset.caption_max_length:
        warnings.append(
            f"{platform} captions are limited to {preset.caption_max_length} characters; "
            f"this one has {len(caption)}."
        )
    return warnings


def _share_out(share: VideoShare, link: VideoShareLink, video: Video) -> schemas.ShareOut:
    settings = get_settings()
    caption = (share.meta or {}).get("caption")
    return schemas.ShareOut(
        id=share.id,
        video_id=share.video_id,
        platform=share.platform,
        slug=link.slug,
        share_url=f"{settings.frontend_url.rstrip('/')}/s/{link.slug}",
        public_api_url=f"/v1/public/videos/{link.slug}",
        shared_at=share.shared_at,
        revoked_at=link.revoked_at,
        caption=caption,
        preset=preset_out(share.platform),
        warnings=fit_warnings(share.platform, video, caption),
    )


def create_share(
    session: Session, principal: Principal, video_id: uuid.UUID, body: schemas.ShareCreate
) -> schemas.ShareOut:
    """Record a share of the caller's Completed video and mint its public link."""
    video = owned_video(session, principal, video_id, write=True)
    require_verified(session, principal.user_id, "sharing")
    if video.status is not VideoStatus.COMPLETED or not video.video_url:
        raise Conflict("Only completed videos can be shared.")
    platform = normalise_platform(body.platform)
    now = clock.utcnow()
    share = VideoShare(
        id=uuid.uuid4(),
        video_id=video.id,
        user_id=principal.user_id,
        platform=platform,
        shared_at=now,
        meta={"caption": body.caption} if body.caption else None,
    )
    session.add(share)
    session.flush()
    link = VideoShareLink(slug=secrets.token_urlsafe(16), share_id=share.id, video_id=video.id)
    link.created_at = now
    session.add(link)
    session.execute(
        update(Video).where(Video.id == video.id).values(share_count=Video.share_count + 1)
    )
    session.flush()
    return _share_out(share, link, video)


def list_shares(
    session: Session,
    principal: Principal,
    video_id: uuid.UUID,
    *,
    limit: int = 20,
    cursor: str | None = None,
) -> schemas.ShareList:
    """The video's shares, newest first (owner, or staff), one page."""
    video = owned_video(session, principal, video_id)
    stmt = apply_keyset(
        select(VideoShare, VideoShareLink)
        .join(VideoShareLink, VideoShareLink.share_id == VideoShare.id)
        .where(VideoShare.video_id == video.id),
        VideoShare.shared_at,
        VideoShare.id,
        decode_cursor(cursor),
    )
    rows, next_cursor = page(
        list(session.execute(stmt.limit(limit + 1)).all()),
        limit,
        lambda row: encode_cursor(row[0].shared_at, row[0].id),
    )
    items = [_share_out(share, link, video) for share, link in rows]
    return schemas.ShareList(items=items, next_cursor=next_cursor)


def revoke_share(
    session: Session, principal: Principal, video_id: uuid.UUID, share_id: uuid.UUID
) -> None:
    """Disable a share link at once (idempotent); the share stays in the history."""
    owned_video(session, principal, video_id, write=True)
    link = session.scalar(
        select(VideoShareLink).where(
            VideoShareLink.share_id == share_id, VideoShareLink.video_id == video_id
        )
    )
    if link is None:
        raise NotFound("No such share.")
    if link.revoked_at is None:
        link.revoked_at = clock.utcnow()
        session.flush()


# ---------------------------------------------------------------------------- public access


@dataclass(frozen=True)
class PublicTarget:
    video: Video
    platform: str | None
    share_id: uuid.UUID | None


def resolve_public(session: Session, slug: str) -> PublicTarget:
    """The video behind a public slug, or NotFound (same answer for every failure)."""
    shareable = (Video.status == VideoStatus.COMPLETED, Video.video_url.is_not(None))
    try:
        video_id = uuid.UUID(slug)
    except ValueError:
        video_id = None
    if video_id is not None:
        video = session.scalar(
            select(Video).where(Video.id == video_id, Video.is_public.is_(True), *shareable)
        )
        if video is not None:
            return PublicTarget(video=video, platform=None, share_id=None)
        raise NotFound(_NOT_FOUND)
    if len(slug) > 32:
        raise NotFound(_NOT_FOUND)
    row = session.execute(
        select(Video, VideoShare.platform, VideoShare.id)
        .join(VideoShareLink, VideoShareLink.video_id == Video.id)
        .join(VideoShare, VideoShare.id == VideoShareLink.share_id)
        .where(VideoShareLink.slug == slug, VideoShareLink.revoked_at.is_(None), *shareable)
    ).first()
    if row is None:
        raise NotFound(_NOT_FOUND)
    video, platform, share_id = row
    return PublicTarget(video=video, platform=platform, share_id=share_id)


def public_video(session: Session, slug: str) -> schemas.PublicVideo:
    """Metadata and the opaque media URLs of a public slug (``public_media``): nothing in the
    answer names the owner or where the media is stored."""
    target = resolve_public(session, slug)
    video = target.video
    return schemas.PublicVideo(
        slug=slug,
        title=video.title,
        description=video.description,
        aspect_ratio=video.aspect_ratio,
        resolution=video.resolution,
        duration_seconds=video.duration_seconds,
        platform=target.platform,
        stream_url=public_media.media_path(slug, "video"),
        stream_url_expires_in=public_media.MEDIA_URL_TTL,
        thumbnail_url=public_media.media_path(slug, "thumbnail") if video.thumbnail_url else None,
        view_count=video.view_count or 0,
        published_at=video.completed_at,
    )
