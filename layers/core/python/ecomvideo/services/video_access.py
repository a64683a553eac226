"""Who may see or change a video, and small facts about a stored video, shared by the videos
service and storyboards (a module below both, so neither imports the other's internals)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.enums import UserRole, VideoStatus
from ecomvideo.errors import NotFound
from ecomvideo.models.videos import Video
from ecomvideo.security.principal import Principal

READ_ALL_ROLES = (UserRole.ADMIN, UserRole.MODERATOR, UserRole.SUPPORT)


def visible_to(principal: Principal) -> Any:
    """SQL condition: the videos the caller may read (staff read every video)."""
    if principal.has_any(*READ_ALL_ROLES):
        return True
    return Video.user_id == principal.user_id


def owned_video(
    session: Session,
    principal: Principal,
    video_id: uuid.UUID,
    *,
    write: bool = False,
    lock: bool = False,
) -> Video:
    """The video if the caller may see it (writes: only the owner); else 404, never 403."""
    stmt = select(Video).where(Video.id == video_id)
    stmt = (
        stmt.where(Video.user_id == principal.user_id)
        if write
        else stmt.where(visible_to(principal))
    )
    if lock:
        stmt = stmt.with_for_update()
    video = session.scalar(stmt)
    if video is None:
        raise NotFound("No such video.")
    return video


def awaiting_confirmation(video: Video) -> bool:
    """Created with ``auto_render: false`` and not rendered yet."""
    request = (video.meta or {}).get("request") or {}
    return video.status is VideoStatus.PENDING and bool(request.get("awaitingConfirmation"))


def current_attempt(video: Video) -> int:
    """The attempt the video is on (1, then one more per retry)."""
    return int(((video.meta or {}).get("request") or {}).get("attempt", 1))
