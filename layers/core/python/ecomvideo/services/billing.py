"""Billing for the API: plans, Stripe Checkout / Portal, the caller's subscription, payments,
invoices and payment methods, plus hooks other services call.

State changes that Stripe confirms (paid, cancelled, past due...) are applied by the webhook
(``ecomvideo.services.stripe_events``); the calls here ask Stripe for the change and mirror
the object Stripe answers with (same version rule as webhooks), so the API reflects the change
at once and a later, older webhook cannot undo it.

Hooks for other services:

* ``cancel_customer_subscriptions(session, user)``: called from the account deletion hook.
* ``grant_monthly_credits_for_yearly_plans(session)``: the scheduled job of yearly plans.
* ``notify_payment_failed`` / ``notify_trial_ending``: emails, respecting notification settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients.stripe_client import get_stripe_client
from ecomvideo.enums import (
    ACTIVE_SUBSCRIPTION_STATUSES,
    BillingCycle,
    CreditSource,
    SubscriptionStatus,
)
from ecomvideo.errors import Conflict, NotFound, ProviderError, ValidationFailed, field_error
from ecomvideo.http.pagination import apply_keyset, clamp_limit, decode_cursor, page
from ecomvideo.models import (
    CreditMovement,
    Invoice,
    MovementKind,
    NotificationSettings,
    Payment,
    PaymentMethod,
    SubscriptionPlan,
    User,
    UserSubscription,
)
from ecomvideo.models.stripe import BillingCustomer, CreditPack, StripePrice
from ecomvideo.observability import logger
from ecomvideo.services import credits, plans, stripe_events

PLAN_FIELDS = (
    "name", "description", "price_monthly", "price_yearly", "currency", "video_credits_monthly",
    "max_video_duration", "max_resolution", "ai_providers", "features", "is_popular",
    "is_active", "trial_days", "sort_order",
)  # fmt: skip


@contextmanager
def _stripe_errors(action: str) -> Iterator[None]:
    """Stripe failures become a 502 with a safe message (details only in the log)."""
    import stripe

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


def _now_version() -> int:
    return int(clock.utcnow().replace(tzinfo=UTC).timestamp())


# ------------------------------------------------------------------------------ plans


def list_plans(session: Session, *, include_inactive: bool = False) -> list[SubscriptionPlan]:
    """Plans in display order (active only unless asked)."""
    stmt = select(SubscriptionPlan).order_by(SubscriptionPlan.sort_order, SubscriptionPlan.name)
    if not include_inactive:
        stmt = stmt.where(SubscriptionPlan.is_active.is_(True))
    return list(session.scalars(stmt))


def get_plan(session: Session, ref: str | uuid.UUID) -> SubscriptionPlan:
    """A plan by id or by (case-insensitive) name."""
    plan = None
    if isinstance(ref, uuid.UUID) or stripe_events._uuid(ref) is not None:
        plan = session.get(SubscriptionPlan, stripe_events._uuid(ref))
    if plan is None:
        plan = session.scalars(
            select(SubscriptionPlan).where(SubscriptionPlan.name.ilike(str(ref)))
        ).first()
    if plan is None:
        raise NotFound("No such plan.")
    return plan


def create_plan(session: Session, data: dict[str, Any], *, actor: str) -> SubscriptionPlan:
    """Admin: add a plan (names are unique). Run the Stripe sync to sell it."""
    if session.scalar(select(SubscriptionPlan.id).where(SubscriptionPlan.name == data["name"])):
        raise Conflict("A plan with this name exists.")
    plan = SubscriptionPlan(**{k: v for k, v in data.items() if k in PLAN_FIELDS})
    plan.created_by = actor
    session.add(plan)
    session.flush()
    return plan


def update_plan(
    session: Session, plan_id: uuid.UUID, changes: dict[str, Any], *, actor: str
) -> SubscriptionPlan:
    """Admin: change some fields. Price changes take effect in Stripe after the sync."""
    plan = session.get(SubscriptionPlan, plan_id, with_for_update=True)
    if plan is None:
        raise NotFound("No such plan.")
    if (
        "name" in changes
        and changes["name"] != plan.name
        and session.scalar(
            select(SubscriptionPlan.id).where(SubscriptionPlan.name == changes["name"])
        )
    ):
        raise Conflict("A plan with this name exists.")
    for key, value in changes.items():
        if key in PLAN_FIELDS:
            setattr(plan, key, value)
    plan.updated_by = actor
    session.flush()
    return plan


def deactivate_plan(session: Session, plan_id: uuid.UUID, *, actor: str) -> None:
    """Admin 'delete': plans are referenced by subscriptions, so they are retired, not removed."""
    update_plan(session, plan_id, {"is_active": False}, actor=actor)
    for price in session.scalars(
        select(StripePrice).where(StripePrice.subscription_plan_id == plan_id)
    ):
        price.is_active = False


def list_credit_packs(session: Session) -> list[CreditPack]:
    return list(
        session.scalars(
            select(CreditPack)
            .where(CreditPack.is_active.is_(True))
            .order_by(CreditPack.sort_order, CreditPack.credits)
        )
    )


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


def _frontend(path: str) -> str:
    from ecomvideo.settings import get_settings

    return get_settings().frontend_url.rstrip("/") + path


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
        "kind": stripe_events.KIND_SUBSCRIPTION,
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
                "success_url": _frontend("/billing/success?session_id={CHECKOUT_SESSION_ID}"),
                "cancel_url": _frontend("/billing"),
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
        "kind": stripe_events.KIND_CREDIT_PACK,
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
                "success_url": _frontend("/billing/success?session_id={CHECKOUT_SESSION_ID}"),
                "cancel_url": _frontend("/billing"),
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
            params={"customer": customer, "return_url": _frontend("/billing")}
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
    row = stripe_events.upsert_subscription(
        session, stripe_obj.to_dict(), version=max(_now_version(), stored)
    )
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
    stripe_events.set_default_payment_method(
        session, user_id, row.external_id, version=_now_version()
    )
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
    import stripe

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


def grant_monthly_credits_for_yearly_plans(session: Session, *, limit: int = 1000) -> int:
    """Scheduled (daily): each active yearly subscription gets its plan's monthly credits at
    the start of every month of its paid year (month 0 comes with the invoice). Idempotent per
    (subscription, period, month) through the grant reference. Returns grants made."""
    now = clock.utcnow()
    made = 0
    subs = session.scalars(
        select(UserSubscription)
        .where(
            UserSubscription.billing_cycle == BillingCycle.YEARLY,
            UserSubscription.status.in_(plans.MONTHLY_CREDIT_STATUSES),
            UserSubscription.stripe_subscription_id.is_not(None),
        )
        .order_by(UserSubscription.id)
        .limit(limit)
    ).all()
    for sub in subs:
        meta = sub.meta or {}
        start, end = (
            stripe_events.ts(meta.get("period_start")),
            stripe_events.ts(meta.get("period_end")),
        )
        if start is None or end is None or not sub.plan.video_credits_monthly:
            continue
        month = 0
        while stripe_events.add_months(start, month + 1) <= now:
            month += 1
        begins = stripe_events.add_months(start, month)
        if month == 0 or begins >= end:
            continue
        reference = (
            f"stripe:subscription:{sub.stripe_subscription_id}:{meta['period_start']}:m{month}"
        )
        if session.scalar(
            select(CreditMovement.id).where(
                CreditMovement.kind == MovementKind.GRANT, CreditMovement.reference == reference
            )
        ):
            continue
        credits.grant(
            session,
            sub.user_id,
            sub.plan.video_credits_monthly,
            CreditSource.SUBSCRIPTION,
            reference=reference,
            expires_at=min(stripe_events.add_months(start, month + 1), end),
            user_subscription_id=sub.id,
            metadata={"plan": sub.plan.name, "yearly_month": month},
            created_by="scheduler",
        )
        made += 1
    return made


def _wants(session: Session, user_id: uuid.UUID, flag: str) -> bool:
    row = session.scalars(
        select(NotificationSettings).where(NotificationSettings.user_id == user_id)
    ).first()
    if row is None:
        return True  # the defaults of notification_settings are on for billing mail
    return bool(row.email_enabled) and bool(getattr(row, flag))


def _send(user: User, subject: str, lines: list[str], tag: str) -> None:
    """Send a billing email; a mail failure never fails the Stripe event."""
    try:
        from ecomvideo.clients.email import EmailMessage, _html_page, get_email_client

        link = _frontend("/billing")
        text = "\n\n".join([*lines, link])
        html = _html_page(subject, lines, link, "Open billing")
        get_email_client().send(
            EmailMessage(to=user.email, subject=subject, text=text, html=html, tag=tag)
        )
    except Exception:
        logger.exception("billing email failed", extra={"email_kind": tag})


def notify_payment_failed(session: Session, sub: UserSubscription, invoice: dict) -> None:
    """Tell the user a renewal failed (if their notification settings allow it)."""
    if not _wants(session, sub.user_id, "payment_failed"):
        return
    user = _user(session, sub.user_id)
    hello = f"Hi {user.first_name}," if user.first_name else "Hi,"
    _send(
        user,
        "Your EcomVideo AI payment failed",
        [
            hello,
            f"We could not charge your payment method for your {sub.plan.name} plan.",
            "Please update your card to keep your subscription; we will retry automatically.",
        ],
        "payment-failed",
    )


def notify_trial_ending(session: Session, sub: UserSubscription) -> None:
    """Three days before a trial ends (Stripe's trial_will_end)."""
    if not _wants(session, sub.user_id, "subscription_renewal"):
        return
    from ecomvideo.clients.email import with_time

    user = _user(session, sub.user_id)
    ends = f"Your {sub.plan.name} trial ends soon."
    if sub.trial_ends_at is not None:
        # In the HTML part the date is a <time> that carries the exact instant.
        shown = sub.trial_ends_at.strftime("%B %d, %Y")
        ends = with_time(f"Your {sub.plan.name} trial ends on {{when}}.", sub.trial_ends_at, shown)
    _send(
        user,
        "Your EcomVideo AI trial ends soon",
        [ends, "Your subscription then starts."],
        "trial-ending",
    )
