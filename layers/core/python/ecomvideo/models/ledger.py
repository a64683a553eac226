"""The credit ledger: grants (spec section 4's ``usage_credits``) and their movements.

``credit_movements`` is an addition to the spec. ``usage_credits`` rows are grants; every
change to a grant's ``used_amount`` or activity is recorded here, so each credit is traceable
to a video, payment or grant. See docs/decisions.md ("Credit ledger").
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.enums import CreditSource, CreditType
from ecomvideo.models.base import (
    Base,
    audit_column,
    bool_column,
    created_at_column,
    enum_column,
    int_column,
    updated_at_column,
    uuid_pk,
)

if TYPE_CHECKING:
    from ecomvideo.models.users import User


class UsageCredit(Base):
    """A credit grant. ``used_amount`` grows as videos are charged; never past ``amount``."""

    __tablename__ = "usage_credits"
    __table_args__ = (
        Index("ix_usage_credits_user_id", "user_id"),
        Index("ix_usage_credits_user_subscription_id", "user_subscription_id"),
        Index("ix_usage_credits_credit_type", "credit_type"),
        Index("ix_usage_credits_expires_at", "expires_at"),
        Index("ix_usage_credits_is_active", "is_active"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("used_amount >= 0 AND used_amount <= amount", name="used_amount_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    user_subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_subscriptions.id")
    )
    credit_type: Mapped[CreditType] = enum_column(CreditType, "credit_type")
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    used_amount: Mapped[int] = int_column(0)
    source: Mapped[CreditSource] = enum_column(CreditSource, "source")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    is_active: Mapped[bool] = bool_column(True)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()

    user: Mapped["User"] = relationship()


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
