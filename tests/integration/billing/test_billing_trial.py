"""Trials (docs/decisions.md "Trials"): a trialing user gets the plan's monthly credits for
the trial, through Stripe's $0 trial invoice, expiring when the trial ends; the first paid
invoice after the trial grants the next period's credits. Through the real webhook handler."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ecomvideo.enums import CreditSource, SubscriptionStatus
from ecomvideo.models import UsageCredit, UserSubscription
from ecomvideo.services.stripe_objects import ts
from tests.integration.billing.conftest import credit_total, deliver, scenario_for

DAY = 86400


@pytest.fixture
def scenario(fake, catalog, buyer):
    return scenario_for(fake, catalog, buyer, "cus_trial_" + buyer.id.hex[:12])


def invoice_for(scenario, *, start: int, end: int, amount: int, reason: str, suffix: str):
    event = scenario.event("invoice.paid", remember=False)
    event["id"] += suffix
    inv = event["data"]["object"]
    inv.update(id=inv["id"] + suffix, number=inv["number"] + suffix, billing_reason=reason)
    for key in ("amount_due", "amount_paid", "total", "subtotal"):
        inv[key] = amount
    line = inv["lines"]["data"][0]
    line.update(amount=amount, period={"start": start, "end": end})
    event["created"] = start + 5
    return event


def ok(event: dict[str, Any]) -> None:
    response = deliver(event)
    assert response["statusCode"] == 200, response["body"]


def grants(session, user) -> list[UsageCredit]:
    session.expire_all()
    return list(
        session.scalars(
            select(UsageCredit)
            .where(UsageCredit.user_id == user.id)
            .order_by(UsageCredit.expires_at)
        )
    )


def test_a_trial_gets_the_plan_credits_until_the_trial_ends_then_paid_periods_continue(
    scenario, session, buyer
):
    created = scenario.event("customer.subscription.created.trial")
    sub = created["data"]["object"]
    trial_start, trial_end = sub["trial_start"], sub["trial_end"]
    ok(created)
    ok(invoice_for(scenario, start=trial_start, end=trial_end, amount=0,
                   reason="subscription_create", suffix="T"))  # fmt: skip
    ok(scenario.event("checkout.session.completed.subscription_trial"))

    [trial_grant] = grants(session, buyer)
    assert (trial_grant.amount, trial_grant.source) == (30, CreditSource.SUBSCRIPTION)
    assert trial_grant.expires_at == ts(trial_end)
    row = session.scalars(
        select(UserSubscription).where(UserSubscription.user_id == buyer.id)
    ).one()
    assert row.status is SubscriptionStatus.TRIAL and row.trial_ends_at == ts(trial_end)

    ok(invoice_for(scenario, start=trial_end, end=trial_end + 30 * DAY, amount=1900,
                   reason="subscription_cycle", suffix="P"))  # fmt: skip

    assert [(g.amount, g.expires_at) for g in grants(session, buyer)] == [
        (30, ts(trial_end)),
        (30, ts(trial_end + 30 * DAY)),
    ]
    assert credit_total(session, buyer.id) == 60  # until the trial credits expire
