"""Billing admin through the real handler: price mapping, sync with Stripe (the fake at the
HTTP layer), and the parked Stripe events list."""

from __future__ import annotations

import json
import uuid

import pytest

from ecomvideo.models.stripe import StripePrice
from tests.integration.billing.conftest import call_api, credit_total, deliver, scenario_for

ADMIN = "billing_admin"


def admin(method: str, path: str, user, *, roles="Admin", **kw):
    """Call the billing admin function (the template's route for ``path``)."""
    return call_api(method, path, user_id=user.id, roles=roles, function=ADMIN, **kw)


def new_stripe_price(fake, *, interval: str | None, amount: int = 4900, metadata=None) -> str:
    product = fake._new_id("prod")
    fake.products[product] = {"id": product, "object": "product", "active": True}
    price_id = fake._new_id("price")
    fake.prices[price_id] = {
        "id": price_id,
        "object": "price",
        "active": True,
        "currency": "usd",
        "product": product,
        "unit_amount": amount,
        "metadata": metadata or {},
        "type": "recurring" if interval else "one_time",
        "recurring": {"interval": interval, "interval_count": 1} if interval else None,
    }
    return price_id


def map_price(user, price_id: str, body: dict, roles: str = "Admin"):
    path = f"/v1/admin/stripe-prices/{price_id}"
    return admin("PUT", path, user, body=body, roles=roles)


def test_price_mapping_needs_the_admin_role(fake, catalog, buyer):
    price_id = new_stripe_price(fake, interval=None)
    status, body = map_price(buyer, price_id, {"credit_pack_id": catalog.pack_id}, roles="User")
    assert status == 403, body


def test_mapping_a_one_time_price_to_a_pack_applies_the_purchase_waiting_for_it(
    fake, catalog, buyer, session
):
    price_id = new_stripe_price(fake, interval=None, amount=2900)
    scenario = scenario_for(fake, catalog, buyer, "cus_admin_" + buyer.id.hex[:12])
    checkout = scenario.event("checkout.session.completed.payment")
    checkout["data"]["object"]["metadata"] = {}
    fake.line_items[checkout["data"]["object"]["id"]] = [price_id]
    assert json.loads(deliver(checkout)["body"])["outcome"] == "parked"

    status, body = map_price(buyer, price_id, {"credit_pack_id": catalog.pack_id})

    assert status == 200, body
    assert body["credit_pack_id"] == catalog.pack_id and body["unit_amount"] == 2900
    assert body["reapplied_events"] == 1
    assert credit_total(session, buyer.id) == 100


def test_mapping_a_recurring_price_to_a_plan_checks_the_cycle(fake, catalog, buyer, session):
    price_id = new_stripe_price(fake, interval="year")
    plan = catalog.plan_ids["Pro"]

    status, body = map_price(buyer, price_id, {"plan_id": plan, "billing_cycle": "Monthly"})
    assert status == 422, body

    status, body = map_price(buyer, price_id, {"plan_id": plan, "billing_cycle": "Yearly"})
    assert status == 200, body
    row = session.get(StripePrice, price_id)
    assert (str(row.subscription_plan_id), row.billing_cycle.value) == (plan, "Yearly")


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"plan_id": str(uuid.uuid4())},
        {"credit_pack_id": str(uuid.uuid4()), "plan_id": str(uuid.uuid4())},
        {"credit_pack_id": str(uuid.uuid4()), "billing_cycle": "Monthly"},
    ],
)
def test_a_mapping_names_exactly_one_target(fake, catalog, buyer, payload):
    price_id = new_stripe_price(fake, interval=None)
    status, body = map_price(buyer, price_id, payload)
    assert status == 422, body


def test_mapping_a_price_stripe_does_not_have_is_404(fake, catalog, buyer):
    status, body = map_price(buyer, "price_missing", {"credit_pack_id": catalog.pack_id})
    assert status == 404, body


def test_mapping_a_recurring_price_to_a_pack_is_refused(fake, catalog, buyer):
    price_id = new_stripe_price(fake, interval="month")
    status, body = map_price(buyer, price_id, {"credit_pack_id": catalog.pack_id})
    assert status == 422, body


def test_sync_pulls_prices_refreshes_known_ones_and_lists_the_unmapped(
    fake, catalog, buyer, session
):
    known = catalog.prices["starter_monthly"]
    fake.prices[known]["active"] = False  # archived in the Stripe dashboard
    by_metadata = new_stripe_price(
        fake,
        interval="month",
        amount=5900,
        metadata={"subscription_plan_id": catalog.plan_ids["Pro"], "billing_cycle": "Monthly"},
    )
    stranger = new_stripe_price(fake, interval=None, amount=500)

    status, body = admin("POST", "/v1/admin/billing/sync", buyer, body={})

    assert status == 200, body
    assert body["mapped"] == [by_metadata]
    assert body["updated"] == [known]
    assert [u["stripe_price_id"] for u in body["unmapped"]] == [stranger]
    session.expire_all()
    assert session.get(StripePrice, known).is_active is False
    learnt = session.get(StripePrice, by_metadata)
    assert (str(learnt.subscription_plan_id), learnt.unit_amount) == (catalog.plan_ids["Pro"], 5900)


def test_sync_can_push_our_catalogue_first(fake, catalog, buyer, session):
    # The catalog fixture pushed once already: a second push changes nothing.
    status, body = admin("POST", "/v1/admin/billing/sync", buyer, body={"push": True})

    assert status == 200, body
    assert body["pushed"]["prices_created"] == []
    assert len(body["unchanged"]) == len(catalog.prices)


def test_parked_events_are_listed_with_cursor_pagination_and_can_be_retried(
    fake, catalog, buyer, session
):
    scenario = scenario_for(fake, catalog, buyer, "cus_list_" + buyer.id.hex[:12])
    refunds = []
    for n in range(3):
        refund = scenario.event("charge.refunded")
        refund["id"] += f"P{n}"
        refund["data"]["object"]["payment_intent"] += f"P{n}"
        assert json.loads(deliver(refund)["body"])["outcome"] == "parked"
        refunds.append(refund)

    seen, cursor = [], None
    while True:
        query = f"state=parked&limit=2{'&cursor=' + cursor if cursor else ''}"
        status, body = admin("GET", "/v1/admin/billing/events", buyer, query=query)
        assert status == 200, body
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    mine = [e for e in seen if e["stripe_customer_id"] == scenario.customer_id]
    assert sorted(e["event_id"] for e in mine) == sorted(r["id"] for r in refunds)
    assert all(e["waiting_for"].startswith("payment:pi_") for e in mine)

    status, body = admin("POST", f"/v1/admin/billing/events/{mine[0]['id']}/retry", buyer)
    assert status == 200, body
    assert body["state"] == "parked" and body["attempts"] == 1

    status, body = admin("GET", "/v1/admin/billing/events", buyer, query="state=nonsense")
    assert status == 422, body


def test_sync_without_a_body_only_pulls(fake, catalog, buyer):
    status, body = admin("POST", "/v1/admin/billing/sync", buyer)

    assert status == 200, body
    assert body["pushed"] is None and body["mapped"] == [] and body["reapplied_events"] == 0
