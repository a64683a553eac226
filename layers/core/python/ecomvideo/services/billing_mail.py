"""Billing emails caused by Stripe events: a failed renewal, a trial about to end.

Queued as a ``billing.email`` job in the event's transaction (whichever function applies the
event: the Stripe webhook, a re-applied parked event in the cleanup or admin function) and sent
by the jobs worker, the only function allowed to use SES. The user's notification settings are
checked when queuing and again when sending; a failed send is retried by the queue and never
fails the Stripe event.
"""

from __future__ import annotations

import uuid
from typing import Any

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
from ecomvideo.services import jobs

JOB_TYPE = "billing.email"
# The notification_settings flag each kind of mail obeys.
_FLAGS = {"payment_failed": "payment_failed", "trial_ending": "subscription_renewal"}


def _wants(session: Session, user_id: uuid.UUID, flag: str) -> bool:
    row = session.scalars(
        select(NotificationSettings).where(NotificationSettings.user_id == user_id)
    ).first()
    if row is None:
        return True  # the defaults of notification_settings are on for billing mail
    return bool(row.email_enabled) and bool(getattr(row, flag))


def _queue(session: Session, sub: UserSubscription, kind: str, **extra: str) -> None:
    if _wants(session, sub.user_id, _FLAGS[kind]):
        data = {"kind": kind, "subscription_id": str(sub.id), **extra}
        jobs.enqueue(session, JOB_TYPE, data, priority=5)


def notify_payment_failed(session: Session, sub: UserSubscription, invoice: dict) -> None:
    """Tell the user a renewal failed (if their notification settings allow it)."""
    _queue(session, sub, "payment_failed", invoice_id=str(invoice.get("id") or ""))


def notify_trial_ending(session: Session, sub: UserSubscription) -> None:
    """Three days before a trial ends (Stripe's trial_will_end)."""
    _queue(session, sub, "trial_ending")


def compose(kind: str, user: User, sub: UserSubscription) -> EmailMessage:
    """The billing mail ``kind`` for ``user``'s subscription ``sub``."""
    if kind == "payment_failed":
        hello = f"Hi {user.first_name}," if user.first_name else "Hi,"
        subject = "Your EcomVideo AI payment failed"
        lines: list[str] = [
            hello,
            f"We could not charge your payment method for your {sub.plan.name} plan.",
            "Please update your card to keep your subscription; we will retry automatically.",
        ]
        tag = "payment-failed"
    else:
        ends: str = f"Your {sub.plan.name} trial ends soon."
        if sub.trial_ends_at is not None:
            # In the HTML part the date is a <time> that carries the exact instant.
            shown = sub.trial_ends_at.strftime("%B %d, %Y")
            when = f"Your {sub.plan.name} trial ends on {{when}}."
            ends = with_time(when, sub.trial_ends_at, shown)
        subject = "Your EcomVideo AI trial ends soon"
        lines = [ends, "Your subscription then starts."]
        tag = "trial-ending"
    link = frontend_link("/billing")
    text = "\n\n".join([*lines, link])
    html = html_page(subject, lines, link, "Open billing")
    return EmailMessage(to=user.email, subject=subject, text=text, html=html, tag=tag)


@jobs.handler(JOB_TYPE)
def send_billing_email(session: Session, data: dict[str, Any]) -> None:
    """Job handler: send the mail if the account and its wish for it still exist."""
    kind = str(data["kind"])
    sub = session.get(UserSubscription, uuid.UUID(data["subscription_id"]))
    if sub is None or kind not in _FLAGS or not _wants(session, sub.user_id, _FLAGS[kind]):
        return
    user = session.get(User, sub.user_id)
    if user is not None:
        get_email_client().send(compose(kind, user, sub))
