"""Spec section 6, ``user_activity``: the audit trail of what users did (partitioned like
``api_usage``, whose ``partition_key_column`` it shares)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import Base, uuid_pk
from ecomvideo.models.tracking import partition_key_column


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


__all__ = ["UserActivity"]

# What this module's foreign keys name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users  # noqa: E402, F401
