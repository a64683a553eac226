"""Stripe invoices -> ``invoices``, their payments, subscription credits and dunning
(``invoice.paid`` / ``.payment_succeeded`` / ``.payment_failed``, ``invoice_payment.paid``).

Invoices only move forward (draft < open < void/uncollectible < paid). A paid subscription
invoice grants the plan's credits once (ledger reference ``stripe:invoice:<id>``; an upgrade
mid-period tops up to the new allowance). A failed attempt marks the payment failed (never a
succeeded one), moves the subscription to past due (version rule) and mails the customer once
per attempt; nothing happens for an invoice that is already paid.

Payload shapes: the current ones (basil onward: invoice -> subscription under
``parent.subscription_details``, line prices under ``pricing``) and the older top-level fields.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients.stripe_client import from_minor_units, get_stripe_client
from ecomvideo.enums import (
    BillingCycle,
    CreditSource,
    InvoiceStatus,
    PaymentStatus,
    SubscriptionStatus,
)
from ecomvideo.models import Invoice, Payment, UsageCredit, UserSubscription
from ecomvideo.observability import logger
from ecomvideo.services import credits
from ecomvideo.services.billing_mail import notify_payment_failed
from ecomvideo.services.stripe_customers import lock_user, resolve_user
from ecomvideo.services.stripe_objects import (
    KIND_SUBSCRIPTION,
    Obj,
    Park,
    add_months,
    dig,
    ref_id,
    retrieve,
    ts,
)
from ecomvideo.services.stripe_payments import (
    record_decline,
    rekey_payment,
    upsert_payment,
)
from ecomvideo.services.stripe_subscriptions import (
    ensure_subscription,
    plan_for_price,
    set_status_if_newer,
)

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
    payment = existing or upsert_payment(
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
    if user_id is None or not lock_user(session, user_id):
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
        rekey_payment(session, payment, payment_intent_id)
    _upsert_invoice(session, inv, payment)
    if usub is None:
        return
    set_status_if_newer(
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
    set_status_if_newer(
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
    notify_payment_failed(session, usub, inv)


def _failed_attempt_decline(session: Session, payment: Payment, inv: Obj) -> None:
    """Why the attempt failed. Invoices of current API versions no longer name their
    PaymentIntent: the invoice's payments do (``GET /v1/invoice_payments?invoice=``). The
    payment is re-keyed by that PaymentIntent (so its later events and refunds find it) and
    the PaymentIntent's ``last_payment_error`` kept. Best effort: a Stripe error leaves the
    generic reason (the failure itself is already recorded)."""
    import stripe  # lazy: the Stripe SDK is a slow import; only paths calling Stripe load it

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
        rekey_payment(session, payment, pi_id)
        record_decline(payment, client.v1.payment_intents.retrieve(pi_id).to_dict())
    except stripe.StripeError as exc:
        logger.warning("decline reason not available", extra={"error": type(exc).__name__})


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
        rekey_payment(session, payment, pi_id)
        return
    # Before invoice.paid: take the invoice from Stripe and record it now, keyed correctly.
    inv = retrieve("invoices", invoice_id)
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
