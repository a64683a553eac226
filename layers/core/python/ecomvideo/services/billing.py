"""Billing for the API: Stripe Checkout / Portal, the caller's subscription and its changes,
payments, invoices and payment methods.

State changes that Stripe confirms (paid, cancelled, past due...) are applied by the webhook
(``ecomvideo.services.stripe_events``); the calls here ask Stripe for the change and mirror
the object Stripe answers with (same version rule as webhooks), so the API reflects the change
at once and a later, older webhook cannot undo it.

Elsewhere: the plans and packs on sale in ``plan_catalog``, the monthly credits of yearly plans
in ``subscription_credits``, billing emails in ``billing_mail``. Hook for other services:
``cancel_customer_subscriptions(session, user)``, called from the account deletion hook.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients.email import frontend_link
from ecomvideo.clients.stripe_client import get_stripe_client
from ecomvideo.enums import (
    ACTIVE_SUBSCRIPTION_STATUSES,
    BillingCycle,
    SubscriptionStatus,
)
from ecomvideo.errors import Conflict, NotFound, ProviderError, ValidationFailed, field_error
from ecomvideo.keyset import apply_keyset, clamp_limit, decode_cursor, page
from ecomvideo.models import (
    Invoice,
    Payment,
    PaymentMethod,
    SubscriptionPlan,
    User,
    UserSubscription,
)
from ecomvideo.models.stripe import BillingCustomer, CreditPack, StripePrice
from ecomvideo.observability import logger
from ecomvideo.services.plan_catalog import get_plan
from ecomvideo.services.stripe_customers import set_default_payment_method
from ecomvideo.services.stripe_objects import (
    KIND_CREDIT_PACK,
    KIND_SUBSCRIPTION,
    unix_now,
)
from ecomvideo.services.stripe_subscriptions import upsert_subscription


@contextmanager
def _stripe_errors(action: str) -> Iterator[None]:
    """Stripe failures become a 502 with a safe message (details only in the log)."""
    import stripe  # lazy: the Stripe SDK is a slow import; only paths calling Stripe load it

    try:
        yield
    except stripe.StripeError as exc:
        logger.warning(
            "stripe call failed",
            extra={"action": action, "error": type(exc).__name__, "code": exc.code},
        )
        raise ProviderError("The payment provider could not complete the request.") from exc


def _call[T](action: str, fn: Callable[[], T]) -> T:
    with _stripe_errors(action):
        return fn()


# ------------------------------------------------------------------------------ customer


def _user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def customer_id_for(session: Session, user_id: uuid.UUID) -> str | None:
    return session.scalar(
        select(BillingCustomer.stripe_customer_id).where(BillingCustomer.user_id == user_id)
    )


def ensure_customer(session: Session, user_id: uuid.UUID) -> str:
    """The user's Stripe customer, created once (idempotency key per user) and reused."""
    existing = customer_id_for(session, user_id)
    if existing:
        return existing
    user = _user(session, user_id)
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or None
    customer = _call(
        "customers.create",
        lambda: get_stripe_client().v1.customers.create(
            params={"email": user.email, "name": name, "metadata": {"user_id": str(user.id)}},
            options={"idempotency_key": f"customer-{user.id}"},
        ),
    )
    session.execute(
        insert(BillingCustomer)
        .values(user_id=user.id, stripe_customer_id=customer.id)
        .on_conflict_do_nothing()
    )
    return customer_id_for(session, user_id) or customer.id


# ------------------------------------------------------------------------------ checkout


def active_subscription(session: Session, user_id: uuid.UUID) -> UserSubscription | None:
    return session.scalars(
        select(UserSubscription).where(
            UserSubscription.user_id == user_id,
            UserSubscription.status.in_(ACTIVE_SUBSCRIPTION_STATUSES),
        )
    ).first()


def _price_for(session: Session, plan: SubscriptionPlan, cycle: BillingCycle) -> StripePrice:
    price = session.scalars(
        select(StripePrice).where(
            StripePrice.subscription_plan_id == plan.id,
            StripePrice.billing_cycle == cycle,
            StripePrice.is_active.is_(True),
        )
    ).first()
    if price is None or not plan.is_active:
        raise ValidationFailed(
            f"The {plan.name} plan cannot be bought {cycle.value.lower()}.",
            errors=[field_error("/plan", "not for sale", "not_for_sale")],
        )
    return price


def create_subscription_checkout(
    session: Session, user_id: uuid.UUID, plan_ref: str, cycle: BillingCycle
) -> dict[str, str]:
    """A Checkout Session (mode subscription) for a plan; trial days from the plan for a
    user's first subscription. Returns ``{"id", "url"}``."""
    plan = get_plan(session, plan_ref)
    price = _price_for(session, plan, cycle)
    current = active_subscription(session, user_id)
    if current is not None and current.stripe_subscription_id:
        raise Conflict("You already have a subscription; change its plan instead.")
    customer = ensure_customer(session, user_id)
    had_paid_plan = session.scalar(
        select(UserSubscription.id).where(
            UserSubscription.user_id == user_id,
            UserSubscription.stripe_subscription_id.is_not(None),
        )
    )
    metadata = {
        "user_id": str(user_id),
        "kind": KIND_SUBSCRIPTION,
        "plan_id": str(plan.id),
        "billing_cycle": cycle.value,
    }
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if plan.trial_days and not had_paid_plan:
        subscription_data["trial_period_days"] = plan.trial_days
    cs = _call(
        "checkout.sessions.create",
        lambda: get_stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer,
                "client_reference_id": str(user_id),
                "line_items": [{"price": price.stripe_price_id, "quantity": 1}],
                "subscription_data": subscription_data,
                "metadata": metadata,
                "success_url": frontend_link("/billing/success?session_id={CHECKOUT_SESSION_ID}"),
                "cancel_url": frontend_link("/billing"),
            }
        ),
    )
    return {"id": cs.id, "url": cs.url}


def create_credit_pack_checkout(
    session: Session, user_id: uuid.UUID, pack_code: str
) -> dict[str, str]:
    """A Checkout Session (mode payment) for a one-off credit pack."""
    pack = session.scalars(
        select(CreditPack).where(CreditPack.code == pack_code, CreditPack.is_active.is_(True))
    ).first()
    if pack is None:
        raise NotFound("No such credit pack.")
    price = session.scalars(
        select(StripePrice).where(
            StripePrice.credit_pack_id == pack.id, StripePrice.is_active.is_(True)
        )
    ).first()
    if price is None:
        raise ValidationFailed(
            "This credit pack is not for sale yet.",
            errors=[field_error("/pack", "not for sale", "not_for_sale")],
        )
    customer = ensure_customer(session, user_id)
    metadata = {
        "user_id": str(user_id),
        "kind": KIND_CREDIT_PACK,
        "credit_pack_id": str(pack.id),
        "pack_code": pack.code,
    }
    cs = _call(
        "checkout.sessions.create",
        lambda: get_stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "customer": customer,
                "client_reference_id": str(user_id),
                "line_items": [{"price": price.stripe_price_id, "quantity": 1}],
                "payment_intent_data": {"metadata": metadata},
                "metadata": metadata,
                "success_url": frontend_link("/billing/success?session_id={CHECKOUT_SESSION_ID}"),
                "cancel_url": frontend_link("/billing"),
            }
        ),
    )
    return {"id": cs.id, "url": cs.url}


def create_portal_session(session: Session, user_id: uuid.UUID) -> dict[str, str]:
    """A Customer Portal session (cards, invoices, cancel) returning to the billing page."""
    customer = ensure_customer(session, user_id)
    portal = _call(
        "billing_portal.sessions.create",
        lambda: get_stripe_client().v1.billing_portal.sessions.create(
            params={"customer": customer, "return_url": frontend_link("/billing")}
        ),
    )
    return {"url": portal.url}


# ------------------------------------------------------------------------------ subscription


def current_subscription(session: Session, user_id: uuid.UUID) -> UserSubscription | None:
    """The active one, else the most recent."""
    return (
        active_subscription(session, user_id)
        or session.scalars(
            select(UserSubscription)
            .where(UserSubscription.user_id == user_id)
            .order_by(UserSubscription.started_at.desc())
        ).first()
    )


def _stripe_subscription(session: Session, user_id: uuid.UUID) -> UserSubscription:
    sub = active_subscription(session, user_id)
    if sub is None or not sub.stripe_subscription_id:
        raise NotFound("You have no paid subscription.")
    return sub


def _mirror(session: Session, stripe_obj: Any, sub: UserSubscription) -> UserSubscription:
    """Apply the object Stripe answered our change with. It is the current state, so it wins
    over anything stored (even a version a few seconds ahead of our clock)."""
    stored = int((sub.meta or {}).get("stripe_state_at", 0))
    row = upsert_subscription(session, stripe_obj.to_dict(), version=max(unix_now(), stored))
    assert row is not None
    return row


def cancel_subscription(session: Session, user_id: uuid.UUID) -> UserSubscription:
    """Cancel at the end of the paid period (the user keeps access until then)."""
    sub = _stripe_subscription(session, user_id)
    updated = _call(
        "subscriptions.update",
        lambda: get_stripe_client().v1.subscriptions.update(
            sub.stripe_subscription_id, params={"cancel_at_period_end": True}
        ),
    )
    return _mirror(session, updated, sub)


def resume_subscription(session: Session, user_id: uuid.UUID) -> UserSubscription:
    """Undo a pending cancellation (before the period ends)."""
    sub = _stripe_subscription(session, user_id)
    updated = _call(
        "subscriptions.update",
        lambda: get_stripe_client().v1.subscriptions.update(
            sub.stripe_subscription_id, params={"cancel_at_period_end": False}
        ),
    )
    return _mirror(session, updated, sub)


def change_plan(
    session: Session, user_id: uuid.UUID, plan_ref: str, cycle: BillingCycle
) -> UserSubscription:
    """Switch price with proration: upgrades are invoiced at once (and their credits topped
    up when that invoice is paid), downgrades credit the unused time on the next invoice."""
    sub = _stripe_subscription(session, user_id)
    plan = get_plan(session, plan_ref)
    price = _price_for(session, plan, cycle)
    if price.stripe_price_id == (sub.meta or {}).get("stripe_price_id"):
        raise Conflict("You are already on this plan.")
    item_id = (sub.meta or {}).get("stripe_item_id")
    if not item_id:
        current = _call(
            "subscriptions.retrieve",
            lambda: get_stripe_client().v1.subscriptions.retrieve(sub.stripe_subscription_id),
        )
        item_id = current["items"]["data"][0]["id"]
    # An upgrade (a dearer plan, or monthly -> yearly) is invoiced now; a downgrade waits.
    upgrade = plan.price_monthly > sub.plan.price_monthly or (
        plan.id == sub.subscription_plan_id and cycle is BillingCycle.YEARLY
    )
    updated = _call(
        "subscriptions.update",
        lambda: get_stripe_client().v1.subscriptions.update(
            sub.stripe_subscription_id,
            params={
                "items": [{"id": item_id, "price": price.stripe_price_id}],
                "proration_behavior": "always_invoice" if upgrade else "create_prorations",
                "cancel_at_period_end": False,
            },
        ),
    )
    return _mirror(session, updated, sub)


# ------------------------------------------------------------------------------ history


def list_payments(
    session: Session, user_id: uuid.UUID, *, limit: int | None, cursor: str | None
) -> tuple[list[Payment], str | None]:
    size = clamp_limit(limit)
    stmt = select(Payment).where(Payment.user_id == user_id)
    stmt = apply_keyset(stmt, Payment.created_at, Payment.id, decode_cursor(cursor))
    return page(list(session.scalars(stmt.limit(size + 1))), size)


def list_invoices(
    session: Session, user_id: uuid.UUID, *, limit: int | None, cursor: str | None
) -> tuple[list[Invoice], str | None]:
    size = clamp_limit(limit)
    stmt = (
        select(Invoice)
        .join(Payment, Payment.id == Invoice.payment_id)
        .where(Payment.user_id == user_id)
    )
    stmt = apply_keyset(stmt, Invoice.created_at, Invoice.id, decode_cursor(cursor))
    return page(list(session.scalars(stmt.limit(size + 1))), size)


def list_payment_methods(session: Session, user_id: uuid.UUID) -> list[PaymentMethod]:
    return list(
        session.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.user_id == user_id, PaymentMethod.is_active.is_(True))
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at.desc())
        )
    )


def _own_method(session: Session, user_id: uuid.UUID, method_id: uuid.UUID) -> PaymentMethod:
    row = session.get(PaymentMethod, method_id)
    if row is None or row.user_id != user_id or not row.is_active:
        raise NotFound("No such payment method.")
    return row


def make_default_payment_method(
    session: Session, user_id: uuid.UUID, method_id: uuid.UUID
) -> PaymentMethod:
    """Use this method for future invoices (Stripe customer's invoice settings)."""
    row = _own_method(session, user_id, method_id)
    customer = ensure_customer(session, user_id)
    _call(
        "customers.update",
        lambda: get_stripe_client().v1.customers.update(
            customer, params={"invoice_settings": {"default_payment_method": row.external_id}}
        ),
    )
    set_default_payment_method(session, user_id, row.external_id, version=unix_now())
    session.flush()
    return row


def detach_payment_method(session: Session, user_id: uuid.UUID, method_id: uuid.UUID) -> None:
    """Remove a method from the customer (Stripe) and hide it here."""
    row = _own_method(session, user_id, method_id)
    _call(
        "payment_methods.detach",
        lambda: get_stripe_client().v1.payment_methods.detach(row.external_id),
    )
    row.is_active = False
    row.is_default = False
    session.flush()


# ------------------------------------------------------------------------------ hooks


def cancel_customer_subscriptions(session: Session, user: User) -> int:
    """Account deletion: cancel the user's Stripe subscriptions now (no proration), before the
    rows go. Raises ProviderError (aborting the deletion) if Stripe cannot be reached, so
    nobody keeps being billed for a deleted account. Returns how many were cancelled."""
    import stripe  # lazy: the Stripe SDK is a slow import; only paths calling Stripe load it

    subs = session.scalars(
        select(UserSubscription).where(
            UserSubscription.user_id == user.id,
            UserSubscription.stripe_subscription_id.is_not(None),
            UserSubscription.status.in_(ACTIVE_SUBSCRIPTION_STATUSES),
        )
    ).all()
    for sub in subs:
        try:
            get_stripe_client().v1.subscriptions.cancel(
                sub.stripe_subscription_id, params={"prorate": False}
            )
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":  # already gone in Stripe: fine
                raise ProviderError("The subscription could not be cancelled.") from exc
        except stripe.StripeError as exc:
            raise ProviderError("The subscription could not be cancelled.") from exc
        sub.status = SubscriptionStatus.CANCELLED
        sub.cancelled_at = clock.utcnow()
        sub.auto_renew = False
    session.flush()
    return len(subs)
