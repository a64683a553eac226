"""Account-level guards used by several services: the per-user row lock that makes counted
limits exact, and the email-verification policy."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.errors import Forbidden, Unauthorized
from ecomvideo.models import User

VERIFY_FIRST = "Verify your email address first: {what} needs a verified account."


def lock_user(session: Session, user_id: uuid.UUID) -> bool:
    """``SELECT ... FOR NO KEY UPDATE`` on the user's row until the transaction ends; False
    when the row does not exist.

    Count-then-insert limits (at most N of something per user) and balance checks are only
    exact when two requests of the same user cannot count at the same time; NO KEY UPDATE
    leaves the foreign-key checks of other inserts (FOR KEY SHARE) unblocked.
    """
    found = session.scalar(
        select(User.id).where(User.id == user_id).with_for_update(key_share=True)
    )
    return found is not None


def lock_existing_user(session: Session, user_id: uuid.UUID) -> None:
    """``lock_user`` for a request of that user: a missing row is a deleted account (401)."""
    if not lock_user(session, user_id):
        raise Unauthorized("This account no longer exists.")


def require_verified(session: Session, user_id: uuid.UUID, what: str) -> None:
    """Unverified accounts can sign in and look around, but not spend credits, register
    webhooks or share (403 ``email-not-verified``)."""
    verified = session.scalar(select(User.email_verified).where(User.id == user_id))
    if verified is None:
        raise Unauthorized("This account no longer exists.")
    if not verified:
        raise EmailNotVerified(VERIFY_FIRST.format(what=what))


class EmailNotVerified(Forbidden):
    slug = "email-not-verified"
