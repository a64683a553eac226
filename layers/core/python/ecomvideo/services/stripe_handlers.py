"""One handler per Stripe event type we process, and ``apply_event`` that runs one.

Used by ``stripe_events.process_event`` (a new delivery) and ``stripe_parked.reapply`` (an
event parked until what it waited for arrived). docs/webhooks.md lists every type with what
happens when it arrives early, late or twice.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from ecomvideo.clients.stripe_client import HANDLED_EVENT_TYPES
from ecomvideo.services.stripe_checkout import on_checkout_completed
from ecomvideo.services.stripe_customers import (
    on_customer_updated,
    on_payment_method_attached,
    on_payment_method_detached,
)
from ecomvideo.services.stripe_invoices import (
    on_invoice_paid,
    on_invoice_payment_failed,
    on_invoice_payment_paid,
)
from ecomvideo.services.stripe_objects import Obj, Park
from ecomvideo.services.stripe_payments import on_charge_refunded, on_payment_intent
from ecomvideo.services.stripe_subscriptions import on_subscription_event

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


def apply_event(session: Session, event: Obj) -> Park | None:
    """Run the event's handler in a savepoint: a ``Park`` undoes its partial work and is
    returned (the caller stores or updates the parked event)."""
    try:
        with session.begin_nested():
            HANDLERS[event["type"]](session, event)
    except Park as park:
        return park
    return None
