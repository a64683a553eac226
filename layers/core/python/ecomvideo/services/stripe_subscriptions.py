"""Stripe subscriptions -> ``user_subscriptions`` (``customer.subscription.*``).

Subscription state carries a version, ``user_subscriptions.metadata.stripe_state_at`` (Unix
seconds of the event, or of our retrieval of the object, that last set it). An event older than
the stored version does not touch the state; a Stripe-cancelled subscription never becomes
active again. An invoice or checkout for a subscription we have not seen yet retrieves it from
Stripe (``ensure_subscription``) instead of waiting for ``created``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients.stripe_client import from_minor_units
from ecomvideo.enums import ACTIVE_SUBSCRIPTION_STATUSES, BillingCycle, SubscriptionStatus
from ecomvideo.models import PaymentMethod, SubscriptionPlan, UserSubscription
from ecomvideo.models.stripe import StripePrice
from ecomvideo.observability import logger
from ecomvideo.services import plans
from ecomvideo.services.stripe_customers import lock_user, resolve_user
from ecomvideo.services.stripe_objects import (
    Obj,
    Park,
    by_metadata_id,
    dig,
    ref_id,
    retrieve,
    ts,
    unix,
    unix_now,
)

STATUS_MAP: dict[str, SubscriptionStatus] = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.TRIAL,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELLED,
    "incomplete_expired": SubscriptionStatus.EXPIRED,
    # "incomplete" and "paused" have no row of their own: nothing was paid / nothing runs.
}
TERMINAL = frozenset({SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED})


def plan_for_price(
    session: Session, price_id: str | None
) -> tuple[SubscriptionPlan | None, BillingCycle | None]:
    """The plan and cycle a Stripe price is mapped to (``stripe_prices``), else (None, None)."""
    if not price_id:
        return None, None
    row = session.get(StripePrice, price_id)
    if row is None or row.subscription_plan_id is None:
        return None, None
    return session.get(SubscriptionPlan, row.subscription_plan_id), row.billing_cycle


def _cycle_from_interval(price: Obj | None) -> BillingCycle:
    return (
        BillingCycle.YEARLY
        if dig(price, "recurring", "interval") == "year"
        else BillingCycle.MONTHLY
    )


def _subscription_row(session: Session, stripe_id: str) -> UserSubscription | None:
    return session.scalars(
        select(UserSubscription)
        .where(UserSubscription.stripe_subscription_id == stripe_id)
        .with_for_update()
    ).first()


def _period(sub: Obj) -> tuple[datetime | None, datetime | None, Obj | None]:
    """(start, end, item) of the current period: items since basil, top level before."""
    items = dig(sub, "items", "data") or []
    item = items[0] if items else None
    start = dig(item, "current_period_start") or sub.get("current_period_start")
    end = dig(item, "current_period_end") or sub.get("current_period_end")
    return ts(start), ts(end), item


def upsert_subscription(
    session: Session, sub: Obj, *, version: int, strict: bool = False
) -> UserSubscription | None:
    """Mirror a Stripe Subscription object; ``version`` is the Unix time the object's state
    is from (event ``created``, or now for a retrieved object). Older versions are ignored.
    ``strict`` (webhooks): an unknown customer or a price mapped to no plan raises ``Park``
    instead of returning None."""
    stripe_id = sub["id"]
    customer_id = ref_id(sub.get("customer"))
    user_id = resolve_user(session, customer_id, sub.get("metadata"))
    if user_id is None or not lock_user(session, user_id):
        logger.warning("subscription for an unknown customer", extra={"subscription": stripe_id})
        if strict:
            raise Park(f"customer:{customer_id}", "subscription of an unknown customer")
        return None
    row = _subscription_row(session, stripe_id)
    status = STATUS_MAP.get(sub.get("status", ""))
    if status is None and row is None:
        return None  # incomplete checkout: nothing to mirror until it is paid
    if row is not None:
        stored = int((row.meta or {}).get("stripe_state_at", 0))
        if version < stored:
            logger.info("stale subscription event ignored", extra={"subscription": stripe_id})
            return row
        if row.status in TERMINAL and status not in TERMINAL:
            return row  # Stripe never revives a cancelled subscription
    start, end, item = _period(sub)
    price = dig(item, "price") or dig(item, "plan")
    price_id = ref_id(price)
    plan, cycle = plan_for_price(session, price_id)
    if plan is None:
        plan = by_metadata_id(session, SubscriptionPlan, dig(sub, "metadata", "plan_id"))
    if plan is None and row is not None:
        plan = row.plan
    if plan is None:
        logger.error("subscription price maps to no plan", extra={"price": price_id})
        if strict:
            raise Park(f"price:{price_id}", "subscription price mapped to no plan")
        return None
    cycle = cycle or _cycle_from_interval(price)
    currency = (dig(price, "currency") or sub.get("currency") or plan.currency).upper()
    now = clock.utcnow()
    started = ts(sub.get("start_date")) or start or now
    ends = ts(sub.get("ended_at")) or ts(sub.get("cancel_at")) or end or started
    if status is None:
        status = row.status if row is not None else SubscriptionStatus.EXPIRED
    if status in ACTIVE_SUBSCRIPTION_STATUSES:
        _supersede_other_active(session, user_id, keep=row, now=now, by=stripe_id)
    if row is None:
        row = UserSubscription(user_id=user_id, stripe_subscription_id=stripe_id)
        session.add(row)
    row.subscription_plan_id = plan.id
    row.plan = plan
    row.status = status
    row.billing_cycle = cycle
    row.price_paid = from_minor_units(dig(price, "unit_amount"), currency)
    row.currency = currency
    row.started_at = started
    row.ends_at = ends
    row.trial_ends_at = ts(sub.get("trial_end"))
    row.cancelled_at = ts(sub.get("canceled_at"))
    row.auto_renew = status not in TERMINAL and not sub.get("cancel_at_period_end")
    default_pm = ref_id(sub.get("default_payment_method"))
    if default_pm:
        pm_id = session.scalar(
            select(PaymentMethod.id).where(PaymentMethod.external_id == default_pm)
        )
        row.payment_method_id = pm_id or row.payment_method_id
    row.meta = {
        **plans.note_status(row.meta, status, version),
        "stripe_state_at": version,
        "stripe_status": sub.get("status"),
        "stripe_customer_id": ref_id(sub.get("customer")),
        "stripe_price_id": price_id,
        "stripe_item_id": dig(item, "id"),
        "period_start": unix(start) if start else None,
        "period_end": unix(end) if end else None,
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "cancellation_details": _cancellation_details(sub),
    }
    session.flush()
    return row


def _cancellation_details(sub: Obj) -> Obj | None:
    """Why it was cancelled: Stripe's reason plus the customer's feedback and comment."""
    details = sub.get("cancellation_details") or {}
    kept = {k: details.get(k) for k in ("reason", "feedback", "comment") if details.get(k)}
    return kept or None


def _supersede_other_active(
    session: Session, user_id: uuid.UUID, *, keep: UserSubscription | None, now: datetime, by: str
) -> None:
    """One active subscription per user: a newly active one ends the user's previous one
    (e.g. the Free plan) in the same transaction, before the partial unique index sees two."""
    others = session.scalars(
        select(UserSubscription)
        .where(
            UserSubscription.user_id == user_id,
            UserSubscription.status.in_(ACTIVE_SUBSCRIPTION_STATUSES),
        )
        .with_for_update()
    ).all()
    changed = False
    for other in others:
        if keep is not None and other.id == keep.id:
            continue
        other.status = SubscriptionStatus.CANCELLED
        other.cancelled_at = other.cancelled_at or now
        other.ends_at = min(other.ends_at, now) if other.ends_at else now
        other.auto_renew = False
        other.meta = {**(other.meta or {}), "superseded_by": by}
        changed = True
    if changed:
        session.flush()


def ensure_subscription(session: Session, stripe_id: str | None) -> UserSubscription | None:
    """Our row for a Stripe subscription; retrieved from Stripe when we have not seen it yet
    (its invoice or checkout arrived before ``customer.subscription.created``)."""
    if not stripe_id:
        return None
    row = _subscription_row(session, stripe_id)
    if row is not None:
        return row
    current = retrieve("subscriptions", stripe_id)
    row = upsert_subscription(session, current, version=unix_now(), strict=True)
    if row is None:  # Stripe's copy is not active yet (incomplete): wait for it
        raise Park(f"subscription:{stripe_id}", "subscription not active in Stripe yet")
    return row


def set_status_if_newer(
    row: UserSubscription, status: SubscriptionStatus, version: int, *, only_from: set
) -> None:
    """Status changes implied by invoice events follow the same version rule."""
    meta = row.meta or {}
    if version < int(meta.get("stripe_state_at", 0)) or row.status not in only_from:
        return
    row.status = status
    row.meta = {**plans.note_status(meta, status, version), "stripe_state_at": version}


def on_subscription_event(session: Session, event: Obj) -> None:
    row = upsert_subscription(
        session, event["data"]["object"], version=int(event["created"]), strict=True
    )
    if row is not None and event["type"] == "customer.subscription.trial_will_end":
        # lazy: only this event mails; the billing API's plan changes use this module without it
        from ecomvideo.services.billing_mail import notify_trial_ending

        notify_trial_ending(session, row)
