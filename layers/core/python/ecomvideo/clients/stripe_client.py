"""The Stripe SDK client, one per Lambda container, plus money helpers.

Keys: in AWS the secret ``STRIPE_SECRET_ARN`` holds ``{"api_key": ..., "webhook_secret": ...}``
(read through Powertools parameters, cached 5 minutes); locally ``STRIPE_API_KEY`` and
``STRIPE_WEBHOOK_SECRET``. The SDK talks HTTP through ``stripe.HTTPXClient`` so that tests can
intercept every call with respx (``tests/fakes/stripe_fake.py``); nothing here opens a
connection at import time.

This module must stay free of the ORM: the webhook handler imports it before verifying the
signature.
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ecomvideo.settings import get_settings

if TYPE_CHECKING:
    import stripe

# Currencies whose Stripe amounts are whole units (docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
        "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip
# Three-decimal currencies are sent in thousandths (the last digit must be 0 for charges).
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

# Event types the webhook processes (the handlers live in ecomvideo.services.stripe_events).
# Kept here, free of the ORM, so the webhook answers other types at once.
HANDLED_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice_payment.paid",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.refunded",
        "payment_method.attached",
        "payment_method.detached",
        "customer.updated",
    }
)

SECRET_MAX_AGE_SECONDS = 300
HTTP_TIMEOUT_SECONDS = 20
MAX_NETWORK_RETRIES = 2

_client: stripe.StripeClient | None = None
_lock = threading.Lock()


class StripeNotConfigured(RuntimeError):
    """Neither STRIPE_SECRET_ARN nor STRIPE_API_KEY / STRIPE_WEBHOOK_SECRET is set."""


def _exponent(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def from_minor_units(amount: int | None, currency: str) -> Decimal:
    """Stripe's integer amount -> DECIMAL in major units (``1999 usd`` -> ``19.99``,
    ``1999 jpy`` -> ``1999``)."""
    return Decimal(int(amount or 0)).scaleb(-_exponent(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """DECIMAL major units -> Stripe's integer amount (``19.99 usd`` -> ``1999``)."""
    return int((Decimal(amount).scaleb(_exponent(currency))).to_integral_value())


def _secret() -> dict[str, Any]:
    settings = get_settings()
    if not settings.stripe_secret_arn:
        return {}
    from aws_lambda_powertools.utilities.parameters import get_secret

    raw = get_secret(settings.stripe_secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
    return json.loads(raw if isinstance(raw, str) else raw.decode())


def api_key() -> str:
    """The Stripe secret key (secret first, then the local setting)."""
    key = _secret().get("api_key") or get_settings().stripe_api_key
    if not key:
        raise StripeNotConfigured("STRIPE_SECRET_ARN or STRIPE_API_KEY must be set")
    return key


def webhook_secret() -> str:
    """The endpoint's signing secret (``whsec_...``)."""
    secret = _secret().get("webhook_secret") or get_settings().stripe_webhook_secret
    if not secret:
        raise StripeNotConfigured("STRIPE_SECRET_ARN or STRIPE_WEBHOOK_SECRET must be set")
    return secret


def build_client(key: str | None = None, *, http_client: Any | None = None) -> stripe.StripeClient:
    """A StripeClient over httpx (sync). Pass ``http_client`` to inject another transport."""
    import stripe

    return stripe.StripeClient(
        key or api_key(),
        http_client=http_client
        or stripe.HTTPXClient(timeout=HTTP_TIMEOUT_SECONDS, allow_sync_methods=True),
        max_network_retries=MAX_NETWORK_RETRIES,
    )


def get_stripe_client() -> stripe.StripeClient:
    """The container's client, created on first use."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = build_client()
    return _client


def set_stripe_client(client: stripe.StripeClient | None) -> None:
    """Swap the client (tests) or forget it so the next call builds a new one."""
    global _client
    _client = client
