"""The credit ledger: grants, holds, charges, releases, expiry and claw-backs.

Grants are ``usage_credits`` rows. Spending is two-phase: ``hold`` reserves credits when a
video is accepted (raising ``used_amount`` on the grants it draws from, soonest-expiring
first), then ``charge`` settles the hold when the video completes, or ``release`` gives the
credits back when it fails or is cancelled. Every step writes a ``credit_movements`` row.

Concurrency: every operation that changes a user's balance first takes a row lock on the
user (``SELECT ... FOR NO KEY UPDATE``), so operations of one user run one at a time and the
balance can never go below zero; the CHECK constraint ``0 <= used_amount <= amount`` and the
unique indexes on ``credit_movements`` are the last line of defence. All functions work inside
the caller's transaction (one transaction per request/event).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from ecomvideo import clock
from ecomvideo.enums import CreditSource, CreditType
from ecomvideo.errors import InsufficientCredits
from ecomvideo.keyset import Cursor, apply_keyset
from ecomvideo.models import CreditMovement, MovementKind, UsageCredit
from ecomvideo.observability import metrics
from ecomvideo.services.account_guards import lock_user, require_verified


@dataclass(frozen=True)
class HoldResult:
    video_id: uuid.UUID
    amount: int
    created: bool  # False when the same hold already existed (idempotent retry)


# ---------------------------------------------------------------------------- reads


def _spendable_filter(user_id: uuid.UUID, now: datetime) -> Any:
    return and_(
        UsageCredit.user_id == user_id,
        UsageCredit.is_active.is_(True),
        or_(UsageCredit.expires_at.is_(None), UsageCredit.expires_at > now),
    )


def balance(session: Session, user_id: uuid.UUID) -> int:
    """Credits the user can spend now (active, unexpired grants, minus what is held/used)."""
    total = session.scalar(
        select(func.coalesce(func.sum(UsageCredit.amount - UsageCredit.used_amount), 0)).where(
            _spendable_filter(user_id, clock.utcnow())
        )
    )
    return int(total or 0)


def grants(session: Session, user_id: uuid.UUID) -> list[UsageCredit]:
    return list(
        session.scalars(
            select(UsageCredit)
            .where(UsageCredit.user_id == user_id)
            .order_by(UsageCredit.expires_at.asc().nulls_last(), UsageCredit.created_at)
        )
    )


def grants_page(
    session: Session, user_id: uuid.UUID, *, limit: int = 50, after: Cursor | None = None
) -> list[UsageCredit]:
    """The user's grants, newest first, continuing after ``after`` (keyset pagination)."""
    return _newest_first(session, UsageCredit, user_id, limit, after)


def movements(
    session: Session, user_id: uuid.UUID, *, limit: int = 50, after: Cursor | None = None
) -> list[CreditMovement]:
    """The user's ledger, newest first, continuing after ``after`` (keyset pagination)."""
    return _newest_first(session, CreditMovement, user_id, limit, after)


def _newest_first[M: (UsageCredit, CreditMovement)](
    session: Session, model: type[M], user_id: uuid.UUID, limit: int, after: Cursor | None
) -> list[M]:
    stmt = select(model).where(model.user_id == user_id)
    return list(session.scalars(apply_keyset(stmt, model.created_at, model.id, after).limit(limit)))


def held_amount(session: Session, video_id: uuid.UUID) -> int:
    """Credits currently held (not yet charged or released) for a video."""
    return sum(m.amount for m in _open_holds(session, video_id))


def charged_amount(session: Session, video_id: uuid.UUID) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(CreditMovement.amount), 0)).where(
            CreditMovement.video_id == video_id, CreditMovement.kind == MovementKind.CHARGE
        )
    )
    return int(total or 0)


# ---------------------------------------------------------------------------- writes


def _lock_user(session: Session, user_id: uuid.UUID) -> None:
    lock_user(session, user_id)


def grant(
    session: Session,
    user_id: uuid.UUID,
    amount: int,
    source: CreditSource,
    *,
    reference: str | None = None,
    expires_at: datetime | None = None,
    user_subscription_id: uuid.UUID | None = None,
    credit_type: CreditType = CreditType.VIDEO_GENERATION,
    metadata: dict[str, Any] | None = None,
    created_by: str | None = None,
) -> UsageCredit:
    """Add a grant. With a ``reference`` (e.g. ``stripe:invoice:in_123``) it happens once:
    a repeated call returns the existing grant instead of granting again."""
    if amount <= 0:
        raise ValueError("a grant needs a positive amount")
    _lock_user(session, user_id)
    if reference is not None:
        existing = _grant_by_reference(session, reference)
        if existing is not None:
            return existing
    credit = UsageCredit(
        id=uuid.uuid4(),
        user_id=user_id,
        user_subscription_id=user_subscription_id,
        credit_type=credit_type,
        amount=amount,
        used_amount=0,
        source=source,
        expires_at=expires_at,
        is_active=True,
        meta={**(metadata or {}), **({"reference": reference} if reference else {})},
        created_by=created_by,
    )
    session.add(credit)
    session.flush()
    # ON CONFLICT: two transactions racing on the same reference both get here only if they
    # did not see each other's uncommitted grant; the unique index makes the loser a no-op.
    inserted = session.execute(
        insert(CreditMovement)
        .values(
            id=uuid.uuid4(),
            user_id=user_id,
            usage_credit_id=credit.id,
            kind=MovementKind.GRANT,
            amount=amount,
            reference=reference,
            meta={"source": str(source)},
        )
        .on_conflict_do_nothing()
        .returning(CreditMovement.id)
    ).first()
    if inserted is None:
        session.delete(credit)
        session.flush()
        existing = _grant_by_reference(session, reference or "")
        assert existing is not None
        return existing
    return credit


def _grant_by_reference(session: Session, reference: str) -> UsageCredit | None:
    return session.scalar(
        select(UsageCredit)
        .join(CreditMovement, CreditMovement.usage_credit_id == UsageCredit.id)
        .where(CreditMovement.kind == MovementKind.GRANT, CreditMovement.reference == reference)
    )


def hold(
    session: Session,
    user_id: uuid.UUID,
    video_id: uuid.UUID,
    cost: int,
    *,
    attempt: int = 1,
) -> HoldResult:
    """Reserve ``cost`` credits for a video attempt; raises InsufficientCredits (402)."""
    reference = f"video:{video_id}:{attempt}"
    _lock_user(session, user_id)
    require_verified(session, user_id, "spending credits")
    existing = session.scalars(
        select(CreditMovement).where(
            CreditMovement.kind == MovementKind.HOLD, CreditMovement.reference == reference
        )
    ).all()
    if existing:
        return HoldResult(video_id, sum(m.amount for m in existing), created=False)
    if cost <= 0:
        return HoldResult(video_id, 0, created=True)
    now = clock.utcnow()
    rows = session.scalars(
        select(UsageCredit)
        .where(_spendable_filter(user_id, now), UsageCredit.used_amount < UsageCredit.amount)
        .order_by(UsageCredit.expires_at.asc().nulls_last(), UsageCredit.created_at)
        .with_for_update()
    ).all()
    available = sum(r.amount - r.used_amount for r in rows)
    if available < cost:
        raise InsufficientCredits(balance=available, cost=cost)
    remaining = cost
    for credit in rows:
        take = min(credit.amount - credit.used_amount, remaining)
        if take <= 0:
            continue
        credit.used_amount += take
        session.add(
            CreditMovement(
                user_id=user_id,
                usage_credit_id=credit.id,
                kind=MovementKind.HOLD,
                amount=take,
                video_id=video_id,
                reference=reference,
            )
        )
        remaining -= take
        if remaining == 0:
            break
    session.flush()
    return HoldResult(video_id, cost, created=True)


def _open_holds(session: Session, video_id: uuid.UUID) -> list[CreditMovement]:
    settled = aliased(CreditMovement)
    return list(
        session.scalars(
            select(CreditMovement)
            .where(
                CreditMovement.video_id == video_id,
                CreditMovement.kind == MovementKind.HOLD,
                ~exists().where(settled.hold_id == CreditMovement.id),
            )
            .order_by(CreditMovement.created_at)
        )
    )


def _settle(session: Session, user_id: uuid.UUID, video_id: uuid.UUID, kind: MovementKind) -> int:
    _lock_user(session, user_id)
    total = 0
    for held in _open_holds(session, video_id):
        if kind is MovementKind.RELEASE:
            credit = session.get(UsageCredit, held.usage_credit_id, with_for_update=True)
            assert credit is not None
            credit.used_amount -= held.amount
        session.add(
            CreditMovement(
                user_id=held.user_id,
                usage_credit_id=held.usage_credit_id,
                kind=kind,
                amount=held.amount,
                video_id=video_id,
                hold_id=held.id,
                reference=held.reference,
            )
        )
        total += held.amount
    session.flush()
    return total


def charge(session: Session, user_id: uuid.UUID, video_id: uuid.UUID) -> int:
    """Settle the video's open holds as spent. Returns the credits charged now (0 if none)."""
    charged = _settle(session, user_id, video_id, MovementKind.CHARGE)
    _count("CreditsSpent", charged)
    return charged


def release(session: Session, user_id: uuid.UUID, video_id: uuid.UUID) -> int:
    """Give back the video's open holds. Returns the credits released now (0 if none)."""
    released = _settle(session, user_id, video_id, MovementKind.RELEASE)
    _count("CreditsReleased", released)
    return released


def _count(name: str, amount: int) -> None:
    """Business metric (EMF, flushed by the handler's ``metrics.log_metrics``). Emitted before
    the caller commits: a rolled-back settlement over-counts, which alarms can live with."""
    if amount > 0:
        metrics.add_metric(name=name, unit="Count", value=amount)


def claw_back(session: Session, reference: str) -> int:
    """Remove what is left unused of the grant made for ``reference`` (e.g. a refunded
    credit pack). Credits already spent stay spent. Returns the credits removed."""
    credit = _grant_by_reference(session, reference)
    if credit is None or not credit.is_active:
        return 0
    _lock_user(session, credit.user_id)
    session.refresh(credit, with_for_update=True)
    unused = credit.amount - credit.used_amount
    credit.is_active = False
    if unused > 0:
        session.add(
            CreditMovement(
                user_id=credit.user_id,
                usage_credit_id=credit.id,
                kind=MovementKind.CLAWBACK,
                amount=unused,
                reference=reference,
            )
        )
    session.flush()
    return max(unused, 0)


def expire_grants(session: Session, *, limit: int = 1000) -> int:
    """Deactivate grants past ``expires_at`` (scheduled). Returns how many were expired."""
    now = clock.utcnow()
    expired = session.scalars(
        select(UsageCredit)
        .where(UsageCredit.is_active.is_(True), UsageCredit.expires_at <= now)
        .order_by(UsageCredit.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for credit in expired:
        credit.is_active = False
        unused = credit.amount - credit.used_amount
        if unused > 0:
            session.add(
                CreditMovement(
                    user_id=credit.user_id,
                    usage_credit_id=credit.id,
                    kind=MovementKind.EXPIRE,
                    amount=unused,
                )
            )
    session.flush()
    return len(expired)
