"""One answer to "which plan is this user on?": every consumer agrees, per subscription state.

Each row sets up one situation and asks every consumer: ``plans.entitlement``, the generation
limits (``POST /v1/videos/quote`` through the videos handler), the rate limits and the API
(``GET /v1/me/usage`` through the analytics handler with the limiter installed) and the monthly
credits of yearly plans (the scheduled grant job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from ecomvideo import clock
from ecomvideo.enums import BillingCycle, SubscriptionStatus
from ecomvideo.http.ratelimit import DEFAULT_PLAN_LIMITS
from ecomvideo.models import UsageCredit
from ecomvideo.services import plans, subscription_credits, system_settings
from tests.support.engagement import call, fresh_handler, jwt_env, jwt_keys, token_for  # noqa: F401
from tests.support.factories import make_subscription, make_user, plan_named
from tests.support.pipeline_stack import call as call_function
from tests.support.ratelimit_fields import rate_limits

DAY = timedelta(days=1)
# Pro allows 15 s videos, Free 5 s: the quote shows whose limits apply.
PRO_ONLY = {
    "input_type": "Text",
    "text_prompt": "Bright sneakers on a beach",
    "duration_seconds": 10,
    "aspect_ratio": "9:16",
    "resolution": "180x320",
}


def _epoch(days_ago: float) -> int:
    return int((clock.utcnow() - days_ago * DAY).replace(tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Row:
    name: str
    status: SubscriptionStatus | None  # None: no subscription at all
    plan: str
    standing: plans.Standing
    can_generate: bool = True
    monthly_credits: bool = False
    ends_in_days: float = 300
    meta: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


ROWS = [
    Row("no subscription", None, "Free", plans.Standing.FREE),
    Row("active", SubscriptionStatus.ACTIVE, "Pro", plans.Standing.ACTIVE, monthly_credits=True),
    Row("trial", SubscriptionStatus.TRIAL, "Pro", plans.Standing.TRIAL, monthly_credits=True),
    Row(
        "past due within the grace period",
        SubscriptionStatus.PAST_DUE,
        "Pro",
        plans.Standing.PAST_DUE_GRACE,
        meta={"past_due_since": _epoch(days_ago=2)},
    ),
    Row(
        "past due beyond the grace period",
        SubscriptionStatus.PAST_DUE,
        "Free",
        plans.Standing.PAST_DUE_LAPSED,
        can_generate=False,
        meta={"past_due_since": _epoch(days_ago=15)},
    ),
    Row(
        "past due with a grace period shortened by the setting",
        SubscriptionStatus.PAST_DUE,
        "Free",
        plans.Standing.PAST_DUE_LAPSED,
        can_generate=False,
        meta={"past_due_since": _epoch(days_ago=2)},
        settings={"billing.past_due_grace_days": 1},
    ),
    Row(
        "past due with generation during grace switched off",
        SubscriptionStatus.PAST_DUE,
        "Free",
        plans.Standing.PAST_DUE_LAPSED,
        can_generate=False,
        meta={"past_due_since": _epoch(days_ago=0)},
        settings={"billing.allow_generation_when_past_due": False},
    ),
    Row(
        "unpaid (Stripe stopped retrying)",
        SubscriptionStatus.PAST_DUE,
        "Free",
        plans.Standing.PAST_DUE_LAPSED,
        can_generate=False,
        meta={"past_due_since": _epoch(days_ago=1), "stripe_status": "unpaid"},
    ),
    Row(
        "cancelled before the paid period ends",
        SubscriptionStatus.CANCELLED,
        "Pro",
        plans.Standing.CANCELLED_UNTIL_PERIOD_END,
        ends_in_days=10,
    ),
    Row(
        "cancelled after the paid period ended",
        SubscriptionStatus.CANCELLED,
        "Free",
        plans.Standing.FREE,
        ends_in_days=-1,
    ),
    Row("expired", SubscriptionStatus.EXPIRED, "Free", plans.Standing.FREE),
]


@pytest.fixture
def analytics_fn():
    return fresh_handler("analytics")


@pytest.fixture
def with_settings(session):
    def apply(values: dict[str, Any]) -> None:
        for key, value in values.items():
            kind = "boolean" if isinstance(value, bool) else "number"
            system_settings.update(session, key, value, updated_by="test", data_type=kind)
        system_settings.clear_cache()

    yield apply
    system_settings.clear_cache()


@pytest.mark.usefixtures("aws", "jwt_env")
@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_every_consumer_gives_the_same_answer(row, session, analytics_fn, with_settings):
    with_settings(row.settings)
    user = make_user(session)
    if row.status is not None:
        make_subscription(
            session,
            user,
            row.status,
            subscription_plan_id=plan_named(session, "Pro").id,
            billing_cycle=BillingCycle.YEARLY,
            started_at=clock.utcnow() - 40 * DAY,
            ends_at=clock.utcnow() + row.ends_in_days * DAY,
            stripe_subscription_id=f"sub_{user.id.hex}",
            meta={
                "period_start": _epoch(days_ago=40),
                "period_end": _epoch(days_ago=-325),
                **row.meta,
            },
        )

    entitled = plans.entitlement(session, user.id)
    assert (entitled.plan_name, entitled.standing, entitled.can_generate) == (
        row.plan,
        row.standing,
        row.can_generate,
    )
    # The decision alone (what the rate limiter reads, without the mapped classes) agrees.
    decided = plans.verdict(session, user.id)
    assert (decided.plan_id, decided.standing, decided.can_generate, decided.changes_at) == (
        entitled.plan.id,
        entitled.standing,
        entitled.can_generate,
        entitled.changes_at,
    )
    assert decided.subscription_id == (entitled.subscription.id if entitled.subscription else None)

    # Generation limits: the plan's duration limit, or 402 while payment is lapsed.
    status, body, _ = call_function(
        "videos", "POST", "/v1/videos/quote", user_id=user.id, body=PRO_ONLY
    )
    if not row.can_generate:
        assert status == 402, body
    elif row.plan == "Pro":
        assert status == 200, body
    else:
        assert status == 403 and body["limit"] == "max_video_duration", body
        assert f"The {row.plan} plan" in body["detail"]

    # Rate limits and the API: the same plan's limits, and its name in the usage report.
    usage = call(analytics_fn, "GET", "/v1/me/usage", token=token_for(user.id))
    assert usage.status == 200, usage.body
    assert usage.json()["plan"] == row.plan
    expected_rpm = DEFAULT_PLAN_LIMITS[row.plan]["requests_per_minute"]
    assert rate_limits(usage.headers)["requests"]["q"] == expected_rpm

    # Credits: the yearly plan's monthly grant goes to paid-up (Active/Trial) subscriptions only.
    subscription_credits.grant_monthly_credits_for_yearly_plans(session)
    granted = session.scalar(
        select(func.count()).select_from(UsageCredit).where(UsageCredit.user_id == user.id)
    )
    assert bool(granted) is row.monthly_credits


def test_a_payment_failure_starts_the_grace_period_and_recovery_ends_it():
    failed = plans.note_status({"stripe_state_at": 1}, SubscriptionStatus.PAST_DUE, 100)
    again = plans.note_status(failed, SubscriptionStatus.PAST_DUE, 200)
    recovered = plans.note_status(again, SubscriptionStatus.ACTIVE, 300)

    assert failed["past_due_since"] == 100
    assert again["past_due_since"] == 100  # a second failed attempt does not extend the grace
    assert "past_due_since" not in recovered


@pytest.mark.usefixtures("jwt_env")
def test_the_rate_limiter_asks_for_the_plan_once_per_cache_period(session, analytics_fn):
    user = make_user(session)
    make_subscription(session, user, subscription_plan_id=plan_named(session, "Pro").id)
    token = token_for(user.id)
    plan_queries: list[str] = []

    def record(conn, cursor, statement, *args):
        if "user_subscriptions" in statement:
            plan_queries.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        assert call(analytics_fn, "GET", "/v1/me/usage", token=token).status == 200
        first = len(plan_queries)
        assert call(analytics_fn, "GET", "/v1/me/usage", token=token).status == 200
        second = len(plan_queries) - first
    finally:
        event.remove(Engine, "before_cursor_execute", record)

    assert first == 1  # the limiter's entitlement query; the usage report reuses the cache
    assert second == 0
