"""POST /webhooks/stripe (no authorizer): signed Stripe events -> billing state.

Order of work, cheapest first:
1. the raw body (API Gateway may have base64-encoded it) and the ``Stripe-Signature`` header
   are verified with the SDK (HMAC-SHA256, 300 s tolerance) -> 400 on any failure, nothing
   read from or written to the database;
2. event types we do not handle -> 200 at once, still without the database;
3. only then the ORM is imported and the event is applied in one transaction, its id stored
   so that a redelivery is a no-op (``ecomvideo.services.stripe_events``). An event that
   depends on an object we do not know yet is parked (stored, answered 200, applied when the
   object arrives; docs/webhooks.md).

A processing error (database, Stripe unreachable) answers 500 so that Stripe retries.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

import stripe
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.clients.stripe_client import (
    HANDLED_EVENT_TYPES,
    StripeNotConfigured,
    webhook_secret,
)
from ecomvideo.http.json_limits import Violation, violation
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.webhooks.responses import json_response, problem_response

TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 512 * 1024  # Stripe events are a few KB; refuse to hash megabytes.


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return binascii.a2b_base64(body)
    return body.encode("utf-8")


def verify(event: dict[str, Any]) -> dict[str, Any] | Violation | None:
    """The parsed Stripe event when the signature is valid, else None (or the JSON limit a
    signed body breaks)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    signature = headers.get("stripe-signature")
    if not signature or len(event.get("body") or "") > MAX_BODY_BYTES * 4 // 3 + 4:
        return None
    try:
        payload = _raw_body(event)
        stripe.WebhookSignature.verify_header(
            payload, signature, webhook_secret(), TOLERANCE_SECONDS
        )
        hostile = violation(payload)
        if hostile is not None:
            return hostile
        parsed = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, binascii.Error):
        return None
    if not isinstance(parsed, dict) or not parsed.get("id") or not parsed.get("type"):
        return None
    return parsed


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "POST")
    if method != "POST":
        return problem_response(405, "Method Not Allowed", "Stripe webhooks are POSTed.")
    try:
        stripe_event = verify(event)
    except StripeNotConfigured:
        # A deployment without the Stripe secret: Stripe retries a 503, nothing is lost.
        logger.error("stripe webhook received but no webhook secret is configured")
        return problem_response(
            503, "Not configured", "Stripe webhooks are not configured on this deployment."
        )
    if stripe_event is None:
        metrics.add_metric(name="StripeWebhookRejected", unit=MetricUnit.Count, value=1)
        logger.warning("stripe webhook rejected: bad or missing signature")
        return problem_response(
            400, "Invalid signature", "The Stripe-Signature header did not verify."
        )
    if isinstance(stripe_event, Violation):
        return problem_response(stripe_event.status, stripe_event.title, stripe_event.detail)
    event_type = stripe_event["type"]
    logger.append_keys(stripe_event_id=stripe_event["id"], stripe_event_type=event_type)
    if event_type not in HANDLED_EVENT_TYPES:
        metrics.add_metric(name="StripeEventIgnored", unit=MetricUnit.Count, value=1)
        return json_response(200, {"received": True, "outcome": "ignored"})
    # Imported here, after the signature check: forged requests never pay for the ORM.
    from ecomvideo.services.stripe_events import process_event

    try:
        outcome = process_event(stripe_event)
    except Exception:
        # Stripe retries non-2xx answers with backoff for days: the retry is the recovery.
        logger.exception("stripe event failed; Stripe will retry")
        return problem_response(
            500, "Processing failed", "The event could not be applied; Stripe will retry it."
        )
    metrics.add_metric(name=f"StripeEvent{outcome.title()}", unit=MetricUnit.Count, value=1)
    logger.info("stripe event handled", extra={"outcome": outcome})
    return json_response(200, {"received": True, "outcome": outcome})
