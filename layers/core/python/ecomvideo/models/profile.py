"""Spec section 5: the user's interests and notification settings (read by the account routes,
registration and the mail jobs, not by video creation)."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.models.base import (
    Base,
    audit_column,
    bool_column,
    created_at_column,
    int_column,
    updated_at_column,
    uuid_pk,
)

if TYPE_CHECKING:
    from ecomvideo.models.users import User


class UserInterest(Base):
    __tablename__ = "user_interests"
    __table_args__ = (
        Index("ix_user_interests_user_id", "user_id"),
        Index("ix_user_interests_category", "category"),
        Index("ix_user_interests_user_category", "user_id", "category", unique=True),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    category: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[int] = int_column(1)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()

    user: Mapped["User"] = relationship()


class NotificationSettings(Base):
    __tablename__ = "notification_settings"
    __table_args__ = (
        UniqueConstraint("user_id"),
        Index("ix_notification_settings_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    video_completed: Mapped[bool] = bool_column(True)
    video_failed: Mapped[bool] = bool_column(True)
    subscription_renewal: Mapped[bool] = bool_column(True)
    subscription_expired: Mapped[bool] = bool_column(True)
    payment_failed: Mapped[bool] = bool_column(True)
    new_features: Mapped[bool] = bool_column(True)
    marketing_updates: Mapped[bool] = bool_column(False)
    weekly_digest: Mapped[bool] = bool_column(True)
    email_enabled: Mapped[bool] = bool_column(True)
    push_enabled: Mapped[bool] = bool_column(True)
    sms_enabled: Mapped[bool] = bool_column(False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    updated_by: Mapped[str | None] = audit_column()

    user: Mapped["User"] = relationship()


__all__ = ["NotificationSettings", "UserInterest"]

# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users  # noqa: E402, F401
