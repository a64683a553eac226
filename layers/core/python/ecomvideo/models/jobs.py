"""Spec section 7: the background job queue (``background_jobs``)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.enums import JobStatus
from ecomvideo.models.base import (
    Base,
    created_at_column,
    enum_column,
    int_column,
    updated_at_column,
    uuid_pk,
)


class BackgroundJob(Base):
    __tablename__ = "background_jobs"
    __table_args__ = (
        Index("ix_background_jobs_job_type", "job_type"),
        Index("ix_background_jobs_status", "status"),
        Index("ix_background_jobs_scheduled_at", "scheduled_at"),
        Index("ix_background_jobs_priority", "priority"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    job_type: Mapped[str] = mapped_column(String(100), nullable=False)
    job_data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[JobStatus] = enum_column(
        JobStatus, "status", nullable=True, default=JobStatus.PENDING
    )
    priority: Mapped[int] = int_column(0)
    attempts: Mapped[int] = int_column(0)
    max_attempts: Mapped[int] = int_column(3)
    scheduled_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP")
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    error_message: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()


__all__ = ["BackgroundJob"]
