"""Credit ledger: exact, never negative, soonest-expiring first, idempotent, traceable."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.enums import CreditSource
from ecomvideo.errors import InsufficientCredits
from ecomvideo.models import CreditMovement, MovementKind, UsageCredit
from ecomvideo.services import credits, pricing
from tests.support.factories import make_grant, make_user


@pytest.fixture(autouse=True)
def _unfreeze():
    yield
    clock.unfreeze()


def test_hold_takes_from_the_soonest_expiring_grant_first(session):
    user = make_user(session)
    now = clock.utcnow()
    late = make_grant(session, user, 5, expires_at=now + timedelta(days=30))
    never = make_grant(session, user, 5)
    soon = make_grant(session, user, 2, expires_at=now + timedelta(days=1))
    video_id = uuid.uuid4()

    credits.hold(session, user.id, video_id, 4)

    assert (soon.used_amount, late.used_amount, never.used_amount) == (2, 2, 0)
    assert credits.balance(session, user.id) == 8
    holds = session.scalars(select(CreditMovement).where(CreditMovement.video_id == video_id)).all()
    assert sorted(m.amount for m in holds) == [2, 2]
    assert {m.kind for m in holds} == {MovementKind.HOLD}


def test_insufficient_credits_raises_402_with_balance_and_cost(session):
    user = make_user(session)
    make_grant(session, user, 2)
    with pytest.raises(InsufficientCredits) as info:
        credits.hold(session, user.id, uuid.uuid4(), 3)
    assert info.value.status == 402
    assert info.value.extra == {"balance": 2, "cost": 3}
    assert credits.balance(session, user.id) == 2


def test_expired_and_inactive_grants_are_not_spendable(session):
    user = make_user(session)
    make_grant(session, user, 5, expires_at=clock.utcnow() - timedelta(seconds=1))
    make_grant(session, user, 5, is_active=False)
    make_grant(session, user, 1)
    assert credits.balance(session, user.id) == 1


def test_hold_is_idempotent_per_attempt(session):
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = uuid.uuid4()
    first = credits.hold(session, user.id, video_id, 3)
    again = credits.hold(session, user.id, video_id, 3)
    assert first.created and not again.created
    assert credits.balance(session, user.id) == 7


def test_charge_settles_the_hold_once(session):
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = uuid.uuid4()
    credits.hold(session, user.id, video_id, 3)
    assert credits.charge(session, user.id, video_id) == 3
    assert credits.charge(session, user.id, video_id) == 0
    assert credits.release(session, user.id, video_id) == 0
    assert credits.balance(session, user.id) == 7
    assert credits.charged_amount(session, video_id) == 3


def test_release_gives_the_credits_back_once(session):
    user = make_user(session)
    grant = make_grant(session, user, 10)
    video_id = uuid.uuid4()
    credits.hold(session, user.id, video_id, 4)
    assert credits.release(session, user.id, video_id) == 4
    assert credits.release(session, user.id, video_id) == 0
    assert grant.used_amount == 0
    assert credits.balance(session, user.id) == 10
    # A retry is a new attempt: a new hold.
    credits.hold(session, user.id, video_id, 4, attempt=2)
    assert credits.held_amount(session, video_id) == 4


def test_grant_with_reference_happens_once(session):
    user = make_user(session)
    first = credits.grant(session, user.id, 30, CreditSource.SUBSCRIPTION, reference="inv_1")
    second = credits.grant(session, user.id, 30, CreditSource.SUBSCRIPTION, reference="inv_1")
    assert first.id == second.id
    assert credits.balance(session, user.id) == 30


def test_claw_back_removes_only_unused_credits(session):
    user = make_user(session)
    credits.grant(session, user.id, 10, CreditSource.PURCHASE, reference="pi_pack")
    credits.hold(session, user.id, uuid.uuid4(), 4)
    assert credits.claw_back(session, "pi_pack") == 6
    assert credits.claw_back(session, "pi_pack") == 0
    assert credits.balance(session, user.id) == 0


def test_expire_grants_deactivates_and_records_the_unused_part(session):
    user = make_user(session)
    now = clock.utcnow()
    grant = make_grant(session, user, 5, expires_at=now + timedelta(hours=1))
    credits.hold(session, user.id, uuid.uuid4(), 2)
    clock.freeze(now + timedelta(hours=2))
    assert credits.expire_grants(session) >= 1
    assert grant.is_active is False
    expired = session.scalars(
        select(CreditMovement).where(
            CreditMovement.usage_credit_id == grant.id, CreditMovement.kind == MovementKind.EXPIRE
        )
    ).one()
    assert expired.amount == 3


@pytest.mark.parametrize(
    "duration,resolution,provider,expected",
    [
        (5, "1080x1920", "Local", 1),
        (10, "1080x1920", "Freepik", 3),
        (6, "2160x3840", "Local", 4),
        (5, "720x1280", "Freepik", 2),
    ],
)
def test_quote_uses_system_settings(session, duration, resolution, provider, expected):
    assert (
        pricing.quote(session, duration_seconds=duration, resolution=resolution, provider=provider)
        == expected
    )


def test_parallel_holds_never_overspend(fresh_db):
    with transaction() as s:
        user = make_user(s)
        make_grant(s, user, 5)
        user_id = user.id
    results: list[str] = []
    barrier = threading.Barrier(20)

    def spend() -> None:
        barrier.wait()
        try:
            with transaction() as s:
                credits.hold(s, user_id, uuid.uuid4(), 1)
            results.append("ok")
        except InsufficientCredits:
            results.append("402")

    threads = [threading.Thread(target=spend) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 5
    assert results.count("402") == 15
    with transaction() as s:
        assert credits.balance(s, user_id) == 0
        grant = s.scalars(select(UsageCredit).where(UsageCredit.user_id == user_id)).one()
        assert grant.used_amount == 5


def test_parallel_duplicate_grants_grant_once(fresh_db):
    with transaction() as s:
        user_id = make_user(s).id
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def deliver() -> None:
        barrier.wait()
        try:
            with transaction() as s:
                credits.grant(s, user_id, 30, CreditSource.SUBSCRIPTION, reference="in_dup")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction() as s:
        assert credits.balance(s, user_id) == 30
