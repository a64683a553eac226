"""The account mails (verify, reset, unlock, "you already have an account"), sent from the
job queue, and the single-use link tokens they carry.

Request paths only ``queue`` a job (one insert, in their transaction, whether or not an
account exists for the address), so neither their answer nor their timing says whether the
address is known: the ``auth.email`` job looks the account up, creates the link token and
sends the mail (``jobs_worker``, every minute; a failure rolls the token back and retries).
No clear secret is ever stored: the job creates the token when it sends.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients.email import (
    EmailMessage,
    account_locked_email,
    already_registered_email,
    get_email_client,
    password_reset_email,
    verification_email,
)
from ecomvideo.models import EmailVerificationToken, PasswordResetToken, User
from ecomvideo.security import jwt, tokens
from ecomvideo.services import activity, jobs
from ecomvideo.services.activity import Action, RequestMeta

JOB_TYPE = "auth.email"
PRIORITY = 10  # before notifications (5) and outbound webhooks: someone is waiting for it
VERIFICATION_TOKEN_TTL = timedelta(hours=24)
RESET_TOKEN_TTL = timedelta(hours=1)
UNLOCK_PURPOSE = "unlock"


class MailKind(StrEnum):
    VERIFY = "verify"  # a verification link (registration, resend-verification)
    RESET = "reset"  # a reset link (forgot-password)
    ALREADY_REGISTERED = "already-registered"  # someone registered with the owner's address
    LOCKED = "locked"  # the account was locked: a one-click unlock link


def queue(
    session: Session,
    kind: MailKind,
    *,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
    request: RequestMeta | None = None,
    once_per_hour: bool = False,
) -> None:
    """Enqueue an account mail for the user ``user_id`` or the (normalised) address ``email``
    in the caller's transaction; the job decides whether there is anyone to mail. With
    ``once_per_hour`` a second mail of the same kind to the same recipient within the clock
    hour is not queued (nobody can flood an owner's inbox through our form)."""
    data: dict[str, Any] = {"kind": kind.value}
    if user_id is not None:
        data["user_id"] = str(user_id)
    if email is not None:
        data["email"] = email
    if request is not None:
        data["request"] = {"ip": request.ip, "user_agent": request.user_agent}
    dedupe = None
    if once_per_hour:
        recipient = str(user_id) if user_id is not None else str(email)
        dedupe = f"{kind.value}:{recipient}:{clock.utcnow():%Y%m%d%H}"
    jobs.enqueue(session, JOB_TYPE, data, priority=PRIORITY, max_attempts=5, dedupe_key=dedupe)


# ------------------------------------------------------------------------------ link tokens


def new_link_token(
    session: Session,
    model: type[EmailVerificationToken | PasswordResetToken],
    user: User,
    ttl: timedelta,
) -> str:
    """A new single-use secret for ``user``; only its SHA-256 is stored."""
    secret = tokens.new_token()
    session.add(
        model(
            id=uuid.uuid4(),
            user_id=user.id,
            token=tokens.hash_token(secret),
            expires_at=clock.utcnow() + ttl,
        )
    )
    return secret


def consume_link_token[Token: (EmailVerificationToken, PasswordResetToken)](
    session: Session, model: type[Token], secret: str
) -> Token | None:
    """The token row if it is unused and unexpired (locked, then marked used), else None.

    Generic over the two single-use token tables (same columns): returns the caller's model."""
    row = session.scalars(
        select(model).where(model.token == tokens.hash_token(secret)).with_for_update()
    ).first()
    now = clock.utcnow()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    return row


def unlock_token(user: User) -> str:
    """A signed link that lifts *this* lock (it names ``locked_until``): once used, or once a
    new lock replaced it, the claim no longer matches, so the link works once."""
    assert user.locked_until is not None
    ttl = max(timedelta(seconds=1), user.locked_until - clock.utcnow())
    return jwt.issue_purpose_token(
        str(user.id), UNLOCK_PURPOSE, ttl, lock=user.locked_until.isoformat()
    )


def read_unlock_token(token: str) -> tuple[uuid.UUID, datetime] | None:
    """(user id, locked_until) named by a valid unlock token, else None."""
    try:
        claims = jwt.verify_purpose_token(token, UNLOCK_PURPOSE)
        return uuid.UUID(str(claims["sub"])), datetime.fromisoformat(str(claims["lock"]))
    except (jwt.InvalidToken, KeyError, ValueError):
        return None


# ------------------------------------------------------------------------------ the job


def _recipient(session: Session, data: dict[str, Any]) -> User | None:
    if data.get("user_id"):
        return session.get(User, uuid.UUID(data["user_id"]))
    email = data.get("email")
    if not email:
        return None
    return session.scalars(select(User).where(User.email == email)).first()


def compose(
    session: Session, kind: MailKind, user: User, request: RequestMeta
) -> EmailMessage | None:
    """The mail ``kind`` for ``user`` (creating its link token), or None when the account
    no longer calls for it (deactivated, already verified, no longer locked)."""
    if not user.is_active:
        return None
    if kind is MailKind.VERIFY:
        if user.email_verified:
            return None
        secret = new_link_token(session, EmailVerificationToken, user, VERIFICATION_TOKEN_TTL)
        return verification_email(user.email, user.first_name, secret)
    if kind is MailKind.RESET:
        secret = new_link_token(session, PasswordResetToken, user, RESET_TOKEN_TTL)
        activity.record(session, user.id, Action.PASSWORD_RESET_REQUESTED, request=request)
        return password_reset_email(user.email, user.first_name, secret)
    if kind is MailKind.ALREADY_REGISTERED:
        return already_registered_email(user.email, user.first_name)
    if user.locked_until is None or user.locked_until <= clock.utcnow():
        return None
    return account_locked_email(user.email, user.first_name, unlock_token(user))


@jobs.handler(JOB_TYPE)
def send_account_email(session: Session, data: dict[str, Any]) -> None:
    """Job handler: mail the account named by the job, if there is one and it still applies."""
    user = _recipient(session, data)
    if user is None:
        return  # unknown address or deleted account: nothing to send, same answer was given
    caller = data.get("request") or {}
    request = RequestMeta(ip=caller.get("ip"), user_agent=caller.get("user_agent"))
    message = compose(session, MailKind(data["kind"]), user, request)
    if message is not None:
        get_email_client().send(message)
