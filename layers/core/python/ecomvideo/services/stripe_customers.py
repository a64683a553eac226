"""Stripe customers -> our users, and their payment methods.

A Stripe customer maps to one user (``billing_customers``), learnt from the customer mapping
or from the ``metadata.user_id`` / ``client_reference_id`` we put on the objects we create.
Handlers here: ``payment_method.attached`` / ``.detached`` and ``customer.updated`` (the
default payment method, with the same version rule as subscriptions).
"""

from __future__ import annotations

import calendar
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo.enums import PaymentMethodType, PaymentProvider
from ecomvideo.models import PaymentMethod, User
from ecomvideo.models.stripe import BillingCustomer
from ecomvideo.services.stripe_objects import (
    Obj,
    Park,
    as_uuid,
    dig,
    event_customer,
    ref_id,
    retrieve,
)

PM_TYPE_MAP: dict[str, PaymentMethodType] = {
    "card": PaymentMethodType.CREDIT_CARD,
    "paypal": PaymentMethodType.PAYPAL,
    "us_bank_account": PaymentMethodType.BANK_ACCOUNT,
    "sepa_debit": PaymentMethodType.BANK_ACCOUNT,
    "bacs_debit": PaymentMethodType.BANK_ACCOUNT,
    "au_becs_debit": PaymentMethodType.BANK_ACCOUNT,
    "acss_debit": PaymentMethodType.BANK_ACCOUNT,
}


def lock_user(session: Session, user_id: uuid.UUID) -> bool:
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
        candidate = as_uuid(dig(source, "user_id"))
        if candidate is not None and session.get(User, candidate) is not None:
            if customer_id:
                link_customer(session, candidate, customer_id)
            return candidate
    return None


# ------------------------------------------------------------------------------ payment methods


def upsert_payment_method(session: Session, pm: Obj, user_id: uuid.UUID) -> PaymentMethod:
    lock_user(session, user_id)
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
            upsert_payment_method(session, retrieve("payment_methods", default), user_id)
        set_default_payment_method(session, user_id, default, version=int(event["created"]))
