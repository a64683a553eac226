"""Small builders for rows the tests need (flushed, inside the caller's session)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.enums import (
    BillingCycle,
    CreditSource,
    CreditType,
    SubscriptionStatus,
    VideoInputType,
    VideoStatus,
)
from ecomvideo.models import (
    SubscriptionPlan,
    UsageCredit,
    User,
    UserSubscription,
    Video,
    utcnow,
)


def make_user(session: Session, **overrides: Any) -> User:
    data: dict[str, Any] = {
        "email": f"user-{uuid.uuid4().hex[:10]}@example.com",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$placeholder",
        "first_name": "Test",
        "email_verified": True,  # the usual case; the verification policy tests say False
    }
    data.update(overrides)
    user = User(**data)
    session.add(user)
    session.flush()
    return user


def make_video(session: Session, user: User, **overrides: Any) -> Video:
    data: dict[str, Any] = {
        "user_id": user.id,
        "title": "Summer sneakers",
        "text_prompt": "Bright sneakers on a beach",
        "input_type": VideoInputType.TEXT,
        "status": VideoStatus.PENDING,
        "resolution": "1080x1920",
        "aspect_ratio": "9:16",
    }
    data.update(overrides)
    video = Video(**data)
    session.add(video)
    session.flush()
    return video


def plan_named(session: Session, name: str) -> SubscriptionPlan:
    return session.scalars(select(SubscriptionPlan).where(SubscriptionPlan.name == name)).one()


def make_subscription(
    session: Session, user: User, status: SubscriptionStatus = SubscriptionStatus.ACTIVE, **kw: Any
) -> UserSubscription:
    now = utcnow()
    data: dict[str, Any] = {
        "user_id": user.id,
        "subscription_plan_id": plan_named(session, "Starter").id,
        "status": status,
        "billing_cycle": BillingCycle.MONTHLY,
        "price_paid": Decimal("19.00"),
        "started_at": now,
        "ends_at": now + timedelta(days=30),
    }
    data.update(kw)
    sub = UserSubscription(**data)
    session.add(sub)
    session.flush()
    return sub


def make_grant(session: Session, user: User, amount: int, **kw: Any) -> UsageCredit:
    data: dict[str, Any] = {
        "user_id": user.id,
        "credit_type": CreditType.VIDEO_GENERATION,
        "amount": amount,
        "source": CreditSource.BONUS,
    }
    data.update(kw)
    grant = UsageCredit(**data)
    session.add(grant)
    session.flush()
    return grant


def assign_roles(user_id: uuid.UUID, roles: tuple[str, ...] | list[str]) -> None:
    """Give the user these roles in ``user_roles`` (the authorizer reads roles from there), in
    the service transaction (the test's bound connection, or a real commit on the stack)."""
    from sqlalchemy.dialects.postgresql import insert

    from ecomvideo.db import transaction
    from ecomvideo.enums import UserRole
    from ecomvideo.models import UserRoleAssignment

    if not roles:
        return
    with transaction() as session:
        session.execute(
            insert(UserRoleAssignment)
            .values(
                [{"id": uuid.uuid4(), "user_id": user_id, "role_name": UserRole(r)} for r in roles]
            )
            .on_conflict_do_nothing(constraint="uq_user_roles_user_id_role_name")
        )
