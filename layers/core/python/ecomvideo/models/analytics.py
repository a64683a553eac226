"""Spec section 6: analytics and tracking (high-volume, retention-bound tables).

The three tables are RANGE-partitioned by month on ``created_at`` (migration 0006), so their
primary key is ``(id, created_at)``: PostgreSQL requires the partition key in every unique
constraint (docs/decisions.md). ``id`` alone is still unique in practice (random UUIDs).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.enums import AnalyticsEventType, DeviceType
from ecomvideo.models.base import Base, bool_column, enum_column, uuid_pk

if TYPE_CHECKING:
    from ecomvideo.models.videos import Video


def partition_key_column() -> Mapped[datetime]:
    """``created_at`` as the partition key: part of the primary key, defaulting to now."""
    return mapped_column(
        DateTime, primary_key=True, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )


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

    video: Mapped[Video] = relationship(back_populates="analytics")


class UserActivity(Base):
    __tablename__ = "user_activity"
    __table_args__ = (
        Index("ix_user_activity_user_id", "user_id"),
        Index("ix_user_activity_action", "action"),
        Index("ix_user_activity_resource_type", "resource_type"),
        Index("ix_user_activity_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    resource_type: Mapped[str | None] = mapped_column(String(50))
    resource_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    description: Mapped[str | None] = mapped_column(String(500))
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(1000))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = partition_key_column()


class ApiUsage(Base):
    __tablename__ = "api_usage"
    __table_args__ = (
        Index("ix_api_usage_user_id", "user_id"),
        Index("ix_api_usage_endpoint", "endpoint"),
        Index("ix_api_usage_status_code", "status_code"),
        Index("ix_api_usage_created_at", "created_at"),
        Index("ix_api_usage_rate_limit_hit", "rate_limit_hit"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    endpoint: Mapped[str] = mapped_column(String(200), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response_time_ms: Mapped[int | None] = mapped_column(Integer)
    request_size_bytes: Mapped[int | None] = mapped_column(Integer)
    response_size_bytes: Mapped[int | None] = mapped_column(Integer)
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(1000))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    rate_limit_hit: Mapped[bool] = bool_column(False)
    error_message: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = partition_key_column()
