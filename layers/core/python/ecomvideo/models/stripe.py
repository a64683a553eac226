"""Stripe bookkeeping tables (an addition to the spec; see docs/decisions.md "Billing").

* ``stripe_events``: one row per processed webhook event. The primary key on the event id is
  what makes a redelivery a no-op and serialises parallel deliveries of one event.
* ``billing_customers``: our user <-> Stripe customer (created once per user, reused).
* ``credit_packs``: one-off credit packs sold through Checkout (mode payment).
* ``stripe_prices``: every Stripe Price we sell, mapped to a plan + billing cycle or to a credit
  pack. Webhooks map a subscription item's price back to a plan through this table (a price
  change does not change a subscription's metadata); retired prices stay so that old
  subscriptions still map.
"""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.enums import BillingCycle
from ecomvideo.models.base import (
    Base,
    bool_column,
    created_at_column,
    enum_column,
    int_column,
    str_default,
    updated_at_column,
    uuid_pk,
)


class StripeEvent(Base):
    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_processed_at", "processed_at"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_...
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    created: Mapped[datetime] = mapped_column(DateTime, nullable=False)  # Stripe's event time
    processed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class BillingCustomer(Base):
    __tablename__ = "billing_customers"
    __table_args__ = (UniqueConstraint("stripe_customer_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    stripe_customer_id: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class CreditPack(Base):
    __tablename__ = "credit_packs"
    __table_args__ = (
        UniqueConstraint("code"),
        CheckConstraint("credits > 0", name="credits_positive"),
        CheckConstraint("price >= 0", name="price_non_negative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(50), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    credits: Mapped[int] = mapped_column(Integer, nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    currency: Mapped[str] = str_default(3, "USD")
    # Purchased credits expire after this many days (NULL: never).
    validity_days: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = bool_column(True)
    sort_order: Mapped[int] = int_column(0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()


class StripePrice(Base):
    __tablename__ = "stripe_prices"
    __table_args__ = (
        Index("ix_stripe_prices_subscription_plan_id", "subscription_plan_id"),
        Index("ix_stripe_prices_credit_pack_id", "credit_pack_id"),
        CheckConstraint(
            "(subscription_plan_id IS NOT NULL AND billing_cycle IS NOT NULL"
            " AND credit_pack_id IS NULL)"
            " OR (credit_pack_id IS NOT NULL AND subscription_plan_id IS NULL)",
            name="plan_or_pack",
        ),
    )

    stripe_price_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    stripe_product_id: Mapped[str] = mapped_column(String(255), nullable=False)
    subscription_plan_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("subscription_plans.id", ondelete="CASCADE")
    )
    billing_cycle: Mapped[BillingCycle | None] = enum_column(
        BillingCycle, "billing_cycle", length=20, nullable=True
    )
    credit_pack_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("credit_packs.id", ondelete="CASCADE")
    )
    unit_amount: Mapped[int] = mapped_column(Integer, nullable=False)  # minor units
    currency: Mapped[str] = str_default(3, "USD")
    # Only one active price per (plan, cycle) / pack is offered in new checkouts.
    is_active: Mapped[bool] = bool_column(True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()


class StripeParkedEvent(Base):
    """A verified webhook event that could not be applied yet: it depends on an object we do
    not know (payment, invoice, subscription, customer) or cannot map (which pack or plan a
    price sells). Acknowledged to Stripe, kept here, and re-applied when the missing object
    arrives (an event of the same customer) or by the scheduled sweep; see docs/webhooks.md."""

    __tablename__ = "stripe_parked_events"
    __table_args__ = (
        UniqueConstraint("event_id"),
        CheckConstraint("state IN ('parked', 'applied')", name="state"),
        Index("ix_stripe_parked_events_state_created_at", "state", "created_at"),
        Index(
            "ix_stripe_parked_events_customer",
            "stripe_customer_id",
            postgresql_where=text("state = 'parked'"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)  # evt_...
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    event_created: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    # What the event waits for, e.g. "payment:pi_...", "customer:cus_...", "price:price_...".
    waiting_for: Mapped[str] = mapped_column(String(300), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, server_default="parked")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import billing, users  # noqa: E402, F401
