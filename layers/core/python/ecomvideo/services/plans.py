"""The one answer to "which plan is this user on, and what may they do with it?".

Credits (the yearly plans' monthly grants), generation limits (``videos.prepare``), the
pipeline's per-plan models, rate limits (``http.ratelimit``) and the API (``GET
/v1/me/usage``) all ask ``entitlement`` and nothing else, so they cannot disagree.

Rules, by the user's subscription (at most one Active/Trial/PastDue row per user, enforced by
the database; see docs/decisions.md "Plans"):

* Active, Trial: the subscription's plan; videos may be created. A trial is the plan in full
  (its credits come with Stripe's $0 trial invoice, docs/decisions.md "Trials").
* PastDue: the plan for a grace period of ``billing.past_due_grace_days`` (default 14) from
  the moment the payment failed (``metadata.past_due_since``), while
  ``billing.allow_generation_when_past_due`` is on (default). After the grace period, when the
  setting is off, or once Stripe gave up (``unpaid``): the Free plan's limits and no new
  videos (402) until the payment is made.
* Cancelled: the plan until ``ends_at`` (the paid period's end), then Free.
* Expired, or no subscription: the Free plan.

Monthly credits are granted only to Active and Trial subscriptions (``MONTHLY_CREDIT_STATUSES``):
a past-due period is unpaid.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.enums import ACTIVE_SUBSCRIPTION_STATUSES, SubscriptionStatus
from ecomvideo.errors import ServiceUnavailable
from ecomvideo.models import SubscriptionPlan, UserSubscription
from ecomvideo.services import system_settings

FREE_PLAN = "Free"
DEFAULT_GRACE_DAYS = 14
MONTHLY_CREDIT_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIAL)


class Standing(enum.StrEnum):
    """Why the entitlement is what it is."""

    ACTIVE = "active"
    TRIAL = "trial"
    PAST_DUE_GRACE = "past_due_grace"
    PAST_DUE_LAPSED = "past_due_lapsed"
    CANCELLED_UNTIL_PERIOD_END = "cancelled_until_period_end"
    FREE = "free"


@dataclass(frozen=True)
class Entitlement:
    """The plan whose limits apply now, the subscription it comes from (if any), whether new
    videos may be created, and when the answer changes by time alone (None: not by time)."""

    plan: SubscriptionPlan
    standing: Standing
    subscription: UserSubscription | None = None
    can_generate: bool = True
    changes_at: datetime | None = None

    @property
    def plan_name(self) -> str:
        return self.plan.name


def entitlement(session: Session, user_id: uuid.UUID) -> Entitlement:
    """The user's entitlement now: one query (the settings it reads are cached)."""
    now = clock.utcnow()
    rows = session.execute(
        select(SubscriptionPlan, UserSubscription)
        .outerjoin(
            UserSubscription,
            (UserSubscription.subscription_plan_id == SubscriptionPlan.id)
            & (UserSubscription.user_id == user_id)
            & or_(
                UserSubscription.status.in_(ACTIVE_SUBSCRIPTION_STATUSES),
                (UserSubscription.status == SubscriptionStatus.CANCELLED)
                & (UserSubscription.ends_at > now),
            ),
        )
        .where(or_(UserSubscription.id.is_not(None), SubscriptionPlan.name == FREE_PLAN))
    ).all()
    free = next((plan for plan, _ in rows if plan.name == FREE_PLAN), None)
    held = [(plan, sub) for plan, sub in rows if sub is not None]
    # The active one (at most one per user); else the cancelled one paid up furthest.
    held.sort(key=lambda r: (r[1].status in ACTIVE_SUBSCRIPTION_STATUSES, r[1].ends_at))
    if not held:
        return Entitlement(plan=_required(free), standing=Standing.FREE)
    plan, current = held[-1]
    if current.status is SubscriptionStatus.ACTIVE:
        return Entitlement(plan=plan, standing=Standing.ACTIVE, subscription=current)
    if current.status is SubscriptionStatus.TRIAL:
        return Entitlement(plan=plan, standing=Standing.TRIAL, subscription=current)
    if current.status is SubscriptionStatus.CANCELLED:
        return Entitlement(
            plan=plan,
            standing=Standing.CANCELLED_UNTIL_PERIOD_END,
            subscription=current,
            changes_at=current.ends_at,
        )
    grace_ends = _grace_ends(session, current)
    if grace_ends is not None and now < grace_ends:
        return Entitlement(
            plan=plan,
            standing=Standing.PAST_DUE_GRACE,
            subscription=current,
            changes_at=grace_ends,
        )
    return Entitlement(
        plan=_required(free),
        standing=Standing.PAST_DUE_LAPSED,
        subscription=current,
        can_generate=False,
    )


def watermarks_output(plan: SubscriptionPlan) -> bool:
    """Whether the plan's videos carry the watermark: its ``features`` list a ``Watermark``
    entry (the Free plan's; "No Watermark" is a paid plan's selling point, not the rule), or
    an object/``key=value`` entry ``watermark`` set to true."""
    features = plan.features
    if isinstance(features, dict):
        return str(features.get("watermark", "")).lower() in {"true", "1", "yes"}
    if not isinstance(features, list):
        return False
    for entry in features:
        text = str(entry).strip().lower()
        if text == "watermark":
            return True
        name, sep, value = text.partition("=")
        if sep and name.strip() == "watermark":
            return value.strip() in {"true", "1", "yes"}
    return False


def _grace_ends(session: Session, sub: UserSubscription) -> datetime | None:
    """End of a past-due subscription's grace period (None: no grace)."""
    meta = sub.meta or {}
    if meta.get("stripe_status") == "unpaid":  # Stripe's retries are exhausted
        return None
    if not system_settings.get(session, "billing.allow_generation_when_past_due", True):
        return None
    days = system_settings.get(session, "billing.past_due_grace_days", DEFAULT_GRACE_DAYS)
    since = meta.get("past_due_since") or meta.get("stripe_state_at")
    start = (
        datetime.fromtimestamp(int(since), UTC).replace(tzinfo=None)
        if since
        else sub.updated_at or sub.started_at
    )
    return start + timedelta(days=float(days))


def note_status(meta: dict[str, Any] | None, status: SubscriptionStatus, at: int) -> dict:
    """The subscription metadata after a status change at ``at`` (Unix seconds): the start of
    a past-due spell is kept (the grace period runs from it), any other status clears it."""
    meta = dict(meta or {})
    if status is SubscriptionStatus.PAST_DUE:
        meta.setdefault("past_due_since", at)
    else:
        meta.pop("past_due_since", None)
    return meta


def _required(plan: SubscriptionPlan | None) -> SubscriptionPlan:
    if plan is None:  # pragma: no cover - seeded reference data
        raise ServiceUnavailable("Plans are not configured.")
    return plan
