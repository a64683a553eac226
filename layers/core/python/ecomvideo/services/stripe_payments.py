"""Stripe payments -> ``payments`` and credit packs (``payment_intent.*``, ``charge.refunded``).

Payments are keyed by PaymentIntent id (unique, so inserts are race-safe). Invoices of current
API versions no longer name their PaymentIntent: until it is known, an invoice's payment is
keyed by the invoice id and re-keyed (``rekey_payment``) when ``invoice_payment.paid`` or the
invoice's payments name it. A credit pack is granted once (ledger reference
``stripe:payment:<pi>``) and clawed back on a full refund; a succeeded or refunded payment never
becomes failed again.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients.stripe_client import from_minor_units
from ecomvideo.enums import CreditSource, PaymentProvider, PaymentStatus
from ecomvideo.models import Payment
from ecomvideo.models.stripe import CreditPack
from ecomvideo.services import credits
from ecomvideo.services.stripe_customers import resolve_user
from ecomvideo.services.stripe_objects import (
    KIND_CREDIT_PACK,
    Obj,
    Park,
    by_metadata_id,
    dig,
    ref_id,
)


def payment_by_intent(session: Session, payment_intent_id: str) -> Payment | None:
    """Our payment keyed by ``payment_intent_id``, locked for update (None when unknown)."""
    return session.scalars(
        select(Payment).where(Payment.payment_intent_id == payment_intent_id).with_for_update()
    ).first()


def upsert_payment(session: Session, key: str, **values: Any) -> Payment:
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
    payment = payment_by_intent(session, key)
    assert payment is not None
    return payment


def rekey_payment(session: Session, payment: Payment, payment_intent_id: str) -> None:
    """Key ``payment`` by its PaymentIntent once known (unless another row already has it)."""
    if payment.payment_intent_id == payment_intent_id:
        return
    if payment_by_intent(session, payment_intent_id) is None:
        payment.payment_intent_id = payment_intent_id
        session.flush()


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
    payment = upsert_payment(
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
        pack = by_metadata_id(session, CreditPack, meta.get("credit_pack_id"))
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
            failed = upsert_payment(
                session,
                pi["id"],
                user_id=user_id,
                amount=from_minor_units(pi.get("amount"), pi.get("currency") or "usd"),
                currency=(pi.get("currency") or "usd").upper(),
                status=PaymentStatus.FAILED,
                description="Credit pack",
                meta={"kind": KIND_CREDIT_PACK, "credit_pack_id": meta.get("credit_pack_id")},
            )
            record_decline(failed, pi)
            return
    # Subscription payments are recorded from invoice events (PaymentIntents no longer name
    # their invoice), a pack without our metadata by its Checkout: complete what we know, and
    # wait for the payment when it is not recorded yet.
    payment = payment_by_intent(session, pi["id"])
    if payment is None:
        if meta.get("kind") == KIND_CREDIT_PACK:
            raise Park(f"payment:{pi['id']}", "credit pack payment not recorded yet")
        return  # provably covered by the invoice events (see docs/webhooks.md)
    if succeeded and payment.status is not PaymentStatus.REFUNDED:
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = payment.paid_at or clock.utcnow()
        payment.failure_reason = None
    elif not succeeded:
        record_decline(payment, pi)
    _apply_fee(payment, pi)


def decline_of(obj: Obj | None) -> Obj | None:
    """``last_payment_error`` of a PaymentIntent reduced to code, decline_code, message."""
    error = dig(obj, "last_payment_error") or {}
    kept = {k: error.get(k) for k in ("code", "decline_code", "message") if error.get(k)}
    return kept or None


def record_decline(payment: Payment, pi: Obj) -> None:
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
    payment = payment_by_intent(session, pi_id) if pi_id else None
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
