"""Credits of yearly plans: the plan's monthly credits at the start of every month of the paid
year (the scheduled job; month 0 comes with the paid invoice, see ``stripe_invoices``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.enums import BillingCycle, CreditSource
from ecomvideo.models import CreditMovement, MovementKind, UserSubscription
from ecomvideo.services import credits, plans
from ecomvideo.services.stripe_objects import add_months, ts


def grant_monthly_credits_for_yearly_plans(session: Session, *, limit: int = 1000) -> int:
    """Scheduled (daily): each active yearly subscription gets its plan's monthly credits at
    the start of every month of its paid year (month 0 comes with the invoice). Idempotent per
    (subscription, period, month) through the grant reference. Returns grants made."""
    now = clock.utcnow()
    made = 0
    subs = session.scalars(
        select(UserSubscription)
        .where(
            UserSubscription.billing_cycle == BillingCycle.YEARLY,
            UserSubscription.status.in_(plans.MONTHLY_CREDIT_STATUSES),
            UserSubscription.stripe_subscription_id.is_not(None),
        )
        .order_by(UserSubscription.id)
        .limit(limit)
    ).all()
    for sub in subs:
        meta = sub.meta or {}
        start, end = (
            ts(meta.get("period_start")),
            ts(meta.get("period_end")),
        )
        if start is None or end is None or not sub.plan.video_credits_monthly:
            continue
        month = 0
        while add_months(start, month + 1) <= now:
            month += 1
        begins = add_months(start, month)
        if month == 0 or begins >= end:
            continue
        reference = (
            f"stripe:subscription:{sub.stripe_subscription_id}:{meta['period_start']}:m{month}"
        )
        if session.scalar(
            select(CreditMovement.id).where(
                CreditMovement.kind == MovementKind.GRANT, CreditMovement.reference == reference
            )
        ):
            continue
        credits.grant(
            session,
            sub.user_id,
            sub.plan.video_credits_monthly,
            CreditSource.SUBSCRIPTION,
            reference=reference,
            expires_at=min(add_months(start, month + 1), end),
            user_subscription_id=sub.id,
            metadata={"plan": sub.plan.name, "yearly_month": month},
            created_by="scheduler",
        )
        made += 1
    return made
