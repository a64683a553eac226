"""Spec section 4, payments: Stripe payments and their invoices (money is DECIMAL)."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.enums import InvoiceStatus, PaymentProvider, PaymentStatus
from ecomvideo.models.base import (
    Base,
    audit_column,
    created_at_column,
    enum_column,
    str_default,
    updated_at_column,
    uuid_pk,
)

if TYPE_CHECKING:
    from ecomvideo.models.billing import UserSubscription


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("payment_intent_id"),
        Index("ix_payments_user_id", "user_id"),
        Index("ix_payments_user_subscription_id", "user_subscription_id"),
        Index("ix_payments_payment_method_id", "payment_method_id"),
        Index("ix_payments_status", "status"),
        Index("ix_payments_payment_intent_id", "payment_intent_id"),
        Index("ix_payments_created_at", "created_at"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    user_subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_subscriptions.id")
    )
    payment_method_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payment_methods.id")
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    currency: Mapped[str] = str_default(3, "USD")
    status: Mapped[PaymentStatus] = enum_column(PaymentStatus, "status")
    payment_intent_id: Mapped[str] = mapped_column(String(255), nullable=False)
    provider: Mapped[PaymentProvider] = enum_column(PaymentProvider, "provider")
    provider_fee: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    description: Mapped[str | None] = mapped_column(String(500))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    refunded_amount: Mapped[Decimal] = mapped_column(
        Numeric(8, 2), nullable=True, default=Decimal("0"), server_default=text("0")
    )
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()

    subscription: Mapped["UserSubscription | None"] = relationship()
    invoices: Mapped[list["Invoice"]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", passive_deletes=True
    )


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("invoice_number"),
        Index("ix_invoices_payment_id", "payment_id"),
        Index("ix_invoices_invoice_number", "invoice_number"),
        Index("ix_invoices_status", "status"),
        Index("ix_invoices_issued_at", "issued_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    payment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payments.id", ondelete="CASCADE"), nullable=False
    )
    invoice_number: Mapped[str] = mapped_column(String(50), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    tax_amount: Mapped[Decimal] = mapped_column(
        Numeric(8, 2), nullable=True, default=Decimal("0"), server_default=text("0")
    )
    currency: Mapped[str] = str_default(3, "USD")
    status: Mapped[InvoiceStatus] = enum_column(InvoiceStatus, "status")
    issued_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    pdf_url: Mapped[str | None] = mapped_column(String(500))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()

    payment: Mapped["Payment"] = relationship(back_populates="invoices")


__all__ = ["Invoice", "Payment"]

# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import billing, users  # noqa: E402, F401
