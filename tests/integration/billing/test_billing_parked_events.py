"""No webhook is acknowledged after dropping a paid effect: an event whose parent is unknown
is parked (200, "parked") and applied once the parent arrives. Through the real handler."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ecomvideo import clock
from ecomvideo.clients.stripe_client import MAX_NETWORK_RETRIES
from ecomvideo.enums import InvoiceStatus, PaymentStatus, SubscriptionStatus
from ecomvideo.models import Invoice, Payment, PaymentMethod, UserSubscription
from ecomvideo.models.stripe import StripeEvent, StripeParkedEvent
from ecomvideo.services import stripe_parked
from tests.integration.billing.conftest import (
    credit_total,
    deliver,
    map_price_like,
    scenario_for,
)
from tests.support.scheduled import run_task


@pytest.fixture
def scenario(fake, catalog, buyer):
    """A customer we have never linked to the buyer: only a Checkout teaches us who it is."""
    return scenario_for(fake, catalog, buyer, "cus_parked_" + buyer.id.hex[:12])


def anonymous(event: dict[str, Any]) -> dict[str, Any]:
    """The event without our user id anywhere (metadata, client_reference_id)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v) for k, v in node.items() if k not in ("user_id", "client_reference_id")
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(event)


def outcome(event: dict[str, Any]) -> str:
    response = deliver(event)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])["outcome"]


def parked(session, event: dict[str, Any]) -> StripeParkedEvent:
    session.expire_all()
    return session.scalars(
        select(StripeParkedEvent).where(StripeParkedEvent.event_id == event["id"])
    ).one()


def invoice_payment(session, event: dict[str, Any]) -> Payment:
    session.expire_all()
    invoice_id = event["data"]["object"]["id"]
    return session.scalars(
        select(Payment).where(Payment.meta["stripe_invoice_id"].astext == invoice_id)
    ).one()


def payments(session, buyer) -> list[Payment]:
    session.expire_all()
    return list(session.scalars(select(Payment).where(Payment.user_id == buyer.id)))


def test_paid_pack_checkout_without_our_metadata_is_resolved_from_its_line_items(
    scenario, session, buyer, fake, catalog
):
    event = scenario.event("checkout.session.completed.payment")
    event["data"]["object"]["metadata"] = {}
    fake.line_items[event["data"]["object"]["id"]] = [catalog.prices["pack_100"]]

    assert outcome(event) == "processed"

    assert credit_total(session, buyer.id) == 100
    [payment] = payments(session, buyer)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount == Decimal("29.00")


def test_paid_checkout_of_an_unmapped_price_waits_for_the_mapping(
    scenario, session, buyer, fake, catalog
):
    event = scenario.event("checkout.session.completed.payment")
    event["data"]["object"]["metadata"] = {}
    fake.line_items[event["data"]["object"]["id"]] = ["price_not_mapped_yet"]

    assert outcome(event) == "parked"
    assert credit_total(session, buyer.id) == 0 and payments(session, buyer) == []
    assert parked(session, event).waiting_for == "price:price_not_mapped_yet"

    map_price_like(session, "price_not_mapped_yet", like=catalog.prices["pack_100"])
    assert stripe_parked.reapply_waiting_for("price:price_not_mapped_yet") == 1

    assert credit_total(session, buyer.id) == 100
    assert parked(session, event).state == "applied"


def test_refund_before_the_purchase_is_applied_when_the_purchase_arrives(scenario, session, buyer):
    refund = scenario.event("charge.refunded")
    assert outcome(refund) == "parked"
    assert parked(session, refund).waiting_for.startswith("payment:pi_")

    assert outcome(scenario.event("checkout.session.completed.payment")) == "processed"

    [payment] = payments(session, buyer)
    assert payment.status is PaymentStatus.REFUNDED
    assert payment.refunded_amount == Decimal("29.00")
    assert credit_total(session, buyer.id) == 0  # granted, then clawed back
    assert parked(session, refund).state == "applied"


def test_invoice_of_an_unknown_customer_is_applied_once_checkout_names_the_user(
    scenario, session, buyer
):
    invoice = anonymous(scenario.event("invoice.paid"))
    created = anonymous(scenario.event("customer.subscription.created"))
    attached = anonymous(scenario.event("payment_method.attached"))
    customer = anonymous(scenario.event("customer.updated"))
    pack_failed = anonymous(scenario.event("payment_intent.payment_failed"))
    waiting = (invoice, created, attached, customer, pack_failed)
    for event in waiting:
        assert outcome(event) == "parked", event["type"]
        assert parked(session, event).waiting_for.startswith("customer:cus_parked_")
    assert credit_total(session, buyer.id) == 0

    assert outcome(scenario.event("checkout.session.completed.subscription")) == "processed"

    assert credit_total(session, buyer.id) == 30
    session.expire_all()
    sub = session.scalars(
        select(UserSubscription).where(UserSubscription.user_id == buyer.id)
    ).one()
    assert sub.status is SubscriptionStatus.ACTIVE
    [method] = session.scalars(select(PaymentMethod).where(PaymentMethod.user_id == buyer.id))
    assert method.is_default is True
    [declined] = [p for p in payments(session, buyer) if p.status is PaymentStatus.FAILED]
    assert declined.meta["decline"]["decline_code"] == "insufficient_funds"
    assert {parked(session, e).state for e in waiting} == {"applied"}


def test_checkout_of_an_unknown_customer_waits_until_an_event_names_the_user(
    scenario, session, buyer
):
    checkout = anonymous(scenario.event("checkout.session.completed.payment"))
    assert outcome(checkout) == "parked"

    # The subscription's metadata carries our user id: the customer becomes known.
    assert outcome(scenario.event("customer.subscription.created")) == "processed"

    assert credit_total(session, buyer.id) == 100  # the pack (a subscription alone grants none)
    assert parked(session, checkout).state == "applied"


def test_failed_invoice_of_an_unknown_customer_is_applied_later(scenario, session, buyer, mailbox):
    scenario.event("customer.subscription.created")  # Stripe knows the subscription
    failed = anonymous(scenario.event("invoice.payment_failed"))
    assert outcome(failed) == "parked"
    assert mailbox == []

    assert outcome(scenario.event("checkout.session.completed.subscription")) == "processed"

    [payment] = [p for p in payments(session, buyer) if p.status is PaymentStatus.FAILED]
    assert payment.failure_reason
    assert [m.tag for m in mailbox] == ["payment-failed"]


def test_subscription_on_an_unmapped_price_waits_for_the_mapping(scenario, session, buyer):
    event = scenario.event("customer.subscription.created")
    event["data"]["object"]["items"]["data"][0]["price"]["id"] = "price_unmapped_plan"
    event["data"]["object"]["metadata"].pop("plan_id", None)

    assert outcome(event) == "parked"
    assert parked(session, event).waiting_for == "price:price_unmapped_plan"


def test_invoice_payment_before_the_invoice_is_paid_waits_for_it(scenario, session, buyer, fake):
    subscribe = [
        scenario.event("customer.subscription.created"),
        scenario.event("checkout.session.completed.subscription"),
    ]
    link = scenario.event("invoice_payment.paid")
    invoice = scenario.event("invoice.paid")
    fake.invoices[invoice["data"]["object"]["id"]]["status"] = "open"  # not paid yet in Stripe
    for event in subscribe:
        outcome(event)

    assert outcome(link) == "parked"
    assert parked(session, link).waiting_for.startswith("invoice:in_")
    assert outcome(invoice) == "processed"

    [payment] = payments(session, buyer)
    assert payment.payment_intent_id == scenario.id("pi_3SXa9dLkP9aBcDeF0Pay001")
    assert parked(session, link).state == "applied"


def test_pack_payment_intent_without_pack_metadata_waits_for_its_checkout(
    scenario, session, buyer, fake, catalog
):
    succeeded = scenario.event("payment_intent.succeeded")
    succeeded["data"]["object"]["metadata"].pop("credit_pack_id")
    checkout = scenario.event("checkout.session.completed.payment")

    assert outcome(succeeded) == "parked"
    assert outcome(checkout) == "processed"

    assert credit_total(session, buyer.id) == 100
    assert parked(session, succeeded).state == "applied"


def test_failed_pack_payment_keeps_the_decline_reason(scenario, session, buyer):
    outcome(scenario.event("checkout.session.completed.payment"))  # links the customer
    failed = scenario.event("payment_intent.payment_failed")
    failed["data"]["object"]["id"] += "F"

    assert outcome(failed) == "processed"

    payment = session.scalars(
        select(Payment).where(Payment.payment_intent_id == failed["data"]["object"]["id"])
    ).one()
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_reason == "Your card has insufficient funds."
    assert payment.meta["decline"] == {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }


def test_a_late_failure_of_a_paid_pack_payment_does_not_mark_it_failed(scenario, session, buyer):
    outcome(scenario.event("checkout.session.completed.payment"))
    outcome(scenario.event("payment_intent.payment_failed"))  # the same PaymentIntent

    [payment] = payments(session, buyer)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert credit_total(session, buyer.id) == 100


def test_a_transient_stripe_error_answers_500_and_stores_nothing(scenario, session, fake):
    event = scenario.event("checkout.session.completed.subscription")
    fake.subscriptions.clear()  # the subscription has to be retrieved
    scenario.event("customer.subscription.created", remember=True)
    fake.fail_next.extend([(500, "api_error")] * (MAX_NETWORK_RETRIES + 1))  # past the retries

    assert deliver(event)["statusCode"] == 500
    session.expire_all()
    assert session.get(StripeEvent, event["id"]) is None  # Stripe's retry is processed

    assert outcome(event) == "processed"


def test_scheduled_sweep_applies_what_became_resolvable_and_counts_the_overdue(
    scenario, session, buyer, catalog
):
    waiting = scenario.event("customer.subscription.created")
    waiting["data"]["object"]["items"]["data"][0]["price"]["id"] = "price_swept"
    waiting["data"]["object"]["metadata"].pop("plan_id", None)
    stuck = anonymous(scenario.event("payment_method.attached"))
    stuck["data"]["object"]["customer"] = "cus_nobody_knows"
    assert outcome(waiting) == "parked" and outcome(stuck) == "parked"
    row = parked(session, stuck)
    row.created_at = clock.utcnow() - timedelta(hours=30)
    session.commit()
    map_price_like(session, "price_swept", like=catalog.prices["starter_monthly"])

    result = run_task("stripe_parked")  # the scheduled cleanup function (alarm after 6 h)

    counts = result["counts"]
    assert counts["events_overdue"] == 1 and counts["events_applied"] >= 1
    assert counts["events_still_parked"] >= 1  # other tests' parked events share the table
    assert parked(session, waiting).state == "applied"
    assert parked(session, stuck).attempts == 1


def test_redelivery_of_a_parked_event_is_a_duplicate(scenario, session):
    refund = scenario.event("charge.refunded")
    assert outcome(refund) == "parked"
    assert outcome(refund) == "duplicate"


def test_late_failure_of_a_paid_invoice_changes_nothing_and_mails_nobody(
    fake, catalog, buyer, session, mailbox
):
    from tests.integration.billing.test_billing_stories import subscribe

    scenario = subscribe(fake, catalog, buyer, session)
    failed = scenario.event("invoice.payment_failed")
    paid = scenario.event("invoice.paid")
    for key in ("id", "number"):
        paid["data"]["object"][key] = failed["data"]["object"][key]
    paid["data"]["object"]["parent"] = failed["data"]["object"]["parent"]
    paid["created"] = failed["created"] + 60
    paid["id"] += "L"
    assert outcome(paid) == "processed"

    assert outcome(failed) == "processed"

    payment = invoice_payment(session, failed)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.failure_reason is None
    invoice = session.scalars(select(Invoice).where(Invoice.payment_id == payment.id)).one()
    assert invoice.status is InvoiceStatus.PAID
    assert mailbox == []


def test_dunning_mails_once_per_attempt_whatever_the_order(fake, catalog, buyer, session, mailbox):
    from tests.integration.billing.test_billing_stories import subscribe

    scenario = subscribe(fake, catalog, buyer, session)
    past_due = scenario.event("customer.subscription.updated.past_due")
    first = scenario.event("invoice.payment_failed")
    again = scenario.event("invoice.payment_failed")
    again["id"] += "B"  # another event about the same attempt
    second = scenario.event("invoice.payment_failed", at=first["created"] + 86400)
    second["id"] += "2"
    retry_at = first["created"] + 3 * 86400
    second["data"]["object"].update(attempt_count=2, next_payment_attempt=retry_at)

    for event in (past_due, first, again, second):  # past_due first used to suppress the mail
        assert outcome(event) == "processed"

    assert [m.tag for m in mailbox] == ["payment-failed", "payment-failed"]
    payment = invoice_payment(session, first)
    assert payment.meta["dunning_notified_attempts"] == [1, 2]
    invoice = session.scalars(select(Invoice).where(Invoice.payment_id == payment.id)).one()
    assert invoice.meta["attempt_count"] == 2
    assert invoice.meta["next_payment_attempt"] == first["created"] + 3 * 86400


def test_cancellation_details_are_kept(fake, catalog, buyer, session):
    from tests.integration.billing.test_billing_stories import subscribe

    scenario = subscribe(fake, catalog, buyer, session)
    deleted = scenario.event("customer.subscription.deleted")
    deleted["data"]["object"]["cancellation_details"] = {
        "reason": "cancellation_requested",
        "feedback": "too_expensive",
        "comment": "Back after the holidays",
    }

    assert outcome(deleted) == "processed"

    session.expire_all()
    sub = session.scalars(
        select(UserSubscription).where(UserSubscription.user_id == buyer.id)
    ).one()
    assert sub.status is SubscriptionStatus.CANCELLED
    assert sub.meta["cancellation_details"] == {
        "reason": "cancellation_requested",
        "feedback": "too_expensive",
        "comment": "Back after the holidays",
    }


def test_failed_renewal_keeps_the_decline_of_its_payment_intent_in_any_order(
    fake, catalog, buyer, session, mailbox
):
    from tests.integration.billing.test_billing_stories import subscribe

    scenario = subscribe(fake, catalog, buyer, session)
    failed = scenario.event("invoice.payment_failed")
    attempt = scenario.event("payment_intent.payment_failed", remember=False)
    attempt["id"] += "S"
    pi = attempt["data"]["object"]
    pi.update(id=pi["id"] + "Sub", metadata={})  # a subscription's PaymentIntent
    link = scenario.event("invoice_payment.paid", remember=False)
    link["data"]["object"].update(
        id=link["data"]["object"]["id"] + "F",
        invoice=failed["data"]["object"]["id"],
        status="open",
        payment={"type": "payment_intent", "payment_intent": pi["id"]},
    )
    fake.remember(attempt)
    fake.remember(link)

    assert outcome(attempt) == "processed"  # before the invoice: nothing to attach it to yet
    assert outcome(failed) == "processed"

    payment = invoice_payment(session, failed)
    assert payment.payment_intent_id == pi["id"]  # re-keyed: later events find it
    assert payment.failure_reason == "Your card has insufficient funds."
    assert payment.meta["decline"]["decline_code"] == "insufficient_funds"


def test_detach_before_attach_leaves_the_method_detached(scenario, session, buyer):
    outcome(scenario.event("checkout.session.completed.payment"))  # links the customer
    detached = scenario.event("payment_method.detached")
    detached["data"]["previous_attributes"] = {"customer": scenario.customer_id}

    assert outcome(detached) == "parked"
    assert outcome(scenario.event("payment_method.attached")) == "processed"

    session.expire_all()
    [method] = session.scalars(select(PaymentMethod).where(PaymentMethod.user_id == buyer.id))
    assert (method.is_active, method.is_default) == (False, False)
    assert parked(session, detached).state == "applied"


def test_an_older_default_card_choice_does_not_override_a_newer_one(scenario, session, buyer):
    first = scenario.event("payment_method.attached")
    second = scenario.event("payment_method.attached")
    second["id"] += "2"
    second["data"]["object"]["id"] += "2"
    older = scenario.event("customer.updated")
    newer = scenario.event("customer.updated", at=older["created"] + 60)
    newer["id"] += "2"
    newer["data"]["object"]["invoice_settings"]["default_payment_method"] += "2"
    outcome(scenario.event("checkout.session.completed.payment"))  # links the customer

    for event in (first, second, newer, older):  # the older choice arrives last
        assert outcome(event) == "processed"

    session.expire_all()
    defaults = session.scalars(
        select(PaymentMethod.external_id).where(
            PaymentMethod.user_id == buyer.id, PaymentMethod.is_default.is_(True)
        )
    ).all()
    assert defaults == [second["data"]["object"]["id"]]
