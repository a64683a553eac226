"""Billing emails sent while applying Stripe events: a failed renewal, a trial about to end.

Sent at once (the event's transaction), respecting the user's notification settings; a mail
failure is logged and never fails the Stripe event.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.clients.email import (
    EmailMessage,
    frontend_link,
    get_email_client,
    html_page,
    with_time,
)
from ecomvideo.models import NotificationSettings, User, UserSubscription
from ecomvideo.observability import logger


def _wants(session: Session, user_id: uuid.UUID, flag: str) -> bool:
    row = session.scalars(
        select(NotificationSettings).where(NotificationSettings.user_id == user_id)
    ).first()
    if row is None:
        return True  # the defaults of notification_settings are on for billing mail
    return bool(row.email_enabled) and bool(getattr(row, flag))


def _send(user: User, subject: str, lines: list[str], tag: str) -> None:
    """Send a billing email; a mail failure never fails the Stripe event."""
    try:
        link = frontend_link("/billing")
        text = "\n\n".join([*lines, link])
        html = html_page(subject, lines, link, "Open billing")
        get_email_client().send(
            EmailMessage(to=user.email, subject=subject, text=text, html=html, tag=tag)
        )
    except Exception:
        logger.exception("billing email failed", extra={"email_kind": tag})


def notify_payment_failed(session: Session, sub: UserSubscription, invoice: dict) -> None:
    """Tell the user a renewal failed (if their notification settings allow it)."""
    if not _wants(session, sub.user_id, "payment_failed"):
        return
    user = session.get(User, sub.user_id)
    if user is None:
        return
    hello = f"Hi {user.first_name}," if user.first_name else "Hi,"
    _send(
        user,
        "Your EcomVideo AI payment failed",
        [
            hello,
            f"We could not charge your payment method for your {sub.plan.name} plan.",
            "Please update your card to keep your subscription; we will retry automatically.",
        ],
        "payment-failed",
    )


def notify_trial_ending(session: Session, sub: UserSubscription) -> None:
    """Three days before a trial ends (Stripe's trial_will_end)."""
    if not _wants(session, sub.user_id, "subscription_renewal"):
        return
    user = session.get(User, sub.user_id)
    if user is None:
        return
    ends: str = f"Your {sub.plan.name} trial ends soon."
    if sub.trial_ends_at is not None:
        # In the HTML part the date is a <time> that carries the exact instant.
        shown = sub.trial_ends_at.strftime("%B %d, %Y")
        ends = with_time(f"Your {sub.plan.name} trial ends on {{when}}.", sub.trial_ends_at, shown)
    _send(
        user,
        "Your EcomVideo AI trial ends soon",
        [ends, "Your subscription then starts."],
        "trial-ending",
    )
