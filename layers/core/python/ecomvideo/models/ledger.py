"""Credit movements: the audit trail of the credit ledger (an addition to the spec).

``usage_credits`` rows are grants; every change to a grant's ``used_amount`` or activity is
recorded here, so each credit is traceable to a video, payment or grant. See
docs/decisions.md ("Credit ledger").
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import Base, created_at_column, enum_column, uuid_pk


class MovementKind(StrEnum):
    GRANT = "Grant"
    HOLD = "Hold"
    CHARGE = "Charge"
    RELEASE = "Release"
    EXPIRE = "Expire"
    CLAWBACK = "ClawBack"


class CreditMovement(Base):
    __tablename__ = "credit_movements"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_credit_movements_user_id_created_at", "user_id", "created_at"),
        Index("ix_credit_movements_usage_credit_id", "usage_credit_id"),
        Index("ix_credit_movements_video_id", "video_id"),
        # A hold is settled (charged or released) exactly once.
        Index(
            "ux_credit_movements_hold_settled_once",
            "hold_id",
            unique=True,
            postgresql_where=text("hold_id IS NOT NULL"),
        ),
        # A grant for an outside event (invoice, payment, ...) happens exactly once.
        Index(
            "ux_credit_movements_grant_reference",
            "reference",
            unique=True,
            postgresql_where=text("kind = 'Grant' AND reference IS NOT NULL"),
        ),
        # A video holds credits once per attempt.
        Index(
            "ux_credit_movements_hold_reference",
            "reference",
            "usage_credit_id",
            unique=True,
            postgresql_where=text("kind = 'Hold' AND reference IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    usage_credit_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("usage_credits.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[MovementKind] = enum_column(MovementKind, "kind", length=20)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    # No foreign key: the trail outlives a deleted video.
    video_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    hold_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("credit_movements.id", ondelete="CASCADE")
    )
    reference: Mapped[str | None] = mapped_column(String(255))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = created_at_column()


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import billing, users  # noqa: E402, F401
