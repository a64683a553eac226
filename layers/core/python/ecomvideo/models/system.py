"""Spec section 7: system settings (read by every API function; the job queue's table is in
``models.jobs``, mapped only where jobs are enqueued or run)."""

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.enums import SettingDataType
from ecomvideo.models.base import (
    Base,
    audit_column,
    bool_column,
    created_at_column,
    enum_column,
    updated_at_column,
    uuid_pk,
)


class SystemSetting(Base):
    __tablename__ = "system_settings"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_system_settings_key", "key"),
        Index("ix_system_settings_category", "category"),
        Index("ix_system_settings_is_public", "is_public"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(String(100), nullable=False)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    data_type: Mapped[SettingDataType] = enum_column(
        SettingDataType, "data_type", length=20, nullable=True, default=SettingDataType.STRING
    )
    category: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = bool_column(False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    updated_by: Mapped[str | None] = audit_column()
