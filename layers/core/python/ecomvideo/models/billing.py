"""Spec section 4, subscriptions: plans, a user's subscriptions and payment methods.

The rest of section 4 lives where it is used: payments and invoices in ``models.payments``,
credit grants (``usage_credits``) with their movements in ``models.ledger``. A function that
only asks for a user's plan (every API function: rate limits, ``services.plans``) maps these
three classes, not the whole section (cold start).
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.enums import (
    ACTIVE_SUBSCRIPTION_STATUSES,
    BillingCycle,
    PaymentMethodType,
    PaymentProvider,
    SubscriptionStatus,
)
from ecomvideo.models.base import (
    Base,
    audit_column,
    bool_column,
    created_at_column,
    enum_column,
    int_column,
    str_default,
    updated_at_column,
    uuid_pk,
)

if TYPE_CHECKING:
    from ecomvideo.models.users import User

_ACTIVE_STATUSES_SQL = ", ".join(f"'{s.value}'" for s in ACTIVE_SUBSCRIPTION_STATUSES)


class SubscriptionPlan(Base):
    __tablename__ = "subscription_plans"
    __table_args__ = (
        UniqueConstraint("name"),
        Index("ix_subscription_plans_name", "name"),
        Index("ix_subscription_plans_is_active", "is_active"),
        Index("ix_subscription_plans_is_popular", "is_popular"),
        Index("ix_subscription_plans_features_gin", "features", postgresql_using="gin"),
        CheckConstraint("price_monthly >= 0", name="price_monthly_non_negative"),
        CheckConstraint("video_credits_monthly >= 0", name="credits_non_negative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    price_monthly: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    price_yearly: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    currency: Mapped[str] = str_default(3, "USD")
    video_credits_monthly: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    max_video_duration: Mapped[int] = int_column(15)
    max_resolution: Mapped[str] = str_default(20, "1080p")
    ai_providers: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    features: Mapped[Any | None] = mapped_column(JSONB)
    is_popular: Mapped[bool] = bool_column(False)
    is_active: Mapped[bool] = bool_column(True)
    trial_days: Mapped[int] = int_column(0)
    sort_order: Mapped[int] = int_column(0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()


class UserSubscription(Base):
    __tablename__ = "user_subscriptions"
    __table_args__ = (
        Index("ix_user_subscriptions_user_id", "user_id"),
        Index("ix_user_subscriptions_subscription_plan_id", "subscription_plan_id"),
        Index("ix_user_subscriptions_status", "status"),
        Index("ix_user_subscriptions_ends_at", "ends_at"),
        Index("ix_user_subscriptions_stripe_subscription_id", "stripe_subscription_id"),
        # Business rule: one active subscription per user.
        Index(
            "ux_user_subscriptions_one_active",
            "user_id",
            unique=True,
            postgresql_where=text(f"status IN ({_ACTIVE_STATUSES_SQL})"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    subscription_plan_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("subscription_plans.id"), nullable=False
    )
    status: Mapped[SubscriptionStatus] = enum_column(SubscriptionStatus, "status")
    billing_cycle: Mapped[BillingCycle] = enum_column(BillingCycle, "billing_cycle", length=20)
    price_paid: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    currency: Mapped[str] = str_default(3, "USD")
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    trial_ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    auto_renew: Mapped[bool] = bool_column(True)
    payment_method_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payment_methods.id")
    )
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()

    user: Mapped["User"] = relationship()
    plan: Mapped["SubscriptionPlan"] = relationship()
    payment_method: Mapped["PaymentMethod | None"] = relationship()


class PaymentMethod(Base):
    __tablename__ = "payment_methods"
    __table_args__ = (
        Index("ix_payment_methods_user_id", "user_id"),
        Index("ix_payment_methods_external_id", "external_id"),
        Index("ix_payment_methods_is_default", "is_default"),
        Index("ix_payment_methods_is_active", "is_active"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[PaymentMethodType] = enum_column(PaymentMethodType, "type")
    provider: Mapped[PaymentProvider] = enum_column(PaymentProvider, "provider")
    external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    last_four_digits: Mapped[str | None] = mapped_column(String(4))
    brand: Mapped[str | None] = mapped_column(String(50))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    is_default: Mapped[bool] = bool_column(False)
    is_active: Mapped[bool] = bool_column(True)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()

    user: Mapped["User"] = relationship()


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users  # noqa: E402, F401
