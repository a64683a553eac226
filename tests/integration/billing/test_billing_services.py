"""Billing services: money, the Stripe catalogue sync, yearly monthly grants, account deletion,
plans API."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ecomvideo import clock
from ecomvideo.clients.stripe_client import from_minor_units, to_minor_units
from ecomvideo.enums import BillingCycle, SubscriptionStatus
from ecomvideo.models.stripe import StripePrice
from ecomvideo.services import billing, credits, plans, stripe_sync, subscription_credits
from tests.integration.billing.conftest import call_api, credit_total
from tests.support.factories import make_subscription, plan_named


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(1999, "usd", "19.99"), (1999, "JPY", "1999"), (500, "krw", "500"), (1250, "kwd", "1.250")],
)
def test_minor_units_respect_zero_and_three_decimal_currencies(amount, currency, expected):
    assert from_minor_units(amount, currency) == Decimal(expected)
    assert to_minor_units(Decimal(expected), currency) == amount


def test_sync_creates_products_and_prices_once_and_replaces_changed_prices(fake, session):
    first = stripe_sync.sync(session)
    assert len(first.prices_created) == 3 * 2 + 3  # 3 paid plans x 2 cycles + 3 packs
    assert "Free" not in " ".join(first.prices_created)

    second = stripe_sync.sync(session)
    assert second.prices_created == [] and second.products_created == []

    starter = plan_named(session, "Starter")
    starter.price_monthly = Decimal("24.00")
    third = stripe_sync.sync(session)
    assert third.prices_created == ["plan_starter_monthly"]
    [old_id] = third.prices_archived
    assert fake.prices[old_id]["active"] is False
    active = session.scalars(
        select(StripePrice).where(
            StripePrice.subscription_plan_id == starter.id,
            StripePrice.billing_cycle == BillingCycle.MONTHLY,
        )
    ).all()
    assert sorted((p.unit_amount, p.is_active) for p in active) == [(1900, False), (2400, True)]


def test_yearly_plans_get_monthly_grants_from_the_job(session, buyer):
    start = datetime(2026, 1, 31, 12, 0)
    sub = make_subscription(
        session,
        buyer,
        billing_cycle=BillingCycle.YEARLY,
        stripe_subscription_id="sub_yearly_1",
        started_at=start,
        ends_at=start.replace(year=2027),
        meta={"period_start": 1769860800, "period_end": 1801396800},  # 2026-01-31 .. 2027-01-31
    )
    try:
        clock.freeze(datetime(2026, 2, 10))  # still month 0: that grant came with the invoice
        assert subscription_credits.grant_monthly_credits_for_yearly_plans(session) == 0
        clock.freeze(datetime(2026, 3, 1))  # Feb 28 + 1 day: month 1
        assert subscription_credits.grant_monthly_credits_for_yearly_plans(session) == 1
        assert (
            subscription_credits.grant_monthly_credits_for_yearly_plans(session) == 0
        )  # idempotent
        [grant] = credits.grants(session, buyer.id)
        assert grant.amount == sub.plan.video_credits_monthly
        assert grant.expires_at == datetime(2026, 3, 31, 12, 0)
        clock.freeze(datetime(2026, 4, 2))
        assert subscription_credits.grant_monthly_credits_for_yearly_plans(session) == 1
        assert credit_total(session, buyer.id) == 2 * sub.plan.video_credits_monthly
    finally:
        clock.unfreeze()


def test_account_deletion_hook_cancels_the_stripe_subscription(fake, session, buyer):
    fake.subscriptions["sub_del_1"] = {
        "id": "sub_del_1",
        "object": "subscription",
        "status": "active",
    }
    sub = make_subscription(session, buyer, stripe_subscription_id="sub_del_1")

    assert billing.cancel_customer_subscriptions(session, buyer) == 1

    assert fake.subscriptions["sub_del_1"]["status"] == "canceled"
    assert sub.status is SubscriptionStatus.CANCELLED
    assert fake.calls_to("DELETE", "/v1/subscriptions/sub_del_1") == [{"prorate": "false"}]


def test_account_deletion_is_aborted_when_stripe_fails(fake, session, buyer):
    from ecomvideo.errors import ProviderError

    make_subscription(session, buyer, stripe_subscription_id="sub_del_2")
    fake.fail_next.append((500, "api_error"))
    fake.fail_next.extend([(500, "api_error")] * 3)  # the SDK retries

    with pytest.raises(ProviderError):
        billing.cancel_customer_subscriptions(session, buyer)


def test_plans_are_public_and_sorted(db):
    status, body = call_api("GET", "/v1/plans", user_id=None)

    assert status == 200
    assert [p["name"] for p in body["items"]] == ["Free", "Starter", "Pro", "Business"]


ADMIN = "settings_admin"  # plan administration lives with the other admin settings


def test_admin_plan_crud_requires_the_admin_role(db, buyer):
    payload = {"name": "Agency", "price_monthly": "299.00", "video_credits_monthly": 1000}

    status, _ = call_api("POST", "/v1/admin/plans", user_id=buyer.id, body=payload, function=ADMIN)
    assert status == 403

    status, created = call_api(
        "POST", "/v1/admin/plans", user_id=buyer.id, roles="Admin", body=payload, function=ADMIN
    )
    assert status == 201, created.get("errors")
    status, _ = call_api(
        "POST", "/v1/admin/plans", user_id=buyer.id, roles="Admin", body=payload, function=ADMIN
    )
    assert status == 409
    status, updated = call_api(
        "PATCH",
        f"/v1/admin/plans/{created['id']}",
        user_id=buyer.id,
        roles="Admin",
        body={"trial_days": 3},
        function=ADMIN,
    )
    assert status == 200 and updated["trial_days"] == 3
    status, _ = call_api(
        "DELETE",
        f"/v1/admin/plans/{created['id']}",
        user_id=buyer.id,
        roles="Admin",
        function=ADMIN,
    )
    assert status == 204
    status, body = call_api("GET", "/v1/plans", user_id=None)
    assert "Agency" not in [p["name"] for p in body["items"]]


def test_checkout_for_a_plan_not_synced_to_stripe_is_422(fake, db, buyer):
    status, body = call_api("POST", "/v1/billing/checkout", user_id=buyer.id, body={"plan": "Pro"})

    assert status == 422, body
    assert fake.calls_to("POST", "/v1/checkout/sessions") == []


def test_generation_allowed_without_subscription_and_in_the_grace_period(session, buyer):
    assert plans.entitlement(session, buyer.id).can_generate is True
    make_subscription(
        session,
        buyer,
        status=SubscriptionStatus.PAST_DUE,
        ends_at=clock.utcnow() + timedelta(days=3),
    )
    assert plans.entitlement(session, buyer.id).can_generate is True  # seeded: grace allowed
