"""Spec section 6: analytics and tracking (high-volume, retention-bound tables).

The three tables are RANGE-partitioned by month on ``created_at`` (migration 0006), so their
primary key is ``(id, created_at)``: PostgreSQL requires the partition key in every unique
constraint (docs/decisions.md). ``id`` alone is still unique in practice (random UUIDs).
"""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.enums import AnalyticsEventType, DeviceType
from ecomvideo.models.activity import UserActivity
from ecomvideo.models.base import Base, enum_column, uuid_pk
from ecomvideo.models.tracking import ApiUsage, partition_key_column

if TYPE_CHECKING:
    from ecomvideo.models.videos import Video


class VideoAnalytics(Base):
    __tablename__ = "video_analytics"
    __table_args__ = (
        Index("ix_video_analytics_video_id", "video_id"),
        Index("ix_video_analytics_user_id", "user_id"),
        Index("ix_video_analytics_event_type", "event_type"),
        Index("ix_video_analytics_platform", "platform"),
        Index("ix_video_analytics_created_at", "created_at"),
        Index("ix_video_analytics_country_code", "country_code"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    video_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("videos.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    event_type: Mapped[AnalyticsEventType] = enum_column(AnalyticsEventType, "event_type")
    platform: Mapped[str | None] = mapped_column(String(50))
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(1000))
    referrer: Mapped[str | None] = mapped_column(String(500))
    country_code: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(100))
    device_type: Mapped[DeviceType | None] = enum_column(DeviceType, "device_type", nullable=True)
    browser: Mapped[str | None] = mapped_column(String(100))
    os: Mapped[str | None] = mapped_column(String(100))
    session_id: Mapped[str | None] = mapped_column(String(255))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = partition_key_column()

    video: Mapped["Video"] = relationship()


__all__ = ["ApiUsage", "UserActivity", "VideoAnalytics", "partition_key_column"]

# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users, videos  # noqa: E402, F401
