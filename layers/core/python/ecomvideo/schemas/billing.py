"""Billing API contract: plans, checkout, subscription, payments, invoices, payment methods."""

import uuid
from decimal import Decimal
from typing import Any, Self

from pydantic import ConfigDict, Field, model_validator

from ecomvideo.enums import BillingCycle
from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.docs import examples_extra as _examples
from ecomvideo.schemas.fields import UtcDateTime


class _Out(Schema):
    model_config = ConfigDict(from_attributes=True)


class PlanOut(_Out):
    id: uuid.UUID
    name: str
    description: str | None = None
    price_monthly: Decimal
    price_yearly: Decimal | None = None
    currency: str
    video_credits_monthly: int
    max_video_duration: int
    max_resolution: str
    ai_providers: list[str] | None = None
    features: Any | None = None
    is_popular: bool
    trial_days: int
    sort_order: int


class AdminPlanOut(PlanOut):
    is_active: bool


class PlanList(Schema):
    items: list[PlanOut]


class PlanCreate(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_examples(
            {
                "name": "Agency",
                "description": "For agencies running many shops: bulk videos and 4K output.",
                "price_monthly": "299.00",
                "price_yearly": "2990.00",
                "currency": "USD",
                "video_credits_monthly": 1000,
                "max_video_duration": 30,
                "max_resolution": "4k",
                "ai_providers": ["Local", "Freepik"],
                "features": ["4K Video Generation", "Premium Templates", "Commercial License"],
                "is_popular": False,
                "is_active": True,
                "trial_days": 14,
                "sort_order": 4,
            }
        ),
    )

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    price_monthly: Decimal = Field(ge=0, max_digits=8, decimal_places=2)
    price_yearly: Decimal | None = Field(None, ge=0, max_digits=8, decimal_places=2)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    video_credits_monthly: int = Field(0, ge=0)
    max_video_duration: int = Field(15, ge=1, le=600)
    max_resolution: str = Field("1080p", pattern=r"^(720p|1080p|4k)$")
    ai_providers: list[str] | None = None
    features: list[str] | dict[str, Any] | None = None
    is_popular: bool = False
    is_active: bool = True
    trial_days: int = Field(0, ge=0, le=90)
    sort_order: int = 0


class PlanUpdate(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_examples(
            {"price_monthly": "54.00", "video_credits_monthly": 120, "is_popular": True}
        ),
    )

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    price_monthly: Decimal | None = Field(None, ge=0, max_digits=8, decimal_places=2)
    price_yearly: Decimal | None = Field(None, ge=0, max_digits=8, decimal_places=2)
    video_credits_monthly: int | None = Field(None, ge=0)
    max_video_duration: int | None = Field(None, ge=1, le=600)
    max_resolution: str | None = Field(None, pattern=r"^(720p|1080p|4k)$")
    ai_providers: list[str] | None = None
    features: list[str] | dict[str, Any] | None = None
    is_popular: bool | None = None
    is_active: bool | None = None
    trial_days: int | None = Field(None, ge=0, le=90)
    sort_order: int | None = None


class CheckoutRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_examples({"plan": "Pro", "billing_cycle": "Monthly"}),
    )

    plan: str = Field(min_length=1, max_length=100, description="Plan name or id.")
    billing_cycle: BillingCycle = BillingCycle.MONTHLY


class ChangePlanRequest(CheckoutRequest):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_examples({"plan": "Business", "billing_cycle": "Yearly"}),
    )


class CreditPackCheckoutRequest(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_examples({"pack": "pack_25"}))

    pack: str = Field(min_length=1, max_length=50, description="Credit pack code.")


class CheckoutResponse(Schema):
    id: str
    url: str


class PortalResponse(Schema):
    url: str


class CreditPackOut(_Out):
    code: str
    name: str
    credits: int
    price: Decimal
    currency: str
    validity_days: int | None = None


class CreditPackList(Schema):
    items: list[CreditPackOut]


class SubscriptionOut(Schema):
    id: uuid.UUID
    plan_id: uuid.UUID
    plan: str
    status: str
    billing_cycle: str
    price_paid: Decimal
    currency: str
    started_at: UtcDateTime
    ends_at: UtcDateTime
    trial_ends_at: UtcDateTime | None = None
    cancelled_at: UtcDateTime | None = None
    auto_renew: bool
    cancel_at_period_end: bool

    @classmethod
    def of(cls, sub: Any) -> Self:
        return cls(
            id=sub.id,
            plan_id=sub.subscription_plan_id,
            plan=sub.plan.name,
            status=str(sub.status),
            billing_cycle=str(sub.billing_cycle),
            price_paid=sub.price_paid,
            currency=sub.currency,
            started_at=sub.started_at,
            ends_at=sub.ends_at,
            trial_ends_at=sub.trial_ends_at,
            cancelled_at=sub.cancelled_at,
            auto_renew=bool(sub.auto_renew),
            cancel_at_period_end=bool((sub.meta or {}).get("cancel_at_period_end")),
        )


class SubscriptionResponse(Schema):
    subscription: SubscriptionOut | None


class PaymentOut(_Out):
    id: uuid.UUID
    amount: Decimal
    currency: str
    status: str
    description: str | None = None
    failure_reason: str | None = None
    refunded_amount: Decimal | None = None
    paid_at: UtcDateTime | None = None
    created_at: UtcDateTime


class PaymentPage(Schema):
    items: list[PaymentOut]
    next_cursor: str | None = None


class InvoiceOut(Schema):
    id: uuid.UUID
    invoice_number: str
    amount: Decimal
    tax_amount: Decimal | None = None
    currency: str
    status: str
    issued_at: UtcDateTime
    due_at: UtcDateTime | None = None
    paid_at: UtcDateTime | None = None
    pdf_url: str | None = None
    hosted_url: str | None = None

    @classmethod
    def of(cls, inv: Any) -> Self:
        return cls(
            id=inv.id,
            invoice_number=inv.invoice_number,
            amount=inv.amount,
            tax_amount=inv.tax_amount,
            currency=inv.currency,
            status=str(inv.status),
            issued_at=inv.issued_at,
            due_at=inv.due_at,
            paid_at=inv.paid_at,
            pdf_url=inv.pdf_url,
            hosted_url=(inv.meta or {}).get("hosted_invoice_url"),
        )


class InvoicePage(Schema):
    items: list[InvoiceOut]
    next_cursor: str | None = None


class PaymentMethodOut(_Out):
    id: uuid.UUID
    type: str
    brand: str | None = None
    last_four_digits: str | None = None
    expires_at: UtcDateTime | None = None
    is_default: bool


class PaymentMethodList(Schema):
    items: list[PaymentMethodOut]


# ------------------------------------------------------------------------------ admin: Stripe


class StripePriceMapping(Schema):
    """Map a Stripe Price to a plan and cycle, or to a credit pack (exactly one)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_examples(
            {"plan_id": "0b7d5a3e-6a43-4a7e-9d55-3c8c9f5e2a11", "billing_cycle": "Monthly"},
            {"credit_pack_id": "5d2f6c1a-9b7e-4f3d-8a6c-1e2b3c4d5e6f"},
        ),
    )

    plan_id: uuid.UUID | None = None
    billing_cycle: BillingCycle | None = None
    credit_pack_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        plan = self.plan_id is not None
        if plan == (self.credit_pack_id is not None):
            raise ValueError("give either plan_id (with billing_cycle) or credit_pack_id")
        if plan and self.billing_cycle is None:
            raise ValueError("billing_cycle is required with plan_id")
        if not plan and self.billing_cycle is not None:
            raise ValueError("billing_cycle goes with plan_id only")
        return self


class StripePriceOut(_Out):
    stripe_price_id: str
    stripe_product_id: str
    plan_id: uuid.UUID | None = Field(None, validation_alias="subscription_plan_id")
    billing_cycle: BillingCycle | None = None
    credit_pack_id: uuid.UUID | None = None
    unit_amount: int = Field(description="Minor units (cents).")
    currency: str
    is_active: bool
    reapplied_events: int = Field(0, description="Parked webhook events applied after mapping.")


class BillingSyncRequest(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_examples({"push": False}))

    push: bool = Field(
        False, description="First create/update Stripe products and prices from our plans/packs."
    )


class UnmappedPrice(Schema):
    stripe_price_id: str
    stripe_product_id: str
    unit_amount: int | None = None
    currency: str
    interval: str | None = None
    active: bool


class BillingSyncReport(Schema):
    pushed: dict[str, list[str]] | None = None
    mapped: list[str]
    updated: list[str]
    unchanged: list[str]
    unmapped: list[UnmappedPrice]
    reapplied_events: int


class StripeEventOut(_Out):
    id: uuid.UUID
    event_id: str
    type: str
    event_created: UtcDateTime
    stripe_customer_id: str | None = None
    waiting_for: str
    reason: str
    state: str
    attempts: int
    created_at: UtcDateTime
    last_attempt_at: UtcDateTime | None = None
    applied_at: UtcDateTime | None = None
    last_error: str | None = None


class StripeEventPage(Schema):
    items: list[StripeEventOut]
    next_cursor: str | None = None
