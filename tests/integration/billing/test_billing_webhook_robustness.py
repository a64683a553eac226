"""The Stripe webhook under hostile and unordered delivery, through the real handler."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import stripe
from sqlalchemy import func, select

from ecomvideo.enums import SubscriptionStatus
from ecomvideo.models import Invoice, Payment, UsageCredit, UserSubscription
from ecomvideo.models.stripe import StripeEvent
from tests.fakes.stripe_fake import EVENTS_DIR, WEBHOOK_SECRET, StripeFake
from tests.integration.billing.conftest import (
    credit_total,
    deliver,
    scenario_for,
    sync_catalog,
)
from tests.support.factories import make_user
from tests.support.lambda_handlers import invoke_in_fresh_interpreter

ALL_EVENTS = sorted(p.stem for p in Path(EVENTS_DIR).glob("*.json"))


@pytest.fixture
def scenario(fake, catalog, buyer, session):
    from ecomvideo.services.stripe_customers import link_customer

    link_customer(session, buyer.id, "cus_robust_" + buyer.id.hex[:12])
    session.commit()
    return scenario_for(fake, catalog, buyer, "cus_robust_" + buyer.id.hex[:12])


def counts(session) -> dict[str, int]:
    session.expire_all()
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in (StripeEvent, UserSubscription, Payment, Invoice, UsageCredit)
    }


def status(response) -> int:
    return response["statusCode"]


def test_every_payload_file_delivered_twice_changes_nothing_the_second_time(scenario, session):
    events = [scenario.event(name) for name in ALL_EVENTS]
    for event in events:
        assert status(deliver(event)) == 200, event["type"]
    after_first = counts(session)

    outcomes = [json.loads(deliver(event)["body"])["outcome"] for event in events]

    assert counts(session) == after_first
    assert set(outcomes) == {"duplicate", "ignored"}
    assert after_first["usage_credits"] >= 2  # subscription + renewal (+ pack) were granted


def test_subscription_updated_before_created_keeps_the_newer_state(scenario, session, buyer):
    updated = scenario.event("customer.subscription.updated")  # later: on Pro
    created = scenario.event("customer.subscription.created")  # earlier: on Starter

    assert status(deliver(updated)) == 200
    assert status(deliver(created)) == 200

    sub = session.scalars(
        select(UserSubscription).where(UserSubscription.user_id == buyer.id)
    ).one()
    assert (sub.plan.name, sub.status) == ("Pro", SubscriptionStatus.ACTIVE)


def test_an_old_updated_after_a_newer_one_is_ignored(scenario, session, buyer):
    deliver(scenario.event("customer.subscription.created"))
    newer = scenario.event("customer.subscription.updated.past_due")
    older = scenario.event("customer.subscription.updated")  # created 20 days earlier

    deliver(newer)
    deliver(older)

    sub = session.scalars(
        select(UserSubscription).where(UserSubscription.user_id == buyer.id)
    ).one()
    assert (sub.status, sub.plan.name) == (SubscriptionStatus.PAST_DUE, "Starter")


def test_cancelled_subscription_is_not_revived_by_a_late_update(scenario, session, buyer):
    deleted = scenario.event("customer.subscription.deleted")
    late = scenario.event("customer.subscription.updated.cancel_at_period_end")

    deliver(deleted)
    deliver(late)

    sub = session.scalars(
        select(UserSubscription).where(UserSubscription.user_id == buyer.id)
    ).one()
    assert sub.status is SubscriptionStatus.CANCELLED


def test_invoice_paid_before_checkout_completed_grants_once(scenario, session, buyer, fake):
    created = scenario.event("customer.subscription.created")  # Stripe knows the subscription
    invoice = scenario.event("invoice.paid")
    checkout = scenario.event("checkout.session.completed.subscription")

    assert status(deliver(invoice)) == 200  # retrieves the subscription from Stripe
    assert status(deliver(checkout)) == 200
    assert status(deliver(created)) == 200

    assert len(fake.calls_to("GET", "/v1/subscriptions/")) == 1
    sub = session.scalars(
        select(UserSubscription).where(UserSubscription.user_id == buyer.id)
    ).one()
    assert sub.status is SubscriptionStatus.ACTIVE
    assert credit_total(session, buyer.id) == 30


def test_invoice_payment_paid_before_invoice_paid_keys_the_payment_by_intent(
    scenario, session, buyer
):
    scenario.event("customer.subscription.created")
    link = scenario.event("invoice_payment.paid")
    invoice = scenario.event("invoice.paid")

    deliver(link)  # retrieves the invoice and records it under the PaymentIntent
    deliver(invoice)

    [payment] = session.scalars(select(Payment).where(Payment.user_id == buyer.id)).all()
    assert payment.payment_intent_id == scenario.id("pi_3SXa9dLkP9aBcDeF0Pay001")
    assert credit_total(session, buyer.id) == 30


def test_unknown_event_type_is_acknowledged_without_the_database(scenario, session):
    before = counts(session)

    response = deliver(scenario.event("unknown.customer.discount.created"))

    assert status(response) == 200
    assert json.loads(response["body"])["outcome"] == "ignored"
    assert counts(session) == before


def test_base64_encoded_body_is_verified_on_the_decoded_bytes(scenario, session, buyer):
    body, signature = StripeFake.sign(scenario.event("customer.subscription.created"))

    response = deliver(body=body, signature=signature, base64_body=True)

    assert status(response) == 200
    assert session.scalar(select(UserSubscription.id).where(UserSubscription.user_id == buyer.id))


@pytest.mark.parametrize(
    "case", ["missing", "garbage", "wrong_secret", "altered_body", "too_old", "no_v1"]
)
def test_bad_or_missing_signature_is_400_and_nothing_is_written(scenario, session, case):
    event = scenario.event("invoice.paid")
    body, signature = StripeFake.sign(event)
    if case == "missing":
        signature = None
    elif case == "garbage":
        signature = "not-a-signature"
    elif case == "wrong_secret":
        body, signature = StripeFake.sign(event, secret="whsec_someone_else")
    elif case == "altered_body":
        body = body.replace('"amount_paid":1900', '"amount_paid":190000')
        assert '"amount_paid":190000' in body
    elif case == "too_old":
        signature = stripe.WebhookSignature.generate_signature_header(
            body, WEBHOOK_SECRET, timestamp=int(time.time()) - 301
        )
    elif case == "no_v1":
        signature = signature.replace("v1=", "v0=")
    before = counts(session)

    response = deliver(body=body, signature=signature)

    assert status(response) == 400
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert json.loads(response["body"])["title"] == "Invalid signature"
    assert counts(session) == before


def test_a_forged_event_is_rejected_before_the_orm_is_imported():
    body, _ = StripeFake.sign(json.loads((Path(EVENTS_DIR) / "invoice.paid.json").read_text()))
    _, forged = StripeFake.sign(json.loads(body), secret="whsec_someone_else")
    event = {
        "version": "2.0",
        "routeKey": "POST /webhooks/stripe",
        "rawPath": "/webhooks/stripe",
        "headers": {"stripe-signature": forged, "content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/stripe"}},
        "body": body,
        "isBase64Encoded": False,
    }
    result = invoke_in_fresh_interpreter(
        "stripe_webhook", event, {"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    )
    assert result == {"status": 400, "imported": []}


def test_same_event_ten_times_in_parallel_grants_once(fresh_db, fake):
    """Real commits on separate connections: the event id row serialises the deliveries."""
    from ecomvideo.db import transaction
    from ecomvideo.services.stripe_customers import link_customer

    with transaction() as session:
        catalog = sync_catalog(session)
        user = make_user(session)
        link_customer(session, user.id, "cus_parallel_1")
        user_id = user.id
    scenario = fake.scenario(
        user_id=str(user_id),
        customer_id="cus_parallel_1",
        prices=catalog.prices,
        plan_id=catalog.plan_ids["Starter"],
        pack_id=catalog.pack_id,
    )
    scenario.event("customer.subscription.created")
    event = scenario.event("invoice.paid")
    body, signature = StripeFake.sign(event)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: deliver(body=body, signature=signature), range(10)))

    assert [status(r) for r in responses] == [200] * 10
    outcomes = sorted(json.loads(r["body"])["outcome"] for r in responses)
    assert outcomes == ["duplicate"] * 9 + ["processed"]
    with transaction() as session:
        assert credit_total(session, user_id) == 30
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
        assert session.scalar(select(func.count()).select_from(StripeEvent)) == 1


def test_without_a_configured_secret_the_webhook_answers_503_for_a_retry(monkeypatch, session):
    from ecomvideo.settings import reset_settings

    for name in ("STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    event = json.loads((Path(EVENTS_DIR) / "invoice.paid.json").read_text())
    before = counts(session)

    response = deliver(event)

    reset_settings()
    assert status(response) == 503
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert counts(session) == before


@pytest.mark.parametrize(
    "body",
    [
        '{"id":"evt_x","type":"invoice.paid","created":' + "9" * 5000 + "}",
        '{"id":"evt_x","type":"invoice.paid","data":' + "[" * 5000 + "]" * 5000 + "}",
    ],
    ids=["5000-digit integer", "5000-deep nesting"],
)
def test_signed_hostile_json_is_a_400_not_a_500(stripe_env, body):
    import stripe as sdk

    signature = sdk.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)

    response = deliver(body=body, signature=signature)

    assert status(response) == 400
    assert json.loads(response["body"])["status"] == 400
