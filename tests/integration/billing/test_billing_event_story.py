"""A full billing lifecycle of two customers as one Stripe event stream, replayed through the
real webhook handler in order, in every single-swap reordering (each pair of neighbours
exchanged) and fully duplicated: every replay must end in the same final state
(subscriptions, invoices, payments with refunds, credits, payment methods, mails).

Customer A: card, subscription (Starter), first invoice, default card, a credit pack bought
through a Checkout without our metadata (resolved from its line items) and partly refunded,
an upgrade to Pro with its invoice, a failed renewal (decline), past due, a new card, the
recovery, cancellation at period end with feedback, the end of the subscription, the old card
detached. Customer B: a trial (no payment), its $0 invoice, the trial-ending notice.

The events are built from the payload files (Stripe's current API shapes) with coherent ids,
times in the past (Stripe's current objects, which the handlers may retrieve, are newer than
every event) and the fake remembering the newest object of each id.
"""

from __future__ import annotations

import copy
import time
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from ecomvideo.models import Invoice, Payment, PaymentMethod, UsageCredit, UserSubscription
from ecomvideo.models.stripe import StripeParkedEvent
from tests.fakes.stripe_fake import Scenario
from tests.integration.billing.conftest import deliver
from tests.support.factories import make_user

DAY = 86400


def _set_price(obj: dict[str, Any], price: dict[str, Any]) -> None:
    """Point a subscription's item or an invoice's subscription line at ``price``."""
    for item in (obj.get("items") or {}).get("data") or []:
        item["price"] = copy.deepcopy(price)
    for line in (obj.get("lines") or {}).get("data") or []:
        line["pricing"]["price_details"]["price"] = price["id"]
        line["amount"] = price["unit_amount"]


class Story:
    def __init__(self, fake, catalog, session) -> None:
        self.fake, self.catalog = fake, catalog
        self.users = [make_user(session, first_name=n) for n in ("Ada", "Bea")]
        session.commit()
        past = int(time.time()) - 90 * DAY  # the whole story is over when it is replayed
        self.a, self.b = (
            fake.scenario(
                user_id=str(user.id),
                customer_id=f"cus_story_{user.id.hex[:12]}",
                prices=catalog.prices,
                plan_id=catalog.plan_ids["Starter"],
                pack_id=catalog.pack_id,
                now=past,
            )
            for user in self.users
        )
        self.events: list[dict[str, Any]] = []
        self._build()
        self.events.sort(key=lambda e: e["created"])
        for event in self.events:  # Stripe's current objects: the newest of each
            fake.remember(event)

    def add(
        self, sc: Scenario, name: str, offset: int, suffix: str = "", change: Any = None
    ) -> dict[str, Any]:
        event = sc.event(name, at=sc.now + offset, remember=False)
        event["id"] += suffix
        if change is not None:
            change(event["data"]["object"])
        self.events.append(event)
        return event

    def _build(self) -> None:
        a, b = self.a, self.b
        pro = self.pro_price()
        # Customer A: subscribe.
        self.add(a, "payment_method.attached", 0)
        self.add(a, "customer.subscription.created", 10)
        self.add(a, "checkout.session.completed.subscription", 12)
        self.add(a, "invoice.paid", 13)
        self.add(a, "invoice_payment.paid", 14)
        self.add(a, "customer.updated", 15)
        # A credit pack, bought without our metadata, then partly refunded.
        checkout = self.add(
            a, "checkout.session.completed.payment", 100, change=lambda o: o.update(metadata={})
        )
        self.fake.line_items[checkout["data"]["object"]["id"]] = [self.catalog.prices["pack_100"]]
        self.add(a, "payment_intent.succeeded", 101)
        self.add(
            a,
            "charge.refunded",
            2 * DAY,
            change=lambda o: o.update(amount_refunded=1000, refunded=False),
        )

        # Upgrade to Pro and its prorated invoice.
        def upgrade_invoice(inv: dict[str, Any]) -> None:
            inv.update(id=inv["id"] + "U", number=inv["number"] + "U")
            inv["billing_reason"] = "subscription_update"
            _set_price(inv, pro)

        self.add(a, "customer.subscription.updated", 10 * DAY)
        self.add(a, "invoice.paid", 10 * DAY + 5, suffix="U", change=upgrade_invoice)
        # The renewal fails, the customer adds a card, the retry succeeds.
        renewal = 30 * DAY

        def failed(inv: dict[str, Any]) -> None:
            _set_price(inv, pro)
            inv.update(next_payment_attempt=a.now + renewal + 3 * DAY)

        failure = self.add(a, "invoice.payment_failed", renewal + 30, change=failed)
        self.add(
            a,
            "customer.subscription.updated.past_due",
            renewal + 60,
            change=lambda o: _set_price(o, pro),
        )
        self.add(
            a,
            "payment_method.attached",
            renewal + 600,
            suffix="N",
            change=lambda o: o.update(id=o["id"] + "N", card={**o["card"], "last4": "0005"}),
        )
        self.add(
            a,
            "customer.updated",
            renewal + 610,
            suffix="N",
            change=lambda o: o["invoice_settings"].update(
                default_payment_method=o["invoice_settings"]["default_payment_method"] + "N"
            ),
        )

        def recovered(inv: dict[str, Any]) -> None:
            _set_price(inv, pro)
            inv.update(
                status="paid",
                amount_paid=inv["amount_due"],
                amount_remaining=0,
                attempt_count=2,
                next_payment_attempt=None,
            )
            inv["status_transitions"]["paid_at"] = a.now + renewal + DAY

        self.add(a, "invoice.payment_failed", renewal + DAY, suffix="R", change=recovered)
        self.events[-1]["type"] = "invoice.paid"
        assert failure["data"]["object"]["id"] == self.events[-1]["data"]["object"]["id"]

        def active(o: dict[str, Any]) -> None:
            _set_price(o, pro)
            o["status"] = "active"

        past_due = "customer.subscription.updated.past_due"
        self.add(a, past_due, renewal + DAY + 1, suffix="R", change=active)
        # Cancel at period end, with feedback; the subscription ends; the old card goes.
        self.add(
            a,
            "customer.subscription.updated.cancel_at_period_end",
            renewal + 2 * DAY,
            change=lambda o: _set_price(o, pro),
        )

        def ended(o: dict[str, Any]) -> None:
            _set_price(o, pro)
            o["cancellation_details"] = {
                "reason": "cancellation_requested",
                "feedback": "too_expensive",
                "comment": None,
            }

        self.add(a, "customer.subscription.deleted", 60 * DAY, change=ended)
        self.add(a, "payment_method.detached", 60 * DAY + 100)

        # Customer B: a trial without payment.
        def trial_invoice(inv: dict[str, Any]) -> None:
            for key in ("amount_due", "amount_paid", "total", "subtotal"):
                inv[key] = 0
            inv["lines"]["data"][0]["amount"] = 0

        self.add(b, "customer.subscription.created.trial", 20)
        self.add(b, "invoice.paid", 21, change=trial_invoice)
        self.add(b, "checkout.session.completed.subscription_trial", 22)
        self.add(b, "customer.subscription.trial_will_end", 4 * DAY)

    def pro_price(self) -> dict[str, Any]:
        event = self.a.event("customer.subscription.updated", remember=False)
        return event["data"]["object"]["items"]["data"][0]["price"]

    # ------------------------------------------------------------------------ final state

    def state(self, session, mailbox) -> dict[str, Any]:
        session.expire_all()
        tags = [self.a.tag, self.b.tag, self.a.customer_id, self.b.customer_id]
        bases = {str(u.id): sc.now for u, sc in zip(self.users, (self.a, self.b), strict=True)}

        def plain(value: Any, base: int) -> Any:
            if isinstance(value, datetime):
                return int(value.timestamp()) - base
            if isinstance(value, int) and 1_700_000_000 < value < 2_000_000_000:
                return value - base  # a Unix time kept in metadata
            if isinstance(value, str):
                for tag in tags:
                    value = value.replace(tag, "")
                return value
            if isinstance(value, dict):
                return {k: plain(v, base) for k, v in value.items() if k != "stripe_state_at"}
            return value

        def rows(model, columns, user_id, base, join=None) -> list:
            stmt = select(model)
            stmt = stmt.join(*join) if join else stmt
            stmt = stmt.where((join[0] if join else model).user_id == user_id)
            found = [
                tuple(plain(getattr(r, c), base) for c in columns) for r in session.scalars(stmt)
            ]
            return sorted(found, key=repr)

        final: dict[str, Any] = {}
        for user in self.users:
            base = bases[str(user.id)]
            final[user.first_name] = {
                "subscriptions": rows(
                    UserSubscription,
                    (
                        "status",
                        "billing_cycle",
                        "price_paid",
                        "auto_renew",
                        "started_at",
                        "ends_at",
                        "trial_ends_at",
                        "cancelled_at",
                        "meta",
                    ),
                    user.id,
                    base,
                ),
                "plans": sorted(
                    s.plan.name
                    for s in session.scalars(
                        select(UserSubscription).where(UserSubscription.user_id == user.id)
                    )
                ),
                "payments": rows(
                    Payment,
                    (
                        "payment_intent_id",
                        "amount",
                        "refunded_amount",
                        "status",
                        "failure_reason",
                        "description",
                        "meta",
                    ),
                    user.id,
                    base,
                ),
                "invoices": rows(
                    Invoice,
                    ("invoice_number", "amount", "status", "due_at", "meta"),
                    user.id,
                    base,
                    join=(Payment, Payment.id == Invoice.payment_id),
                ),
                "credits": rows(
                    UsageCredit, ("amount", "used_amount", "source", "is_active"), user.id, base
                ),
                "payment_methods": rows(
                    PaymentMethod,
                    ("external_id", "brand", "last_four_digits", "is_default", "is_active"),
                    user.id,
                    base,
                ),
                "mails": sorted(m.tag for m in mailbox if m.to == user.email),
            }
        final["parked"] = sorted(
            session.scalars(
                select(StripeParkedEvent.event_id).where(
                    StripeParkedEvent.state == "parked",
                    StripeParkedEvent.stripe_customer_id.in_(
                        [self.a.customer_id, self.b.customer_id]
                    ),
                )
            )
        )
        return final


def replay(story: Story, order: list[int]) -> None:
    for index in order:
        response = deliver(story.events[index])
        assert response["statusCode"] == 200, (story.events[index]["type"], response["body"])


def swaps(n: int) -> list[list[int]]:
    """The in-order sequence with one pair of neighbours exchanged, for every pair."""
    orders = []
    for i in range(n - 1):
        order = list(range(n))
        order[i], order[i + 1] = order[i + 1], order[i]
        orders.append(order)
    return orders


@pytest.fixture
def new_story(fake, catalog, session, mailbox):
    def make() -> Story:
        return Story(fake, catalog, session)

    return make


def test_the_story_in_order_ends_where_it_should(new_story, session, mailbox):
    story = new_story()
    assert len(story.events) == 24

    replay(story, list(range(len(story.events))))

    final = story.state(session, mailbox)
    ada, bea = final["Ada"], final["Bea"]
    assert [s[0] for s in ada["subscriptions"]] == ["Cancelled"]
    assert ada["plans"] == ["Pro"]
    assert ada["subscriptions"][0][-1]["cancellation_details"]["feedback"] == "too_expensive"
    assert ada["mails"] == ["payment-failed"]
    pack = next(p for p in ada["payments"] if p[6].get("kind") == "credit_pack")
    assert (pack[1], pack[2], pack[3]) == (29, 10, "Succeeded")  # partly refunded
    renewal = next(i for i in ada["invoices"] if i[4].get("attempt_count") == 2)
    assert renewal[2] == "Paid" and renewal[4]["next_payment_attempt"] is None
    assert sorted((c[0], c[2]) for c in ada["credits"]) == [
        (30, "Subscription"),
        (70, "Subscription"),  # the upgrade tops up to Pro's 100
        (100, "Purchase"),
        (100, "Subscription"),  # the recovered renewal
    ]
    assert sorted((m[2], m[3], m[4]) for m in ada["payment_methods"]) == [
        ("0005", True, True),
        ("4242", False, False),
    ]
    assert [s[0] for s in bea["subscriptions"]] == ["Trial"]
    assert [(c[0], c[2]) for c in bea["credits"]] == [(30, "Subscription")]
    assert bea["mails"] == ["trial-ending"]
    assert final["parked"] == []


def test_every_single_swap_and_full_duplication_converge_to_the_same_state(
    new_story, session, mailbox
):
    reference = new_story()
    replay(reference, list(range(len(reference.events))))
    expected = reference.state(session, mailbox)

    for order in swaps(len(reference.events)):
        story = new_story()
        replay(story, order)
        swapped = [story.events[i]["type"] for i in order if order[i] != i]
        assert story.state(session, mailbox) == expected, swapped

    story = new_story()
    n = len(story.events)
    replay(story, [i for i in range(n) for _ in range(2)])  # each event twice in a row
    replay(story, list(range(n)))  # and the whole stream once more
    assert story.state(session, mailbox) == expected
