"""Stripe objects as they arrive in webhooks and API answers: fields, ids, timestamps, uuids,
retrieval, and ``Park`` (an event that must wait for an object we do not know yet).

Every handler module (``stripe_subscriptions``, ``stripe_invoices``, ``stripe_payments``,
``stripe_checkout``, ``stripe_customers``) and ``billing`` build on these; this module imports
no other service. Amount conversion lives in ``ecomvideo.clients.stripe_client``
(``from_minor_units`` / ``to_minor_units``).
"""

from __future__ import annotations

import calendar
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ecomvideo import clock
from ecomvideo.clients.stripe_client import get_stripe_client

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Obj = dict[str, Any]

# ``metadata.kind`` on the Checkout Sessions / PaymentIntents / Subscriptions we create.
KIND_CREDIT_PACK = "credit_pack"
KIND_SUBSCRIPTION = "subscription"


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


def unix(moment: datetime) -> int:
    """Naive UTC -> Unix seconds (the inverse of ``ts``)."""
    return int(moment.replace(tzinfo=UTC).timestamp())


def unix_now() -> int:
    """Now as a state version (Unix seconds), for objects retrieved from Stripe."""
    return unix(clock.utcnow())


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, clamping the day (Jan 31 + 1 month = Feb 28/29), like Stripe billing."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def as_uuid(value: Any) -> uuid.UUID | None:
    """A UUID from our metadata (``user_id``, ``plan_id``...), None when absent or malformed."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def by_metadata_id[T](session: Session, model: type[T], value: Any) -> T | None:
    """The ``model`` row whose id our metadata names (None when absent, malformed or unknown)."""
    key = as_uuid(value)
    return session.get(model, key) if key is not None else None


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


def retrieve(resource: str, object_id: str) -> Obj:
    """The current object from Stripe; one Stripe does not have (404) parks the event, any
    other error propagates (a 5xx: Stripe retries the delivery)."""
    import stripe  # lazy: the Stripe SDK is a slow import; only paths calling Stripe load it

    try:
        return getattr(get_stripe_client().v1, resource).retrieve(object_id).to_dict()
    except stripe.InvalidRequestError as exc:
        if exc.code != "resource_missing":
            raise
        missing = f"{resource.rstrip('s')}:{object_id}"
        raise Park(missing, f"{resource} not found in Stripe") from exc
