"""Outbound customer webhooks: endpoints, signed deliveries, retries, delivery log, ping.

* Users register endpoints (URL + events). The URL must be http(s) on a standard port and
  resolve to public addresses only (the scraper's SSRF address policy); it is checked when the
  endpoint is saved and again, with a fresh DNS answer, at every delivery.
* ``emit(session, user_id, event_type, data)`` is called by business code in its transaction:
  it enqueues one ``webhook.deliver`` background job per subscribed endpoint (outbox), so an
  event is delivered only if the change that caused it committed.
* A delivery POSTs the JSON event signed per Standard Webhooks (``webhook-id``,
  ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``; ``whsec_`` secrets;
  during a rotation both secrets sign), so receivers verify with any Standard Webhooks library
  (docs/webhooks.md). Any 2xx is success; anything else (including redirects, which are never
  followed) is a failure retried by the job queue with exponential backoff. Every attempt is
  logged in ``webhook_deliveries`` with its status code.
* The connection goes to the IP address that passed the policy (the ``Host`` header and TLS SNI
  carry the hostname), so DNS rebinding between check and connect is impossible.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import rowcount
from ecomvideo.errors import NotFound, ValidationFailed, field_error
from ecomvideo.keyset import apply_keyset, decode_cursor, page
from ecomvideo.models import User, WebhookDelivery, WebhookEndpoint
from ecomvideo.observability import logger
from ecomvideo.scraping.addresses import (
    PUBLIC_ONLY,
    AddressPolicy,
    Resolver,
    resolve_checked,
    system_resolver,
)
from ecomvideo.scraping.errors import FetchError
from ecomvideo.services import jobs, system_settings
from ecomvideo.services.account_guards import lock_existing_user, require_verified
from ecomvideo.webhooks.signature import standard_webhook_headers

JOB_TYPE = "webhook.deliver"
EVENT_TYPES = ("video.completed", "video.failed", "credits.low")
PING_EVENT = "ping"
# A rotated-out secret still signs (a second webhook-signature entry) for this long.
ROTATION_GRACE = timedelta(hours=24)
MAX_ENDPOINTS_PER_USER = 10
MAX_ATTEMPTS = 6  # 1 try + 5 retries: 30 s, 1 min, 2 min, 4 min, 8 min
USER_AGENT = "EcomVideo-Webhooks/1.0"
# After this many consecutive failed deliveries the endpoint is switched off.
DISABLE_AFTER_FAILURES = 50


@dataclass(frozen=True)
class DeliveryPolicy:
    """Where deliveries may go. Production: public addresses, ports 443/80, 10 s total."""

    address_policy: AddressPolicy = PUBLIC_ONLY
    resolver: Resolver = system_resolver
    allowed_ports: frozenset[int] | None = frozenset({80, 443})  # None: any port (tests only)
    connect_timeout: float = 3.0
    total_timeout: float = 10.0
    max_response_bytes: int = 16 * 1024
    transport: httpx.BaseTransport | None = field(default=None, compare=False)


_policy = DeliveryPolicy()


@contextmanager
def use_policy(policy: DeliveryPolicy) -> Iterator[DeliveryPolicy]:
    """Temporarily deliver under another policy (tests reaching a 127.0.0.1 server)."""
    global _policy
    previous, _policy = _policy, policy
    try:
        yield policy
    finally:
        _policy = previous


# ---------------------------------------------------------------------------- signing


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def active_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """The current secret, plus the previous one until its rotation grace period ends."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > (now or clock.utcnow()):
        found.append(endpoint.previous_secret)
    return found


def signed_headers(
    secrets_: list[str], event_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """``webhook-id`` (the event id: the same on every retry), ``webhook-timestamp`` and
    ``webhook-signature`` (one ``v1,`` entry per active secret), per Standard Webhooks."""
    return standard_webhook_headers(body, secrets_, event_id, timestamp)


def rotate_secret(
    session: Session, user_id: uuid.UUID, endpoint_id: uuid.UUID
) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned once); the old one keeps signing too for ``ROTATION_GRACE`` so
    receivers can switch without losing deliveries. Rotating again ends the old grace."""
    endpoint = get_endpoint(session, user_id, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = clock.utcnow() + ROTATION_GRACE
    endpoint.secret = new_secret()
    session.flush()
    return endpoint, endpoint.secret


# ---------------------------------------------------------------------------- endpoints


def _check_url(url: str, policy: DeliveryPolicy) -> tuple[str, str, int, str]:
    """(scheme, host, port, path+query) of an acceptable URL, else ValidationFailed."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise _invalid_url("The URL is not valid.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _invalid_url("Only http:// and https:// URLs can receive webhooks.")
    if parts.username or parts.password:
        raise _invalid_url("URLs with a user name or password are not accepted.")
    host = (parts.hostname or "").lower()
    if not host:
        raise _invalid_url("The URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        raise _invalid_url("Webhook URLs must use port 443 (https) or 80 (http).")
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return scheme, host, port, path


def _invalid_url(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[field_error("/url", message)])


def check_destination(url: str, policy: DeliveryPolicy | None = None) -> None:
    """Refuse URLs that are malformed or resolve to private/reserved addresses (SSRF guard)."""
    policy = policy or _policy
    _scheme, host, port, _path = _check_url(url, policy)
    try:
        resolve_checked(host, port, policy=policy.address_policy, resolver=policy.resolver)
    except FetchError as exc:
        raise _invalid_url(
            "The URL points to a private or reserved network address, or its host name "
            "cannot be resolved."
        ) from exc


def _validate_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        message = f"Events must be a non-empty subset of {', '.join(EVENT_TYPES)}."
        raise ValidationFailed(message, errors=[field_error("/events", message)])
    return sorted(set(events))


def create_endpoint(
    session: Session,
    user_id: uuid.UUID,
    *,
    url: str,
    events: list[str],
    description: str | None = None,
    policy: DeliveryPolicy | None = None,
) -> WebhookEndpoint:
    """Register an endpoint; the returned object carries the secret (shown once)."""
    lock_existing_user(session, user_id)  # concurrent creates of one user count in turn
    require_verified(session, user_id, "registering a webhook")
    check_destination(url, policy)
    count = session.scalar(
        select(WebhookEndpoint.id)
        .where(WebhookEndpoint.user_id == user_id)
        .offset(MAX_ENDPOINTS_PER_USER - 1)
    )
    if count is not None:
        raise ValidationFailed(f"At most {MAX_ENDPOINTS_PER_USER} webhook endpoints per account.")
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        user_id=user_id,
        url=url.strip(),
        description=description,
        events=_validate_events(events),
        secret=new_secret(),
        is_active=True,
        failure_count=0,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def list_endpoints(session: Session, user_id: uuid.UUID) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.user_id == user_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


def get_endpoint(session: Session, user_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The caller's endpoint; someone else's is reported as missing (no existence leak)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.user_id != user_id:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def delete_endpoint(session: Session, user_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    session.delete(get_endpoint(session, user_id, endpoint_id))
    session.flush()


def list_deliveries(
    session: Session,
    user_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    *,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[WebhookDelivery], str | None]:
    """The endpoint's delivery attempts, newest first, one page (and the next cursor)."""
    get_endpoint(session, user_id, endpoint_id)
    stmt = apply_keyset(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id),
        WebhookDelivery.created_at,
        WebhookDelivery.id,
        decode_cursor(cursor),
    )
    return page(list(session.scalars(stmt.limit(limit + 1))), limit)


# ---------------------------------------------------------------------------- events


def build_event(
    event_type: str, data: dict[str, Any], *, event_id: uuid.UUID | None = None
) -> dict[str, Any]:
    return {
        "id": str(event_id or uuid.uuid4()),
        "type": event_type,
        "created_at": clock.rfc3339(clock.utcnow()),
        "data": data,
    }


def emit(session: Session, user_id: uuid.UUID, event_type: str, data: dict[str, Any]) -> int:
    """Enqueue ``event_type`` for every active endpoint of the user subscribed to it.

    Runs in the caller's transaction. Returns the number of deliveries queued.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoints = session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.user_id == user_id,
            WebhookEndpoint.is_active.is_(True),
            WebhookEndpoint.events.contains([event_type]),
        )
    ).all()
    event = build_event(event_type, data)
    for endpoint in endpoints:
        jobs.enqueue(
            session,
            JOB_TYPE,
            {"endpoint_id": str(endpoint.id), "event": event},
            priority=3,
            max_attempts=MAX_ATTEMPTS,
        )
    return len(endpoints)


def emit_credits_low(
    session: Session, user_id: uuid.UUID, balance: int, *, threshold: int | None = None
) -> int:
    """Emit ``credits.low`` when ``balance`` is at or below the threshold (default 5)."""
    limit = threshold
    if limit is None:
        limit = int(system_settings.get(session, "webhooks.credits_low_threshold", 5))
    if balance > limit:
        return 0
    return emit(session, user_id, "credits.low", {"balance": balance, "threshold": limit})


# ---------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DeliveryResult:
    success: bool
    status_code: int | None
    error: str | None
    duration_ms: int


def post_signed(
    url: str, secrets_: list[str], event: dict[str, Any], policy: DeliveryPolicy
) -> DeliveryResult:
    """POST ``event`` to ``url`` under ``policy``; never raises (the result says what happened)."""
    started = time.monotonic()
    body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()

    def result(success: bool, status: int | None, error: str | None) -> DeliveryResult:
        return DeliveryResult(success, status, error, int((time.monotonic() - started) * 1000))

    try:
        scheme, host, port, path = _check_url(url, policy)
        ip = resolve_checked(host, port, policy=policy.address_policy, resolver=policy.resolver)
    except ValidationFailed as exc:
        return result(False, None, f"blocked: {exc.detail}"[:500])
    except FetchError as exc:
        return result(False, None, f"blocked: {exc.message}"[:500])
    ip_text = f"[{ip}]" if ip.version == 6 else str(ip)
    default_port = 443 if scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    timestamp = int(time.time())
    headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(secrets_, str(event.get("id")), timestamp, body),
        "EcomVideo-Event-Type": str(event.get("type")),
    }
    timeout = httpx.Timeout(policy.total_timeout, connect=policy.connect_timeout)
    try:
        with httpx.Client(
            follow_redirects=False, trust_env=False, timeout=timeout, transport=policy.transport
        ) as client:
            request = client.build_request(
                "POST",
                f"{scheme}://{ip_text}:{port}{path}",
                content=body,
                headers=headers,
                extensions={"sni_hostname": host},
            )
            response = client.send(request, stream=True)
            try:
                # Read a little of the body (receivers may stream forever); we keep none of it.
                received = 0
                for chunk in response.iter_raw(4096):
                    received += len(chunk)
                    if received >= policy.max_response_bytes:
                        break
                status = response.status_code
            finally:
                response.close()
    except httpx.TimeoutException:
        return result(False, None, "timeout")
    except httpx.HTTPError as exc:
        return result(False, None, f"connection failed: {type(exc).__name__}")
    if 200 <= status < 300:
        return result(True, status, None)
    return result(False, status, f"HTTP {status}")


def _log(
    session: Session,
    endpoint: WebhookEndpoint,
    event: dict[str, Any],
    attempt: int,
    outcome: DeliveryResult,
) -> WebhookDelivery:
    row = WebhookDelivery(
        id=uuid.uuid4(),
        endpoint_id=endpoint.id,
        event_id=uuid.UUID(str(event["id"])),
        event_type=str(event["type"]),
        attempt=attempt,
        success=outcome.success,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        payload=event,
        created_at=clock.utcnow(),
    )
    session.add(row)
    endpoint.last_delivery_at = row.created_at
    endpoint.last_status_code = outcome.status_code
    if outcome.success:
        endpoint.failure_count = 0
    else:
        endpoint.failure_count = (endpoint.failure_count or 0) + 1
        if endpoint.failure_count >= DISABLE_AFTER_FAILURES:
            endpoint.is_active = False
            logger.warning("webhook endpoint disabled", extra={"endpoint_id": str(endpoint.id)})
    session.flush()
    return row


@jobs.handler(JOB_TYPE)
def deliver_job(session: Session, data: dict[str, Any]) -> None:
    """Job handler: one delivery attempt; a failure is logged and retried with backoff."""
    endpoint = session.get(WebhookEndpoint, uuid.UUID(data["endpoint_id"]))
    if endpoint is None or not endpoint.is_active:
        return  # deleted or disabled since the event: nothing to deliver
    event = data["event"]
    previous = session.scalars(
        select(WebhookDelivery.attempt)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.event_id == uuid.UUID(str(event["id"])),
        )
        .order_by(WebhookDelivery.attempt.desc())
        .limit(1)
    ).first()
    attempt = (previous or 0) + 1
    outcome = post_signed(endpoint.url, active_secrets(endpoint), event, _policy)
    _log(session, endpoint, event, attempt, outcome)
    if not outcome.success:
        # Keep the log row (and the failure count) and let the queue retry with backoff.
        raise jobs.RetryJob(outcome.error or "delivery failed")


def ping(
    session: Session, user_id: uuid.UUID, endpoint_id: uuid.UUID
) -> tuple[WebhookDelivery, dict[str, Any]]:
    """Send a signed ``ping`` event now (one attempt, no retry) and log it."""
    endpoint = get_endpoint(session, user_id, endpoint_id)
    user = session.get(User, user_id)
    event = build_event(
        PING_EVENT, {"endpoint_id": str(endpoint.id), "account": user.email if user else None}
    )
    outcome = post_signed(endpoint.url, active_secrets(endpoint), event, _policy)
    return _log(session, endpoint, event, 1, outcome), event


def purge_deliveries(session: Session, cutoff: datetime, *, batch_size: int = 5000) -> int:
    """Delete delivery log rows older than ``cutoff`` (one batch)."""
    result = session.execute(
        text(
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries "
            "WHERE created_at < :cutoff LIMIT :n)"
        ),
        {"cutoff": cutoff, "n": batch_size},
    )
    return rowcount(result)
