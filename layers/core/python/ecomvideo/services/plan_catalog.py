"""The plans and credit packs on sale: the public lists and the admin's plan management.

Selling a new or changed plan in Stripe is the Stripe sync's job (``stripe_sync``); which plan
a user is on is ``plans``'.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.errors import Conflict, NotFound
from ecomvideo.models import SubscriptionPlan
from ecomvideo.models.stripe import CreditPack, StripePrice
from ecomvideo.services.stripe_objects import as_uuid

PLAN_FIELDS = (
    "name", "description", "price_monthly", "price_yearly", "currency", "video_credits_monthly",
    "max_video_duration", "max_resolution", "ai_providers", "features", "is_popular",
    "is_active", "trial_days", "sort_order",
)  # fmt: skip


def list_plans(session: Session, *, include_inactive: bool = False) -> list[SubscriptionPlan]:
    """Plans in display order (active only unless asked)."""
    stmt = select(SubscriptionPlan).order_by(SubscriptionPlan.sort_order, SubscriptionPlan.name)
    if not include_inactive:
        stmt = stmt.where(SubscriptionPlan.is_active.is_(True))
    return list(session.scalars(stmt))


def get_plan(session: Session, ref: str | uuid.UUID) -> SubscriptionPlan:
    """A plan by id or by (case-insensitive) name."""
    plan = None
    if isinstance(ref, uuid.UUID) or as_uuid(ref) is not None:
        plan = session.get(SubscriptionPlan, as_uuid(ref))
    if plan is None:
        plan = session.scalars(
            select(SubscriptionPlan).where(SubscriptionPlan.name.ilike(str(ref)))
        ).first()
    if plan is None:
        raise NotFound("No such plan.")
    return plan


def create_plan(session: Session, data: dict[str, Any], *, actor: str) -> SubscriptionPlan:
    """Admin: add a plan (names are unique). Run the Stripe sync to sell it."""
    if session.scalar(select(SubscriptionPlan.id).where(SubscriptionPlan.name == data["name"])):
        raise Conflict("A plan with this name exists.")
    plan = SubscriptionPlan(**{k: v for k, v in data.items() if k in PLAN_FIELDS})
    plan.created_by = actor
    session.add(plan)
    session.flush()
    return plan


def update_plan(
    session: Session, plan_id: uuid.UUID, changes: dict[str, Any], *, actor: str
) -> SubscriptionPlan:
    """Admin: change some fields. Price changes take effect in Stripe after the sync."""
    plan = session.get(SubscriptionPlan, plan_id, with_for_update=True)
    if plan is None:
        raise NotFound("No such plan.")
    if (
        "name" in changes
        and changes["name"] != plan.name
        and session.scalar(
            select(SubscriptionPlan.id).where(SubscriptionPlan.name == changes["name"])
        )
    ):
        raise Conflict("A plan with this name exists.")
    for key, value in changes.items():
        if key in PLAN_FIELDS:
            setattr(plan, key, value)
    plan.updated_by = actor
    session.flush()
    return plan


def deactivate_plan(session: Session, plan_id: uuid.UUID, *, actor: str) -> None:
    """Admin 'delete': plans are referenced by subscriptions, so they are retired, not removed."""
    update_plan(session, plan_id, {"is_active": False}, actor=actor)
    for price in session.scalars(
        select(StripePrice).where(StripePrice.subscription_plan_id == plan_id)
    ):
        price.is_active = False


def list_credit_packs(session: Session) -> list[CreditPack]:
    return list(
        session.scalars(
            select(CreditPack)
            .where(CreditPack.is_active.is_(True))
            .order_by(CreditPack.sort_order, CreditPack.credits)
        )
    )
