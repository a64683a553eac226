"""Request limits of the public account endpoints and the wrong-password throttle.

Wrong passwords (login and change-password) are throttled per (account, client IP) with
backoff through longer windows, and per client IP across accounts: an attacker elsewhere
cannot lock the owner out. Only ``ACCOUNT_LOCK_THRESHOLD`` failures in a row from anywhere
lock the account itself, for ``ACCOUNT_LOCK_DURATION``, and mail the owner a one-click unlock
link. Counters store hashed subjects (``rate_limit.subject_key``), never an address or an IP.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.errors import TooManyRequests
from ecomvideo.models import User
from ecomvideo.observability import logger
from ecomvideo.services import activity, auth_mail, rate_limit
from ecomvideo.services.activity import Action, RequestMeta

ACCOUNT_IP_THROTTLES = ((5, 900), (10, 3600), (20, 86400))  # (failures, window seconds)
IP_THROTTLES = ((30, 900), (200, 86400))
ACCOUNT_LOCK_THRESHOLD = 50
ACCOUNT_LOCK_DURATION = timedelta(hours=1)

# (limit, window seconds) for the enumeration-safe endpoints and registration.
EMAIL_LIMIT = (3, 3600)
IP_LIMIT = (20, 3600)
REGISTER_IP_LIMIT = (20, 3600)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def limit_request(session: Session, scope: str, request: RequestMeta, email: str | None) -> None:
    """429 past the per-IP limit of ``scope`` and, with ``email``, past the per-address one
    (the same for known and unknown addresses)."""
    if request.ip:
        limit, window = IP_LIMIT if email is not None else REGISTER_IP_LIMIT
        rate_limit.enforce(
            session,
            rate_limit.subject_key(scope, "ip", request.ip),
            limit=limit,
            window_seconds=window,
            policy=f"{scope}-per-ip",
        )
    if email is not None:
        limit, window = EMAIL_LIMIT
        rate_limit.enforce(
            session,
            rate_limit.subject_key(scope, "email", email),
            limit=limit,
            window_seconds=window,
            policy=f"{scope}-per-email",
        )


def _failure_counters(email: str, ip: str | None) -> list[tuple[str, int, int]]:
    """(counter key, limit, window) of every throttle a wrong password from ``ip`` feeds."""
    client = ip or "unknown"
    pair = f"{normalise_email(email)}|{client}"
    return [
        (rate_limit.subject_key(f"login-fail-{window}", "account-ip", pair), limit, window)
        for limit, window in ACCOUNT_IP_THROTTLES
    ] + [
        (rate_limit.subject_key(f"login-fail-{window}", "ip", client), limit, window)
        for limit, window in IP_THROTTLES
    ]


def throttled(session: Session, email: str, request: RequestMeta) -> Exception | None:
    """A 429 (with Retry-After) when this account and client IP, or this IP, failed too often
    recently; the same for existing and unknown emails."""
    waits = []
    for key, limit, window in _failure_counters(email, request.ip):
        count, reset_at = rate_limit.current(session, key, window_seconds=window)
        if count >= limit:
            waits.append(reset_at)
    if not waits:
        return None
    retry = max(1, int((max(waits) - clock.utcnow()).total_seconds() + 0.999))
    return TooManyRequests("Too many failed attempts; try again later.", retry_after=retry)


def count_failure(session: Session, email: str, user: User | None, request: RequestMeta) -> None:
    """Record a wrong password: the throttle counters, and the account-wide streak, which locks
    the account at ``ACCOUNT_LOCK_THRESHOLD`` and queues the owner's unlock mail."""
    for key, limit, window in _failure_counters(email, request.ip):
        rate_limit.hit(session, key, limit=limit, window_seconds=window)
    if user is None:
        return
    user.failed_login_attempts = (user.failed_login_attempts or 0) + 1
    activity.record(session, user.id, Action.LOGIN_FAILED, request=request)
    if user.failed_login_attempts < ACCOUNT_LOCK_THRESHOLD:
        return
    user.locked_until = clock.utcnow() + ACCOUNT_LOCK_DURATION
    user.failed_login_attempts = 0
    activity.record(session, user.id, Action.ACCOUNT_LOCKED, request=request)
    logger.warning("account locked after failed logins", extra={"user_id": str(user.id)})
    session.flush()  # the mail job reads locked_until when it runs
    auth_mail.queue(session, auth_mail.MailKind.LOCKED, user_id=user.id)
