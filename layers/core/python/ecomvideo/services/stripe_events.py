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

Where things live: ``stripe_handlers`` maps each type to its handler in ``stripe_subscriptions``,
``stripe_invoices``, ``stripe_payments``, ``stripe_checkout`` or ``stripe_customers``; the
helpers they share (fields, ids, timestamps, ``Park``) are in ``stripe_objects``.

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

from sqlalchemy.dialects.postgresql import insert

from ecomvideo import clock
from ecomvideo.clients.stripe_client import HANDLED_EVENT_TYPES
from ecomvideo.db import transaction
from ecomvideo.models.stripe import StripeEvent
from ecomvideo.services import stripe_parked
from ecomvideo.services.stripe_handlers import apply_event
from ecomvideo.services.stripe_objects import Obj, event_customer, ts


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
        outcome = apply_event(session, event)
        if outcome is not None:
            stripe_parked.park_event(session, event, outcome)
            return "parked"
    stripe_parked.reapply_for_customer(event_customer(event))
    return "processed"
