"""Sharing (spec section 2's ``video_shares``) and the table added for public links (issue 9,
see docs/decisions.md); apart from the video tables, which most functions map, and from the
analytics rollups (``models.rollups``), which only recording and reports use.

* ``video_shares``: one share of a video by its owner to a platform.
* ``video_share_links``: the unguessable public slug of a ``video_shares`` row (a capability
  URL: whoever has the link can watch the video until the owner revokes it).
"""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.models.base import Base, uuid_pk

if TYPE_CHECKING:
    from ecomvideo.models.users import User
    from ecomvideo.models.videos import Video


class VideoShare(Base):
    __tablename__ = "video_shares"
    __table_args__ = (
        Index("ix_video_shares_video_id", "video_id"),
        Index("ix_video_shares_user_id", "user_id"),
        Index("ix_video_shares_platform", "platform"),
        Index("ix_video_shares_shared_at", "shared_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    video_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("videos.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    shared_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)

    video: Mapped["Video"] = relationship()
    user: Mapped["User"] = relationship()


class VideoShareLink(Base):
    __tablename__ = "video_share_links"
    __table_args__ = (Index("ix_video_share_links_video_id", "video_id"),)

    slug: Mapped[str] = mapped_column(String(32), primary_key=True)
    share_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("video_shares.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    )
    video_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("videos.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users, videos  # noqa: E402, F401
