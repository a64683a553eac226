"""Billing stories through the real handlers: checkout, renewal, upgrade, payment failure and
recovery, cancellation, credit packs and refunds. Every event is delivered twice."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ecomvideo.enums import (
    CreditSource,
    InvoiceStatus,
    PaymentStatus,
    SubscriptionStatus,
)
from ecomvideo.models import (
    BackgroundJob,
    Invoice,
    Payment,
    PaymentMethod,
    UsageCredit,
    UserSubscription,
)
from ecomvideo.services import billing_mail, credits, plans, system_settings
from tests.integration.billing.conftest import call_api, credit_total, deliver
from tests.support.scheduled import invoke_scheduled

pytestmark = pytest.mark.usefixtures("catalog")


def twice(event: dict[str, Any]) -> list[str]:
    """Deliver an event twice (Stripe may); both answers must be 2xx."""
    outcomes = []
    for _ in range(2):
        response = deliver(event)
        assert response["statusCode"] == 200, response["body"]
        outcomes.append(response["body"])
    assert '"duplicate"' in outcomes[1] or '"ignored"' in outcomes[1]
    return outcomes


def subscription_of(session, user) -> UserSubscription:
    session.expire_all()
    return session.scalars(
        select(UserSubscription).where(UserSubscription.user_id == user.id)
    ).one()


def start_checkout(fake, catalog, buyer, plan: str = "Starter") -> Any:
    status, body = call_api("POST", "/v1/billing/checkout", user_id=buyer.id, body={"plan": plan})
    assert status == 200, body
    assert body["url"].startswith("https://checkout.stripe.com/")
    [customer] = fake.customers.values()
    return fake.scenario(
        user_id=str(buyer.id),
        customer_id=customer["id"],
        prices=catalog.prices,
        plan_id=catalog.plan_ids[plan],
        pack_id=catalog.pack_id,
    )


def subscribe(fake, catalog, buyer, session) -> Any:
    scenario = start_checkout(fake, catalog, buyer)
    for name in (
        "payment_method.attached",
        "customer.subscription.created",
        "checkout.session.completed.subscription",
        "invoice.paid",
        "invoice_payment.paid",
    ):
        twice(scenario.event(name))
    return scenario


def test_the_webhook_queues_the_failed_renewal_mail_and_the_jobs_worker_sends_it(
    fake, catalog, buyer, session
):
    from ecomvideo.clients import email

    class Recorder:  # the email client: what SES would have received
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def send(self, message: Any) -> str:
            self.sent.append(message)
            return "m-1"

    recorder = Recorder()
    email.set_email_client(recorder)  # type: ignore[arg-type]  # duck-typed: send() only
    try:
        scenario = subscribe(fake, catalog, buyer, session)
        twice(scenario.event("invoice.payment_failed"))

        assert recorder.sent == []  # the Stripe webhook function sends nothing itself
        queued = session.scalars(
            select(BackgroundJob).where(BackgroundJob.job_type == billing_mail.JOB_TYPE)
        ).all()
        assert len(queued) == 1
        invoke_scheduled("jobs_worker", {"batch_size": 10, "max_jobs": 200}, timeout_s=120)
    finally:
        email.set_email_client(None)

    assert [(m.to, m.tag) for m in recorder.sent] == [(buyer.email, "payment-failed")]


def test_checkout_creates_the_customer_once_and_asks_for_the_plan_price(fake, catalog, buyer):
    start_checkout(fake, catalog, buyer)
    status, _ = call_api("POST", "/v1/billing/checkout", user_id=buyer.id, body={"plan": "Pro"})

    assert status == 200
    assert len(fake.customers) == 1  # reused, not created again
    first, second = fake.calls_to("POST", "/v1/checkout/sessions")
    assert first["mode"] == "subscription"
    assert first["client_reference_id"] == str(buyer.id)
    assert first["line_items"] == [{"price": catalog.prices["starter_monthly"], "quantity": "1"}]
    assert first["subscription_data"]["trial_period_days"] == "7"  # Starter's trial
    assert second["line_items"][0]["price"] == catalog.prices["pro_monthly"]


def test_checkout_to_active_subscription_grants_credits_once(fake, catalog, buyer, session):
    scenario = subscribe(fake, catalog, buyer, session)

    sub = subscription_of(session, buyer)
    assert (sub.status, sub.plan.name) == (SubscriptionStatus.ACTIVE, "Starter")
    assert sub.price_paid == Decimal("19.00") and sub.auto_renew is True
    assert sub.stripe_subscription_id == scenario.id("sub_1SXa9bLkP9aBcDeFgH2iJk3L")
    assert credit_total(session, buyer.id) == 30
    [grant] = credits.grants(session, buyer.id)
    assert (grant.source, grant.user_subscription_id) == (CreditSource.SUBSCRIPTION, sub.id)
    assert grant.expires_at == sub.ends_at  # the end of the paid period
    [payment] = session.scalars(select(Payment).where(Payment.user_id == buyer.id)).all()
    assert payment.payment_intent_id == scenario.id("pi_3SXa9dLkP9aBcDeF0Pay001")
    assert (payment.amount, payment.status) == (Decimal("19.00"), PaymentStatus.SUCCEEDED)
    [invoice] = payment.invoices
    assert invoice.status is InvoiceStatus.PAID and invoice.pdf_url.startswith("https://pay.")
    [method] = session.scalars(select(PaymentMethod).where(PaymentMethod.user_id == buyer.id))
    assert (method.brand, method.last_four_digits, method.expires_at.month) == ("visa", "4242", 8)

    status, body = call_api("GET", "/v1/billing/subscription", user_id=buyer.id)
    assert status == 200 and body["subscription"]["status"] == "Active"
    status, body = call_api("GET", "/v1/billing/invoices", user_id=buyer.id)
    assert body["items"][0]["hosted_url"].startswith("https://invoice.stripe.com/")


def test_trial_checkout_without_payment_starts_a_trial(fake, catalog, buyer, session):
    scenario = start_checkout(fake, catalog, buyer)
    created = scenario.event("customer.subscription.created.trial")  # Stripe knows it now

    twice(scenario.event("checkout.session.completed.subscription_trial"))  # retrieves it
    assert subscription_of(session, buyer).status is SubscriptionStatus.TRIAL
    twice(created)  # arriving later changes nothing

    sub = subscription_of(session, buyer)
    assert sub.status is SubscriptionStatus.TRIAL
    assert sub.trial_ends_at is not None and sub.trial_ends_at == sub.ends_at


def test_renewal_grants_again_with_the_older_invoice_shape(fake, catalog, buyer, session):
    scenario = subscribe(fake, catalog, buyer, session)

    twice(scenario.event("invoice.paid.legacy"))  # top-level subscription / payment_intent

    assert credit_total(session, buyer.id) == 60
    payments = session.scalars(select(Payment).where(Payment.user_id == buyer.id)).all()
    assert {p.payment_intent_id for p in payments} == {
        scenario.id("pi_3SXa9dLkP9aBcDeF0Pay001"),
        scenario.id("pi_3SXa9dLkP9aBcDeF0Pay003"),
    }


def test_upgrade_switches_the_plan_and_tops_up_credits(fake, catalog, buyer, session):
    scenario = subscribe(fake, catalog, buyer, session)

    status, body = call_api(
        "POST", "/v1/billing/subscription/change", user_id=buyer.id, body={"plan": "Pro"}
    )

    assert status == 200, body
    assert body["subscription"]["plan"] == "Pro"
    [update] = fake.calls_to("POST", "/v1/subscriptions/")
    assert update["proration_behavior"] == "always_invoice"
    twice(scenario.event("customer.subscription.updated"))  # Stripe's own notice, same state
    proration = scenario.event("invoice.paid", remember=False)
    inv = proration["data"]["object"]
    inv["id"] += "U"
    inv["number"] += "U"
    inv["billing_reason"] = "subscription_update"
    inv["lines"]["data"][0]["pricing"]["price_details"]["price"] = catalog.prices["pro_monthly"]
    proration["id"] += "U"
    twice(proration)

    assert subscription_of(session, buyer).plan.name == "Pro"
    assert credit_total(session, buyer.id) == 100  # 30 for Starter + 70 top-up to Pro


def test_payment_failure_sets_past_due_then_recovers(fake, catalog, buyer, session, mailbox):
    scenario = subscribe(fake, catalog, buyer, session)
    failed = scenario.event("invoice.payment_failed")

    twice(failed)
    twice(scenario.event("customer.subscription.updated.past_due"))

    assert subscription_of(session, buyer).status is SubscriptionStatus.PAST_DUE
    assert [m.tag for m in mailbox] == ["payment-failed"]  # once, not per delivery
    failed_payment = session.scalars(
        select(Payment).where(Payment.status == PaymentStatus.FAILED)
    ).one()
    assert failed_payment.failure_reason
    assert plans.entitlement(session, buyer.id).can_generate is True  # seeded grace policy

    paid = copy.deepcopy(failed)
    paid["id"] += "R"
    paid["type"] = "invoice.paid"
    paid["created"] += 3600
    inv = paid["data"]["object"]
    inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0)
    inv["status_transitions"]["paid_at"] = paid["created"]
    recovered = scenario.event("customer.subscription.updated.past_due", at=paid["created"] + 1)
    recovered["id"] += "R"
    recovered["data"]["object"]["status"] = "active"
    twice(paid)
    twice(recovered)

    session.expire_all()
    assert subscription_of(session, buyer).status is SubscriptionStatus.ACTIVE
    assert failed_payment.status is PaymentStatus.SUCCEEDED
    invoice = session.scalars(select(Invoice).where(Invoice.payment_id == failed_payment.id)).one()
    assert invoice.status is InvoiceStatus.PAID
    assert credit_total(session, buyer.id) == 60


def test_generation_is_blocked_when_past_due_if_the_setting_says_so(
    fake, catalog, buyer, session, mailbox
):
    scenario = subscribe(fake, catalog, buyer, session)
    twice(scenario.event("invoice.payment_failed"))
    from ecomvideo.models import SystemSetting

    setting = session.scalars(
        select(SystemSetting).where(SystemSetting.key == "billing.allow_generation_when_past_due")
    ).one()
    setting.value = "false"
    session.flush()
    system_settings.clear_cache()

    assert plans.entitlement(session, buyer.id).can_generate is False


def test_cancel_at_period_end_then_cancelled_keeps_payments_and_invoices(
    fake, catalog, buyer, session
):
    scenario = subscribe(fake, catalog, buyer, session)

    status, body = call_api("POST", "/v1/billing/subscription/cancel", user_id=buyer.id)

    assert status == 200, body
    assert body["subscription"]["cancel_at_period_end"] is True
    assert body["subscription"]["status"] == "Active"  # paid until the period ends
    twice(scenario.event("customer.subscription.updated.cancel_at_period_end"))
    twice(scenario.event("customer.subscription.deleted"))

    sub = subscription_of(session, buyer)
    assert sub.status is SubscriptionStatus.CANCELLED and sub.auto_renew is False
    assert session.scalars(select(Payment).where(Payment.user_id == buyer.id)).all()
    assert session.scalars(select(Invoice)).all()
    status, body = call_api("GET", "/v1/billing/payments", user_id=buyer.id)
    assert status == 200 and len(body["items"]) == 1


def test_credit_pack_purchase_and_refund(fake, catalog, buyer, session):
    status, body = call_api(
        "POST", "/v1/billing/credit-packs/checkout", user_id=buyer.id, body={"pack": "pack_100"}
    )
    assert status == 200, body
    [params] = fake.calls_to("POST", "/v1/checkout/sessions")
    assert params["mode"] == "payment"
    assert params["payment_intent_data"]["metadata"]["credit_pack_id"] == catalog.pack_id
    [customer] = fake.customers.values()
    scenario = fake.scenario(
        user_id=str(buyer.id),
        customer_id=customer["id"],
        prices=catalog.prices,
        plan_id=catalog.plan_ids["Starter"],
        pack_id=catalog.pack_id,
    )

    twice(scenario.event("checkout.session.completed.payment"))
    twice(scenario.event("payment_intent.succeeded"))

    assert credit_total(session, buyer.id) == 100
    [grant] = credits.grants(session, buyer.id)
    assert grant.source is CreditSource.PURCHASE
    payment = session.scalars(select(Payment).where(Payment.user_id == buyer.id)).one()
    assert payment.amount == Decimal("29.00")

    from tests.support.factories import make_video

    video = make_video(session, buyer)
    credits.hold(session, buyer.id, video.id, 10)
    credits.charge(session, buyer.id, video.id)
    session.commit()

    twice(scenario.event("charge.refunded"))

    session.expire_all()
    assert payment.status is PaymentStatus.REFUNDED
    assert payment.refunded_amount == Decimal("29.00")
    assert credits.balance(session, buyer.id) == 0  # the 90 unused credits are clawed back
    grant = session.get(UsageCredit, grant.id)
    assert grant.used_amount == 10 and grant.is_active is False


def test_payment_method_default_and_detach(fake, catalog, buyer, session):
    scenario = subscribe(fake, catalog, buyer, session)
    twice(scenario.event("customer.updated"))
    [method] = session.scalars(select(PaymentMethod).where(PaymentMethod.user_id == buyer.id))
    session.refresh(method)
    assert method.is_default is True

    status, body = call_api("GET", "/v1/billing/payment-methods", user_id=buyer.id)
    assert [m["last_four_digits"] for m in body["items"]] == ["4242"]
    status, body = call_api(
        "DELETE",
        f"/v1/billing/payment-methods/{method.id}",
        user_id=buyer.id,
    )
    assert status == 204, body
    twice(scenario.event("payment_method.detached"))
    session.refresh(method)
    assert (method.is_active, method.is_default) == (False, False)
