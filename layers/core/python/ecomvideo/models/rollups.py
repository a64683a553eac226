"""The tables added for analytics (issue 9, see docs/decisions.md), next to the raw events of
``models.analytics``: written by recording (``services.analytics``, the analytics_ingest
function), read by reports and the cleanup; apart from sharing's tables so that the sharing
and public functions, which only read and write links, do not declare them.

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

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import Base


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


# What this module's foreign keys name (``ecomvideo.models`` is lazy).
from ecomvideo.models import videos  # noqa: E402, F401
