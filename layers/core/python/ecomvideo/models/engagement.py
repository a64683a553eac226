"""Sharing (spec section 2's ``video_shares``) and the tables added for sharing and analytics
(issue 9, see docs/decisions.md); apart from the video tables, which most functions map.

* ``video_shares``: one share of a video by its owner to a platform.
* ``video_share_links``: the unguessable public slug of a ``video_shares`` row (a capability
  URL: whoever has the link can watch the video until the owner revokes it).
* ``video_analytics_daily``: a per-day rollup of ``video_analytics`` maintained in the same
  transaction as each raw event; reports read it instead of scanning raw events. One row per
  (video, day, event type, dimension, value) where dimension is ``total``, ``platform``,
  ``country`` or ``device``, so a day has (1 + #platforms + #countries + #devices) rows per event
  type, not their product.
* ``analytics_counted_sessions``: when a (video, session, event type) was last counted; an
  upsert with a condition makes "one counted view per session per 30 minutes" atomic.
"""

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, String, text
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


class VideoAnalyticsDaily(Base):
    __tablename__ = "video_analytics_daily"
    __table_args__ = (
        # Owner overview and the admin overview read by day range.
        Index("ix_video_analytics_daily_owner_id_day", "owner_id", "day"),
        Index("ix_video_analytics_daily_day", "day"),
    )

    video_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("videos.id", ondelete="CASCADE"),
        primary_key=True,
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Denormalised video owner (videos never change hands): overview without a join.
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    counted: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    bots: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    watch_seconds: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))


class AnalyticsCountedSession(Base):
    __tablename__ = "analytics_counted_sessions"
    __table_args__ = (Index("ix_analytics_counted_sessions_counted_at", "counted_at"),)

    # No foreign key: rows live 30 minutes and must not slow deletes of videos.
    video_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    session_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users, videos  # noqa: E402, F401
