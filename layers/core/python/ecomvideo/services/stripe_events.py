"""Stripe webhook events -> our billing state (subscriptions, payments, invoices, credits).

``process_event(event)`` runs one event in one transaction:

1. ``INSERT INTO stripe_events ... ON CONFLICT DO NOTHING``: a redelivered event finds its id
   and is a no-op; a parallel delivery of the same event blocks on the primary key until the
   first commits, then sees the conflict (or retries cleanly if the first rolled back).
2. The handler for the type mirrors the object. Credits are granted through
   ``credits.grant(reference="stripe:invoice:<id>" | "stripe:payment:<pi>")``, unique in the
   ledger: the second guard against double grants.

Nothing paid is acknowledged and lost: a handler that needs an object we do not know (and
cannot fetch) or cannot map raises ``Park``; the event is stored in ``stripe_parked_events``,
answered 2xx, and re-applied when the object arrives (``ecomvideo.services.stripe_parked``).
docs/webhooks.md lists every type with what happens when it arrives early, late or twice.

Order independence (Stripe neither orders nor deduplicates deliveries):

* Subscription state carries a version, ``user_subscriptions.metadata.stripe_state_at`` (Unix
  seconds of the event, or of our retrieval of the object, that last set it). An event older
  than the stored version does not touch the state; a Stripe-cancelled subscription never
  becomes active again.
* An invoice, checkout or payment event for a subscription we have not seen yet retrieves the
  subscription from Stripe (the current object) instead of waiting for ``created``.
* Payments are keyed by PaymentIntent id. Invoices of current API versions no longer name their
  PaymentIntent (``invoice_payment.paid`` does); until it is known, an invoice's payment is keyed
  by the invoice id and re-keyed when ``invoice_payment.paid`` arrives.

Payload shapes: the current ones (basil onward: period on subscription items, invoice ->
subscription under ``parent.subscription_details``, line prices under ``pricing``) and the older
top-level fields.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients.stripe_client import HANDLED_EVENT_TYPES, from_minor_units
from ecomvideo.db import transaction
from ecomvideo.enums import (
    ACTIVE_SUBSCRIPTION_STATUSES,
    BillingCycle,
    CreditSource,
    InvoiceStatus,
    PaymentMethodType,
    PaymentProvider,
    PaymentStatus,
    SubscriptionStatus,
)
from ecomvideo.models import (
    Invoice,
    Payment,
    PaymentMethod,
    SubscriptionPlan,
    UsageCredit,
    User,
    UserSubscription,
)
from ecomvideo.models.stripe import BillingCustomer, CreditPack, StripeEvent, StripePrice
from ecomvideo.observability import logger
from ecomvideo.services import credits, plans

Obj = dict[str, Any]

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
# Invoices only move forward: draft < open < void/uncollectible < paid (an uncollectible
# invoice can still be paid; a paid one never changes again).
INVOICE_STATUS_RANK: dict[InvoiceStatus, int] = {
    InvoiceStatus.DRAFT: 0,
    InvoiceStatus.SENT: 1,
    InvoiceStatus.CANCELLED: 2,
    InvoiceStatus.PAID: 3,
}
INVOICE_STATUS_MAP: dict[str, InvoiceStatus] = {
    "draft": InvoiceStatus.DRAFT,
    "open": InvoiceStatus.SENT,
    "paid": InvoiceStatus.PAID,
    "void": InvoiceStatus.CANCELLED,
    "uncollectible": InvoiceStatus.CANCELLED,
}
PM_TYPE_MAP: dict[str, PaymentMethodType] = {
    "card": PaymentMethodType.CREDIT_CARD,
    "paypal": PaymentMethodType.PAYPAL,
    "us_bank_account": PaymentMethodType.BANK_ACCOUNT,
    "sepa_debit": PaymentMethodType.BANK_ACCOUNT,
    "bacs_debit": PaymentMethodType.BANK_ACCOUNT,
    "au_becs_debit": PaymentMethodType.BANK_ACCOUNT,
    "acss_debit": PaymentMethodType.BANK_ACCOUNT,
}
KIND_CREDIT_PACK = "credit_pack"
KIND_SUBSCRIPTION = "subscription"


# ------------------------------------------------------------------------------ helpers


def dig(obj: Any, *path: str) -> Any:
    """``obj[a][b]...`` or None when any step is missing / not a mapping."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def ref_id(value: Any) -> str | None:
    """An expandable field: the id whether Stripe sent a string or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def ts(value: int | None) -> datetime | None:
    """Stripe Unix seconds -> naive UTC."""
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, clamping the day (Jan 31 + 1 month = Feb 28/29), like Stripe billing."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _lock_user(session: Session, user_id: uuid.UUID) -> bool:
    """Serialise the billing events of one user (e.g. checkout + invoice of one purchase in
    parallel); False when the user no longer exists."""
    found = session.execute(
        select(User.id).where(User.id == user_id).with_for_update(key_share=True)
    ).first()
    return found is not None


def user_for_customer(session: Session, customer_id: str | None) -> uuid.UUID | None:
    if not customer_id:
        return None
    return session.scalar(
        select(BillingCustomer.user_id).where(BillingCustomer.stripe_customer_id == customer_id)
    )


def link_customer(session: Session, user_id: uuid.UUID, customer_id: str) -> None:
    """Remember user <-> customer (first link wins; a user keeps one customer)."""
    session.execute(
        insert(BillingCustomer)
        .values(user_id=user_id, stripe_customer_id=customer_id)
        .on_conflict_do_nothing()
    )


def resolve_user(
    session: Session, customer_id: str | None, *metadata_sources: Obj | None
) -> uuid.UUID | None:
    """Our user for a Stripe object: by customer mapping, else by ``metadata.user_id`` /
    ``client_reference_id`` we put on the objects we create (then the mapping is learnt)."""
    user_id = user_for_customer(session, customer_id)
    if user_id is not None:
        return user_id
    for source in metadata_sources:
        candidate = _uuid(dig(source, "user_id"))
        if candidate is not None and session.get(User, candidate) is not None:
            if customer_id:
                link_customer(session, candidate, customer_id)
            return candidate
    return None


def plan_for_price(
    session: Session, price_id: str | None
) -> tuple[SubscriptionPlan | None, BillingCycle | None]:
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


# ------------------------------------------------------------------------------ entry point


class Park(Exception):
    """The event depends on something we do not know yet: keep it and apply it later.

    ``waiting_for`` names the missing object (``payment:pi_...``, ``customer:cus_...``,
    ``subscription:sub_...``, ``invoice:in_...``, ``price:price_...``)."""

    def __init__(self, waiting_for: str, reason: str, *, customer: str | None = None) -> None:
        super().__init__(reason)
        self.waiting_for = waiting_for[:300]
        self.reason = reason[:500]
        self.customer = customer  # when the event itself names none (invoice_payment.*)


def event_customer(event: Obj) -> str | None:
    """The Stripe customer an event belongs to (the customer itself for customer.*)."""
    obj = dig(event, "data", "object") or {}
    if obj.get("object") == "customer":
        return obj.get("id")
    return ref_id(obj.get("customer")) or ref_id(
        dig(event, "data", "previous_attributes", "customer")
    )


def process_event(event: Obj) -> str:
    """Apply one verified event in one transaction. Returns "processed", "parked" (stored to
    be applied when what it waits for arrives), "duplicate" or "ignored" (a type we do not
    handle). After an applied event, the parked events of the same customer are retried."""
    event_type = event.get("type", "")
    if event_type not in HANDLED_EVENT_TYPES:
        return "ignored"
    with transaction() as session:
        stored = session.execute(
            insert(StripeEvent)
            .values(
                id=event["id"],
                type=event_type,
                created=ts(event.get("created")) or clock.utcnow(),
                processed_at=clock.utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(StripeEvent.id)
        ).first()
        if stored is None:
            return "duplicate"
        outcome = _apply(session, event)
        if outcome is not None:
            _park(session, event, outcome)
            return "parked"
    from ecomvideo.services import stripe_parked

    stripe_parked.reapply_for_customer(event_customer(event))
    return "processed"


def _apply(session: Session, event: Obj) -> Park | None:
    """Run the event's handler in a savepoint: a Park undoes its partial work."""
    try:
        with session.begin_nested():
            HANDLERS[event["type"]](session, event)
    except Park as park:
        return park
    return None


def _park(session: Session, event: Obj, park: Park) -> None:
    from ecomvideo.models.stripe import StripeParkedEvent

    logger.info(
        "stripe event parked", extra={"waiting_for": park.waiting_for, "reason": park.reason}
    )
    session.execute(
        insert(StripeParkedEvent)
        .values(
            event_id=event["id"],
            type=event["type"],
            event_created=ts(event.get("created")) or clock.utcnow(),
            stripe_customer_id=park.customer or event_customer(event),
            waiting_for=park.waiting_for,
            reason=park.reason,
            payload=event,
            state="parked",
            created_at=clock.utcnow(),
        )
        .on_conflict_do_nothing()
    )


# ------------------------------------------------------------------------------ subscriptions


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
    if user_id is None or not _lock_user(session, user_id):
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
        plan = session.get(SubscriptionPlan, _uuid(dig(sub, "metadata", "plan_id")))
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
        "period_start": int(start.replace(tzinfo=UTC).timestamp()) if start else None,
        "period_end": int(end.replace(tzinfo=UTC).timestamp()) if end else None,
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
    current = _retrieve("subscriptions", stripe_id)
    row = upsert_subscription(
        session, current, version=int(clock.utcnow().replace(tzinfo=UTC).timestamp()), strict=True
    )
    if row is None:  # Stripe's copy is not active yet (incomplete): wait for it
        raise Park(f"subscription:{stripe_id}", "subscription not active in Stripe yet")
    return row


def _retrieve(resource: str, object_id: str) -> Obj:
    """The current object from Stripe; one Stripe does not have (404) parks the event, any
    other error propagates (a 5xx: Stripe retries the delivery)."""
    import stripe

    from ecomvideo.clients.stripe_client import get_stripe_client

    try:
        return getattr(get_stripe_client().v1, resource).retrieve(object_id).to_dict()
    except stripe.InvalidRequestError as exc:
        if exc.code != "resource_missing":
            raise
        missing = f"{resource.rstrip('s')}:{object_id}"
        raise Park(missing, f"{resource} not found in Stripe") from exc


def _set_status_if_newer(
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
        from ecomvideo.services.billing import notify_trial_ending

        notify_trial_ending(session, row)


# ------------------------------------------------------------------------------ checkout


def on_checkout_completed(session: Session, event: Obj) -> None:
    cs = event["data"]["object"]
    customer_id = ref_id(cs.get("customer"))
    meta = {**(cs.get("metadata") or {}), "user_id": cs.get("client_reference_id")}
    user_id = resolve_user(session, customer_id, cs.get("metadata"), meta)
    if user_id is None:
        logger.warning("checkout for an unknown user", extra={"checkout": cs.get("id")})
        raise Park(f"customer:{customer_id or cs.get('client_reference_id')}", "unknown user")
    if cs.get("mode") == "subscription":
        ensure_subscription(session, ref_id(cs.get("subscription")))
    elif cs.get("mode") == "payment" and cs.get("payment_status") == "paid":
        fulfil_credit_pack(
            session,
            user_id=user_id,
            payment_intent_id=ref_id(cs.get("payment_intent")) or cs["id"],
            pack=_checkout_pack(session, cs),
            amount=cs.get("amount_total"),
            currency=cs.get("currency") or "usd",
        )


def _pack_for_price(session: Session, price_id: str | None) -> CreditPack | None:
    row = session.get(StripePrice, price_id) if price_id else None
    if row is None or row.credit_pack_id is None:
        return None
    return session.get(CreditPack, row.credit_pack_id)


def _checkout_pack(session: Session, cs: Obj) -> CreditPack:
    """The pack a paid Checkout sold: our ``metadata.credit_pack_id`` when present, else the
    session's line items from Stripe (never in the event) mapped through ``stripe_prices``.
    A price mapped to no pack parks the event until an admin maps it."""
    pack = session.get(CreditPack, _uuid(dig(cs, "metadata", "credit_pack_id")))
    if pack is not None:
        return pack
    from ecomvideo.clients.stripe_client import get_stripe_client

    items = get_stripe_client().v1.checkout.sessions.line_items.list(cs["id"]).to_dict()
    price_ids = [ref_id(dig(line, "price")) for line in items.get("data") or []]
    for price_id in price_ids:
        pack = _pack_for_price(session, price_id)
        if pack is not None:
            return pack
    raise Park(
        f"price:{price_ids[0] if price_ids else cs['id']}",
        "paid checkout whose price is mapped to no credit pack",
    )


# ------------------------------------------------------------------------------ payments


def _payment_by_intent(session: Session, payment_intent_id: str) -> Payment | None:
    return session.scalars(
        select(Payment).where(Payment.payment_intent_id == payment_intent_id).with_for_update()
    ).first()


def _upsert_payment(session: Session, key: str, **values: Any) -> Payment:
    """Insert-or-lock the payment keyed by ``key`` (race-safe on the unique column)."""
    session.execute(
        insert(Payment)
        .values(
            id=uuid.uuid4(),
            payment_intent_id=key,
            provider=PaymentProvider.STRIPE,
            refunded_amount=Decimal("0"),
            **values,
        )
        .on_conflict_do_nothing(index_elements=["payment_intent_id"])
    )
    payment = _payment_by_intent(session, key)
    assert payment is not None
    return payment


def fulfil_credit_pack(
    session: Session,
    *,
    user_id: uuid.UUID,
    payment_intent_id: str,
    pack: CreditPack,
    amount: int | None,
    currency: str,
) -> None:
    """Record the pack's payment and grant its credits once (reference = the PaymentIntent)."""
    now = clock.utcnow()
    payment = _upsert_payment(
        session,
        payment_intent_id,
        user_id=user_id,
        amount=from_minor_units(amount, currency),
        currency=currency.upper(),
        status=PaymentStatus.SUCCEEDED,
        description=f"Credit pack: {pack.name}",
        meta={"kind": KIND_CREDIT_PACK, "credit_pack_id": str(pack.id), "pack_code": pack.code},
        paid_at=now,
    )
    if payment.status is PaymentStatus.PENDING or payment.status is PaymentStatus.FAILED:
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = payment.paid_at or now
        payment.failure_reason = None
    if (payment.meta or {}).get("credit_pack_id") is None:
        payment.meta = {**(payment.meta or {}), "credit_pack_id": str(pack.id)}
    if payment.status is PaymentStatus.REFUNDED:
        return  # refunded before we saw it paid: never grant
    credits.grant(
        session,
        user_id,
        pack.credits,
        CreditSource.PURCHASE,
        reference=f"stripe:payment:{payment_intent_id}",
        expires_at=now + timedelta(days=pack.validity_days) if pack.validity_days else None,
        metadata={"credit_pack": pack.code, "payment_id": str(payment.id)},
        created_by="stripe",
    )


def on_payment_intent(session: Session, event: Obj) -> None:
    pi = event["data"]["object"]
    meta = pi.get("metadata") or {}
    succeeded = event["type"] == "payment_intent.succeeded"
    if meta.get("kind") == KIND_CREDIT_PACK:
        user_id = resolve_user(session, ref_id(pi.get("customer")), meta)
        if user_id is None:
            raise Park(f"customer:{ref_id(pi.get('customer'))}", "payment of an unknown user")
        pack = session.get(CreditPack, _uuid(meta.get("credit_pack_id")))
        if succeeded and pack is not None:
            fulfil_credit_pack(
                session,
                user_id=user_id,
                payment_intent_id=pi["id"],
                pack=pack,
                amount=pi.get("amount_received") or pi.get("amount"),
                currency=pi.get("currency") or "usd",
            )
            return
        if not succeeded:
            failed = _upsert_payment(
                session,
                pi["id"],
                user_id=user_id,
                amount=from_minor_units(pi.get("amount"), pi.get("currency") or "usd"),
                currency=(pi.get("currency") or "usd").upper(),
                status=PaymentStatus.FAILED,
                description="Credit pack",
                meta={"kind": KIND_CREDIT_PACK, "credit_pack_id": meta.get("credit_pack_id")},
            )
            _record_decline(failed, pi)
            return
    # Subscription payments are recorded from invoice events (PaymentIntents no longer name
    # their invoice), a pack without our metadata by its Checkout: complete what we know, and
    # wait for the payment when it is not recorded yet.
    payment = _payment_by_intent(session, pi["id"])
    if payment is None:
        if meta.get("kind") == KIND_CREDIT_PACK:
            raise Park(f"payment:{pi['id']}", "credit pack payment not recorded yet")
        return  # provably covered by the invoice events (see docs/webhooks.md)
    if succeeded and payment.status is not PaymentStatus.REFUNDED:
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = payment.paid_at or clock.utcnow()
        payment.failure_reason = None
    elif not succeeded:
        _record_decline(payment, pi)
    _apply_fee(payment, pi)


def decline_of(obj: Obj | None) -> Obj | None:
    """``last_payment_error`` of a PaymentIntent reduced to code, decline_code, message."""
    error = dig(obj, "last_payment_error") or {}
    kept = {k: error.get(k) for k in ("code", "decline_code", "message") if error.get(k)}
    return kept or None


def _record_decline(payment: Payment, pi: Obj) -> None:
    """Store why a payment attempt failed. A payment that succeeded stays succeeded."""
    decline = decline_of(pi)
    if decline:
        payment.meta = {**(payment.meta or {}), "decline": decline}
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        return
    payment.status = PaymentStatus.FAILED
    if decline:
        payment.failure_reason = str(decline.get("message") or decline.get("code"))[:500]


def _apply_fee(payment: Payment, obj: Obj) -> None:
    """Stripe's fee, when the balance transaction came expanded (it is an id otherwise)."""
    bt = dig(obj, "latest_charge", "balance_transaction") or obj.get("balance_transaction")
    if isinstance(bt, dict) and bt.get("fee") is not None:
        payment.provider_fee = from_minor_units(bt["fee"], bt.get("currency") or payment.currency)


def on_charge_refunded(session: Session, event: Obj) -> None:
    charge = event["data"]["object"]
    pi_id = ref_id(charge.get("payment_intent"))
    payment = _payment_by_intent(session, pi_id) if pi_id else None
    if payment is None:
        raise Park(f"payment:{pi_id or charge.get('id')}", "refund of a payment not known yet")
    refunded = from_minor_units(charge.get("amount_refunded"), charge.get("currency") or "usd")
    # Refund events only grow; take the largest amount seen so a late older event is harmless.
    payment.refunded_amount = min(
        max(payment.refunded_amount or Decimal("0"), refunded), payment.amount
    )
    _apply_fee(payment, charge)
    fully = bool(charge.get("refunded")) or payment.refunded_amount >= payment.amount
    if fully:
        payment.status = PaymentStatus.REFUNDED
    if fully and (payment.meta or {}).get("kind") == KIND_CREDIT_PACK:
        removed = credits.claw_back(session, f"stripe:payment:{payment.payment_intent_id}")
        payment.meta = {**(payment.meta or {}), "credits_clawed_back": removed}


# ------------------------------------------------------------------------------ invoices


def invoice_subscription_id(inv: Obj) -> str | None:
    """Current shape (parent.subscription_details) first, then the pre-basil field."""
    return ref_id(dig(inv, "parent", "subscription_details", "subscription")) or ref_id(
        inv.get("subscription")
    )


def _subscription_line(inv: Obj) -> Obj | None:
    """The line that bills the (new) plan: positive subscription lines, latest period end."""
    lines = dig(inv, "lines", "data") or []
    candidates = [
        line
        for line in lines
        if dig(line, "parent", "type") == "subscription_item_details"
        or line.get("type") == "subscription"
        or dig(line, "parent", "subscription_item_details") is not None
    ]
    positive = [line for line in candidates if int(line.get("amount") or 0) >= 0]
    pool = positive or candidates
    if not pool:
        return None
    return max(pool, key=lambda line: int(dig(line, "period", "end") or 0))


def _line_price_id(line: Obj | None) -> str | None:
    return ref_id(dig(line, "pricing", "price_details", "price")) or ref_id(
        dig(line, "price") or dig(line, "plan")
    )


def _invoice_payment(
    session: Session, inv: Obj, user_id: uuid.UUID, status: PaymentStatus, usub: Any
) -> Payment:
    """The payment row of an invoice: keyed by its PaymentIntent when known, else by the
    invoice id until ``invoice_payment.paid`` names the PaymentIntent."""
    currency = inv.get("currency") or "usd"
    pi_id = ref_id(inv.get("payment_intent"))  # pre-basil payloads only
    existing = session.scalars(
        select(Payment)
        .where(Payment.meta["stripe_invoice_id"].astext == inv["id"])
        .with_for_update()
    ).first()
    paid = status is PaymentStatus.SUCCEEDED
    amount = inv.get("amount_paid") if paid else inv.get("amount_due")
    payment = existing or _upsert_payment(
        session,
        pi_id or inv["id"],
        user_id=user_id,
        amount=from_minor_units(amount, currency),
        currency=currency.upper(),
        status=status,
        description=_invoice_description(inv),
        meta={"kind": KIND_SUBSCRIPTION, "stripe_invoice_id": inv["id"]},
    )
    # A refund is final; a late failure never overwrites a success.
    if payment.status is not PaymentStatus.REFUNDED and (
        paid or payment.status is not PaymentStatus.SUCCEEDED
    ):
        payment.status = status
    if paid:
        payment.amount = max(payment.amount, from_minor_units(amount, currency))
        payment.paid_at = payment.paid_at or ts(dig(inv, "status_transitions", "paid_at"))
        payment.failure_reason = None
    else:
        decline = (payment.meta or {}).get("decline") or {}
        payment.failure_reason = (
            decline.get("message")
            or dig(inv, "last_finalization_error", "message")
            or "The payment was declined."
        )[:500]
    if usub is not None:
        payment.user_subscription_id = usub.id
    return payment


def _invoice_description(inv: Obj) -> str:
    line = _subscription_line(inv)
    text = (line or {}).get("description") or inv.get("description") or "Subscription"
    return str(text)[:500]


def _upsert_invoice(session: Session, inv: Obj, payment: Payment) -> Invoice:
    number = inv.get("number") or inv["id"]
    currency = inv.get("currency") or "usd"
    session.execute(
        insert(Invoice)
        .values(
            id=uuid.uuid4(),
            payment_id=payment.id,
            invoice_number=number,
            amount=from_minor_units(inv.get("total"), currency),
            currency=currency.upper(),
            status=InvoiceStatus.SENT,
            issued_at=ts(inv.get("created")) or clock.utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["invoice_number"])
    )
    row = session.scalars(
        select(Invoice).where(Invoice.invoice_number == number).with_for_update()
    ).one()
    status = INVOICE_STATUS_MAP.get(inv.get("status", ""), InvoiceStatus.SENT)
    if INVOICE_STATUS_RANK[status] >= INVOICE_STATUS_RANK[row.status]:  # never backwards
        row.status = status
    tax = sum(int(t.get("amount") or 0) for t in inv.get("total_taxes") or []) or inv.get("tax")
    row.tax_amount = from_minor_units(tax, currency)
    row.amount = from_minor_units(inv.get("total"), currency)
    row.due_at = ts(inv.get("due_date"))
    row.paid_at = row.paid_at or ts(dig(inv, "status_transitions", "paid_at"))
    row.pdf_url = inv.get("invoice_pdf") or row.pdf_url
    row.meta = {
        **(row.meta or {}),
        "stripe_invoice_id": inv["id"],
        "hosted_invoice_url": inv.get("hosted_invoice_url"),
        "billing_reason": inv.get("billing_reason"),
        **_dunning_fields(row.meta or {}, inv, paid=row.status is InvoiceStatus.PAID),
    }
    return row


def _dunning_fields(stored: Obj, inv: Obj, *, paid: bool) -> Obj:
    """attempt_count / next_payment_attempt from the invoice with the most attempts seen (a
    late event about an earlier attempt cannot lower them); no next attempt once paid."""
    attempts = int(inv.get("attempt_count") or 0)
    if attempts >= int(stored.get("attempt_count") or 0):
        fields = {
            "attempt_count": attempts,
            "next_payment_attempt": inv.get("next_payment_attempt"),
        }
    else:
        fields = {k: stored.get(k) for k in ("attempt_count", "next_payment_attempt")}
    if paid:
        fields["next_payment_attempt"] = None
    return fields


def _invoice_user(session: Session, inv: Obj) -> uuid.UUID:
    sub_meta = dig(inv, "parent", "subscription_details", "metadata")
    customer_id = ref_id(inv.get("customer"))
    user_id = resolve_user(session, customer_id, sub_meta)
    if user_id is None or not _lock_user(session, user_id):
        logger.warning("invoice for an unknown customer", extra={"invoice": inv.get("id")})
        raise Park(f"customer:{customer_id}", "invoice of an unknown customer")
    return user_id


def _invoice_settled(session: Session, inv: Obj) -> bool:
    """Paid in Stripe's copy, or already recorded as paid (or refunded) by us."""
    if inv.get("status") == "paid":
        return True
    recorded = session.scalar(
        select(Invoice.status).where(Invoice.invoice_number == (inv.get("number") or inv["id"]))
    )
    payment_status = session.scalar(
        select(Payment.status).where(Payment.meta["stripe_invoice_id"].astext == inv["id"])
    )
    return recorded is InvoiceStatus.PAID or payment_status in (
        PaymentStatus.SUCCEEDED,
        PaymentStatus.REFUNDED,
    )


def on_invoice_paid(session: Session, event: Obj, *, payment_intent_id: str | None = None) -> None:
    inv = event["data"]["object"]
    user_id = _invoice_user(session, inv)
    usub = ensure_subscription(session, invoice_subscription_id(inv))
    payment = _invoice_payment(session, inv, user_id, PaymentStatus.SUCCEEDED, usub)
    if payment_intent_id:
        _rekey_payment(session, payment, payment_intent_id)
    _upsert_invoice(session, inv, payment)
    if usub is None:
        return
    _set_status_if_newer(
        usub,
        SubscriptionStatus.ACTIVE,
        int(event["created"]),
        only_from={SubscriptionStatus.PAST_DUE},
    )
    _grant_for_invoice(session, inv, usub)


def _grant_for_invoice(session: Session, inv: Obj, usub: UserSubscription) -> None:
    """The plan's monthly credits for a paid subscription invoice (once per invoice)."""
    line = _subscription_line(inv)
    plan, cycle = plan_for_price(session, _line_price_id(line))
    plan = plan or usub.plan
    cycle = cycle or usub.billing_cycle
    period_start = ts(dig(line, "period", "start")) or ts(inv.get("period_start"))
    period_end = ts(dig(line, "period", "end")) or usub.ends_at
    if not plan.video_credits_monthly or period_end is None:
        return
    expires = period_end
    if cycle is BillingCycle.YEARLY and period_start is not None:
        # Yearly plans: the first month now, the others from the monthly job.
        expires = min(add_months(period_start, 1), period_end)
    amount = plan.video_credits_monthly
    if inv.get("billing_reason") == "subscription_update":
        # Upgrade mid-period: top up to the new plan's allowance for this period.
        already = session.scalar(
            select(func.coalesce(func.sum(UsageCredit.amount), 0)).where(
                UsageCredit.user_subscription_id == usub.id,
                UsageCredit.source == CreditSource.SUBSCRIPTION,
                UsageCredit.expires_at == expires,
            )
        )
        amount -= int(already or 0)
    if amount <= 0:
        return
    credits.grant(
        session,
        usub.user_id,
        amount,
        CreditSource.SUBSCRIPTION,
        reference=f"stripe:invoice:{inv['id']}",
        expires_at=expires,
        user_subscription_id=usub.id,
        metadata={"plan": plan.name, "billing_reason": inv.get("billing_reason")},
        created_by="stripe",
    )


def on_invoice_payment_failed(session: Session, event: Obj) -> None:
    """A failed attempt: the payment and invoice record it, the subscription goes past due
    (version rule), and the customer is mailed once per attempt. Nothing happens for an
    invoice that is already paid (a late delivery of an earlier attempt)."""
    inv = event["data"]["object"]
    user_id = _invoice_user(session, inv)
    usub = ensure_subscription(session, invoice_subscription_id(inv))
    if _invoice_settled(session, inv):
        logger.info("failure of an invoice already paid ignored", extra={"invoice": inv["id"]})
        return
    payment = _invoice_payment(session, inv, user_id, PaymentStatus.FAILED, usub)
    _failed_attempt_decline(session, payment, inv)
    _upsert_invoice(session, inv, payment)
    if usub is None:
        return
    _set_status_if_newer(
        usub,
        SubscriptionStatus.PAST_DUE,
        int(event["created"]),
        only_from={SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIAL},
    )
    attempt = int(inv.get("attempt_count") or 1)
    notified = list((payment.meta or {}).get("dunning_notified_attempts") or [])
    if attempt in notified:
        return
    notified = sorted([*notified, attempt])
    payment.meta = {**(payment.meta or {}), "dunning_notified_attempts": notified}
    from ecomvideo.services.billing import notify_payment_failed

    notify_payment_failed(session, usub, inv)


def _failed_attempt_decline(session: Session, payment: Payment, inv: Obj) -> None:
    """Why the attempt failed. Invoices of current API versions no longer name their
    PaymentIntent: the invoice's payments do (``GET /v1/invoice_payments?invoice=``). The
    payment is re-keyed by that PaymentIntent (so its later events and refunds find it) and
    the PaymentIntent's ``last_payment_error`` kept. Best effort: a Stripe error leaves the
    generic reason (the failure itself is already recorded)."""
    import stripe

    from ecomvideo.clients.stripe_client import get_stripe_client

    client = get_stripe_client()
    try:
        pi_id = ref_id(inv.get("payment_intent"))  # pre-basil payloads
        if pi_id is None:
            listing = client.v1.invoice_payments.list(params={"invoice": inv["id"], "limit": 10})
            found = sorted(
                listing.to_dict().get("data") or [], key=lambda p: not p.get("is_default")
            )
            pi_id = next(
                (ref_id(dig(p, "payment", "payment_intent")) for p in found if p.get("payment")),
                None,
            )
        if pi_id is None:
            return
        _rekey_payment(session, payment, pi_id)
        _record_decline(payment, client.v1.payment_intents.retrieve(pi_id).to_dict())
    except stripe.StripeError as exc:
        logger.warning("decline reason not available", extra={"error": type(exc).__name__})


def _rekey_payment(session: Session, payment: Payment, payment_intent_id: str) -> None:
    if payment.payment_intent_id == payment_intent_id:
        return
    if _payment_by_intent(session, payment_intent_id) is None:
        payment.payment_intent_id = payment_intent_id
        session.flush()


def on_invoice_payment_paid(session: Session, event: Obj) -> None:
    """``invoice_payment.paid``: the link invoice -> PaymentIntent (current API versions)."""
    ip = event["data"]["object"]
    invoice_id = ref_id(ip.get("invoice"))
    pi_id = ref_id(dig(ip, "payment", "payment_intent")) or ref_id(dig(ip, "payment", "charge"))
    if not invoice_id or not pi_id:
        return
    payment = session.scalars(
        select(Payment)
        .where(Payment.meta["stripe_invoice_id"].astext == invoice_id)
        .with_for_update()
    ).first()
    if payment is not None:
        _rekey_payment(session, payment, pi_id)
        return
    # Before invoice.paid: take the invoice from Stripe and record it now, keyed correctly.
    inv = _retrieve("invoices", invoice_id)
    if inv.get("status") != "paid":
        raise Park(
            f"invoice:{invoice_id}",
            "invoice payment of an invoice not paid yet",
            customer=ref_id(inv.get("customer")),
        )
    on_invoice_paid(
        session,
        {"type": "invoice.paid", "created": event["created"], "data": {"object": inv}},
        payment_intent_id=pi_id,
    )


# ------------------------------------------------------------------------------ payment methods


def upsert_payment_method(session: Session, pm: Obj, user_id: uuid.UUID) -> PaymentMethod:
    session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
    row = session.scalars(
        select(PaymentMethod).where(PaymentMethod.external_id == pm["id"]).with_for_update()
    ).first()
    if row is None:
        row = PaymentMethod(
            user_id=user_id,
            external_id=pm["id"],
            provider=PaymentProvider.STRIPE,
            type=PM_TYPE_MAP.get(pm.get("type", ""), PaymentMethodType.CREDIT_CARD),
            is_default=False,
        )
        session.add(row)
    card = pm.get("card") or {}
    bank = pm.get("us_bank_account") or pm.get("sepa_debit") or {}
    row.brand = card.get("brand") or bank.get("bank_name") or pm.get("type")
    row.last_four_digits = card.get("last4") or bank.get("last4")
    if card.get("exp_year") and card.get("exp_month"):
        year, month = int(card["exp_year"]), int(card["exp_month"])
        # A card is valid through the last moment of its expiry month.
        row.expires_at = datetime(year, month, calendar.monthrange(year, month)[1], 23, 59, 59)
    row.billing_address = dig(pm, "billing_details", "address")
    # A detached PaymentMethod cannot be attached again (Stripe): a late attach leaves it off.
    row.is_active = not (row.meta or {}).get("detached_at")
    session.flush()
    return row


def on_payment_method_attached(session: Session, event: Obj) -> None:
    pm = event["data"]["object"]
    customer_id = ref_id(pm.get("customer"))
    user_id = resolve_user(session, customer_id, pm.get("metadata"))
    if user_id is None:
        raise Park(f"customer:{customer_id}", "payment method of an unknown customer")
    upsert_payment_method(session, pm, user_id)


def on_payment_method_detached(session: Session, event: Obj) -> None:
    pm = event["data"]["object"]  # customer is null; the former owner is in previous_attributes
    row = session.scalars(
        select(PaymentMethod).where(PaymentMethod.external_id == pm["id"]).with_for_update()
    ).first()
    if row is None:  # detached before we saw it attached: wait for the attach
        raise Park(
            f"payment_method:{pm['id']}",
            "detach of a payment method not recorded yet",
            customer=event_customer(event),
        )
    row.is_active = False
    row.is_default = False
    row.meta = {**(row.meta or {}), "detached_at": int(event["created"])}


def set_default_payment_method(
    session: Session, user_id: uuid.UUID, external_id: str | None, *, version: int
) -> None:
    """Flag one of the user's methods as default (and clear the others), unless a newer
    choice (``metadata.default_version``, Unix seconds, on every row) is already applied."""
    rows = list(
        session.scalars(
            select(PaymentMethod).where(PaymentMethod.user_id == user_id).with_for_update()
        )
    )
    if version < max((int((r.meta or {}).get("default_version", 0)) for r in rows), default=0):
        return
    for row in rows:
        row.is_default = bool(external_id) and row.external_id == external_id and row.is_active
        row.meta = {**(row.meta or {}), "default_version": version}


def on_customer_updated(session: Session, event: Obj) -> None:
    customer = event["data"]["object"]
    user_id = resolve_user(session, customer["id"], customer.get("metadata"))
    if user_id is None:
        raise Park(f"customer:{customer['id']}", "update of an unknown customer")
    previous = dig(event, "data", "previous_attributes") or {}
    if "invoice_settings" in previous or dig(customer, "invoice_settings") is not None:
        default = ref_id(dig(customer, "invoice_settings", "default_payment_method"))
        known = default and session.scalar(
            select(PaymentMethod.id).where(PaymentMethod.external_id == default)
        )
        if default and not known:
            upsert_payment_method(session, _retrieve("payment_methods", default), user_id)
        set_default_payment_method(session, user_id, default, version=int(event["created"]))


HANDLERS: dict[str, Callable[[Session, Obj], None]] = {
    "checkout.session.completed": on_checkout_completed,
    "checkout.session.async_payment_succeeded": on_checkout_completed,
    "customer.subscription.created": on_subscription_event,
    "customer.subscription.updated": on_subscription_event,
    "customer.subscription.deleted": on_subscription_event,
    "customer.subscription.trial_will_end": on_subscription_event,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_succeeded": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "invoice_payment.paid": on_invoice_payment_paid,
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "charge.refunded": on_charge_refunded,
    "payment_method.attached": on_payment_method_attached,
    "payment_method.detached": on_payment_method_detached,
    "customer.updated": on_customer_updated,
}
assert set(HANDLERS) == HANDLED_EVENT_TYPES, "keep HANDLED_EVENT_TYPES in sync"
