"""Spec section 5: user preferences (the defaults of a new video, read when one is created);
interests and notification settings are in ``models.profile``."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.models.base import (
    Base,
    audit_column,
    bool_column,
    created_at_column,
    int_column,
    str_default,
    updated_at_column,
    uuid_pk,
)

if TYPE_CHECKING:
    from ecomvideo.models.users import User


class UserPreferences(Base):
    __tablename__ = "user_preferences"
    __table_args__ = (
        UniqueConstraint("user_id"),
        Index("ix_user_preferences_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    default_video_resolution: Mapped[str] = str_default(20, "1080x1920")
    default_aspect_ratio: Mapped[str] = str_default(10, "9:16")
    default_video_duration: Mapped[int] = int_column(5)
    preferred_ai_provider: Mapped[str] = str_default(50, "Freepik")
    auto_save_to_library: Mapped[bool] = bool_column(True)
    auto_generate_thumbnails: Mapped[bool] = bool_column(True)
    watermark_enabled: Mapped[bool] = bool_column(False)
    default_video_quality: Mapped[str] = str_default(20, "High")
    preferred_language: Mapped[str] = str_default(10, "en-US")
    timezone: Mapped[str] = str_default(50, "UTC")
    date_format: Mapped[str] = str_default(20, "MM/DD/YYYY")
    time_format: Mapped[str] = str_default(10, "12h")
    theme: Mapped[str] = str_default(20, "Dark")
    email_notifications_enabled: Mapped[bool] = bool_column(True)
    push_notifications_enabled: Mapped[bool] = bool_column(True)
    marketing_emails_enabled: Mapped[bool] = bool_column(False)
    two_factor_enabled: Mapped[bool] = bool_column(False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    updated_by: Mapped[str | None] = audit_column()

    user: Mapped["User"] = relationship()


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users  # noqa: E402, F401
