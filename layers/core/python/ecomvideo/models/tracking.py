"""Spec section 6, API usage (high-volume, retention-bound, RANGE-partitioned by month on
``created_at`` like ``video_analytics``; see ``ecomvideo.models.analytics``). Apart from the
other tables so that every API function, which logs usage, declares only this and ``users``;
``user_activity`` is in ``models.activity``.
"""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import INET, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import Base, bool_column, uuid_pk


def partition_key_column() -> Mapped[datetime]:
    """``created_at`` as the partition key: part of the primary key, defaulting to now."""
    return mapped_column(
        DateTime, primary_key=True, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )


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


# What this module's foreign keys name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users  # noqa: E402, F401
