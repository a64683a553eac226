"""Stripe Checkout -> a subscription or a credit pack (``checkout.session.completed`` and
``.async_payment_succeeded``).

A subscription Checkout makes sure the subscription is mirrored (retrieved from Stripe when its
own event has not arrived yet); a paid credit-pack Checkout records the payment and grants the
pack (once per PaymentIntent). The pack comes from our ``metadata.credit_pack_id``, else from the
session's line items (never in the event) mapped through ``stripe_prices``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecomvideo.clients.stripe_client import get_stripe_client
from ecomvideo.models.stripe import CreditPack, StripePrice
from ecomvideo.observability import logger
from ecomvideo.services.stripe_customers import resolve_user
from ecomvideo.services.stripe_objects import Obj, Park, by_metadata_id, dig, ref_id
from ecomvideo.services.stripe_payments import fulfil_credit_pack
from ecomvideo.services.stripe_subscriptions import ensure_subscription


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
    pack = by_metadata_id(session, CreditPack, dig(cs, "metadata", "credit_pack_id"))
    if pack is not None:
        return pack
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
