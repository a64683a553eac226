"""The one answer to "which plan is this user on, and what may they do with it?".

Credits (the yearly plans' monthly grants), generation limits (``videos.prepare``), the
pipeline's per-plan models, rate limits (``http.ratelimit``) and the API (``GET
/v1/me/usage``) all ask ``verdict`` (the decision: plan id and name, standing, ...) or
``entitlement`` (the same with the plan and subscription rows) and nothing else, so they
cannot disagree. ``verdict`` reads the two tables through lightweight table clauses, so the
rate limiter of every API function maps no billing class.

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
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, String, column, or_, select, table
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.enums import ACTIVE_SUBSCRIPTION_STATUSES, SubscriptionStatus
from ecomvideo.errors import ServiceUnavailable
from ecomvideo.services import system_settings

if TYPE_CHECKING:
    from ecomvideo.models import SubscriptionPlan, UserSubscription

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


# The columns the rules read, as lightweight table clauses rather than the mapped classes: the
# rate limiter of every API function asks for a user's plan, and declaring the billing classes
# for it (a subscription's foreign keys also name payment methods) cost each function ~12 ms of
# INIT. tests/unit/test_light_tables.py keeps every column the model's.
PLANS_TABLE = table("subscription_plans", column("id", UUID), column("name", String))
SUBSCRIPTIONS_TABLE = table(
    "user_subscriptions",
    column("id", UUID),
    column("user_id", UUID),
    column("subscription_plan_id", UUID),
    column("status", String),
    column("started_at", DateTime),
    column("ends_at", DateTime),
    column("updated_at", DateTime),
    column("metadata", JSONB),
)


@dataclass(frozen=True)
class Verdict:
    """What the rules decide: the plan whose limits apply now (by id and name), why, the
    subscription it comes from (if any), whether new videos may be created, and when the answer
    changes by time alone (None: not by time)."""

    plan_id: uuid.UUID
    plan_name: str
    standing: Standing
    subscription_id: uuid.UUID | None = None
    can_generate: bool = True
    changes_at: datetime | None = None


@dataclass(frozen=True)
class Entitlement:
    """A verdict with its plan and subscription rows (credits, limits, watermarks read them)."""

    plan: SubscriptionPlan
    standing: Standing
    subscription: UserSubscription | None = None
    can_generate: bool = True
    changes_at: datetime | None = None

    @property
    def plan_name(self) -> str:
        return self.plan.name


@dataclass(frozen=True)
class _Held:
    """A subscription as the rules read it."""

    id: uuid.UUID
    plan_id: uuid.UUID
    plan_name: str
    status: SubscriptionStatus
    started_at: datetime
    ends_at: datetime
    updated_at: datetime | None
    meta: dict[str, Any] | None


def verdict(session: Session, user_id: uuid.UUID) -> Verdict:
    """The user's entitlement now, without loading plan or subscription rows: one query (the
    settings it reads are cached)."""
    now = clock.utcnow()
    plan, sub = PLANS_TABLE.c, SUBSCRIPTIONS_TABLE.c
    rows = session.execute(
        select(
            plan.id,
            plan.name,
            sub.id,
            sub.status,
            sub.started_at,
            sub.ends_at,
            sub.updated_at,
            sub["metadata"],
        )
        .select_from(PLANS_TABLE)
        .outerjoin(
            SUBSCRIPTIONS_TABLE,
            (sub.subscription_plan_id == plan.id)
            & (sub.user_id == user_id)
            & or_(
                sub.status.in_([status.value for status in ACTIVE_SUBSCRIPTION_STATUSES]),
                (sub.status == SubscriptionStatus.CANCELLED.value) & (sub.ends_at > now),
            ),
        )
        .where(or_(sub.id.is_not(None), plan.name == FREE_PLAN))
    ).all()
    free = next(((row[0], row[1]) for row in rows if row[1] == FREE_PLAN), None)
    held = [
        _Held(row[2], row[0], row[1], SubscriptionStatus(row[3]), *row[4:])
        for row in rows
        if row[2] is not None
    ]
    # The active one (at most one per user); else the cancelled one paid up furthest.
    held.sort(key=lambda h: (h.status in ACTIVE_SUBSCRIPTION_STATUSES, h.ends_at))
    if not held:
        return Verdict(*_required(free), standing=Standing.FREE)
    current = held[-1]
    if current.status is SubscriptionStatus.ACTIVE:
        return Verdict(current.plan_id, current.plan_name, Standing.ACTIVE, current.id)
    if current.status is SubscriptionStatus.TRIAL:
        return Verdict(current.plan_id, current.plan_name, Standing.TRIAL, current.id)
    if current.status is SubscriptionStatus.CANCELLED:
        return Verdict(
            current.plan_id,
            current.plan_name,
            Standing.CANCELLED_UNTIL_PERIOD_END,
            current.id,
            changes_at=current.ends_at,
        )
    grace_ends = _grace_ends(session, current)
    if grace_ends is not None and now < grace_ends:
        return Verdict(
            current.plan_id,
            current.plan_name,
            Standing.PAST_DUE_GRACE,
            current.id,
            changes_at=grace_ends,
        )
    return Verdict(*_required(free), Standing.PAST_DUE_LAPSED, current.id, can_generate=False)


def entitlement(session: Session, user_id: uuid.UUID) -> Entitlement:
    """``verdict`` with the plan and subscription rows (from the session's identity map when
    already loaded)."""
    # lazy: the rate limiter of every API function needs only the verdict, not the mapped classes
    from ecomvideo.models import SubscriptionPlan, UserSubscription

    decided = verdict(session, user_id)
    plan = session.get(SubscriptionPlan, decided.plan_id)
    if plan is None:  # pragma: no cover - deleted between the two statements
        raise ServiceUnavailable("Plans are not configured.")
    subscription = (
        session.get(UserSubscription, decided.subscription_id)
        if decided.subscription_id is not None
        else None
    )
    return Entitlement(
        plan=plan,
        standing=decided.standing,
        subscription=subscription,
        can_generate=decided.can_generate,
        changes_at=decided.changes_at,
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


def _grace_ends(session: Session, sub: _Held) -> datetime | None:
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


def _required(free: tuple[uuid.UUID, str] | None) -> tuple[uuid.UUID, str]:
    if free is None:  # pragma: no cover - seeded reference data
        raise ServiceUnavailable("Plans are not configured.")
    return free
