"""Pipeline bookkeeping and request idempotency (additions to the spec, see docs/decisions.md).

``video_pipeline_steps``: one row per (video, attempt, step) of the Step Functions pipeline. The
worker writes it *before* side effects (state, provider task id, task token) and checks it
first, so a redelivered SQS message neither starts a second provider task nor charges twice.
It also keeps the Step Functions task token (too long for the spec's video columns) so the
Freepik webhook can resume the execution. ``videos.metadata`` stays exactly the spec's
VideoMetadata once the video is completed.

``idempotency_keys``: the ``Idempotency-Key`` header of ``POST /v1/videos`` per user, with a
hash of the request body and the video it created.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import Base, created_at_column, updated_at_column


class PipelineStep(Base):
    __tablename__ = "video_pipeline_steps"
    __table_args__ = (
        # The webhook finds the waiting step by the provider's task id.
        Index(
            "ux_video_pipeline_steps_provider_task_id",
            "provider_task_id",
            unique=True,
            postgresql_where=text("provider_task_id IS NOT NULL"),
        ),
        # The polling sweep: waiting provider steps by due time (migration 0013).
        Index(
            "ix_video_pipeline_steps_next_poll_at",
            "next_poll_at",
            postgresql_where=text("state = 'Started' AND provider_task_id IS NOT NULL"),
        ),
        # The concurrency gate: queued steps of a provider in arrival order (migration 0015).
        Index(
            "ix_video_pipeline_steps_queued",
            "provider",
            "queued_at",
            postgresql_where=text("state = 'Queued'"),
        ),
    )

    video_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    step: Mapped[str] = mapped_column(String(50), primary_key=True)
    # Pending -> Started -> Done | Failed (see services.pipeline.StepState).
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    provider: Mapped[str | None] = mapped_column(String(50))
    provider_task_id: Mapped[str | None] = mapped_column(String(200))
    task_token: Mapped[str | None] = mapped_column(Text)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(String(2000))
    deliveries: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the provider task is polled next (backoff from its start) and how often it was.
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime)
    polls: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    # When the state that issued ``task_token`` was entered: tokens only move forward.
    token_entered_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the step first waited for a slot of the provider gate: first come, first served.
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    resource_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users, videos  # noqa: E402, F401
