"""Billing test harness: the real handlers, a fake Stripe at the HTTP layer, signed events."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import func, select

from devserver.events import LambdaContext
from ecomvideo.models import UsageCredit
from tests.fakes.stripe_fake import API_KEY, WEBHOOK_SECRET, StripeFake
from tests.support import api
from tests.support.factories import make_user, plan_named


def load_function(name: str) -> ModuleType:
    """functions/<name>/app.py, once per test session (a warm container)."""
    return api.load_function(name)


def context(name: str) -> LambdaContext:
    return LambdaContext(name, memory_mb=256, timeout_s=30, region="us-east-1")


@pytest.fixture
def stripe_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from ecomvideo.services import system_settings
    from ecomvideo.settings import reset_settings

    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.delenv("STRIPE_SECRET_ARN", raising=False)
    reset_settings()
    system_settings.clear_cache()
    yield
    reset_settings()
    system_settings.clear_cache()


@pytest.fixture
def fake(stripe_env: None) -> Iterator[StripeFake]:
    stripe = StripeFake()
    with stripe.running():
        yield stripe


class Mailbox(list[Any]):
    """Billing emails as the SES client would have received them. Reading the list first runs
    the queued ``billing.email`` jobs (what the jobs worker does), so a test sees what was
    sent by then."""

    def _drain(self) -> None:
        from ecomvideo.services import billing_mail, jobs

        jobs.work(job_types=[billing_mail.JOB_TYPE])

    def __iter__(self) -> Iterator[Any]:
        self._drain()
        return super().__iter__()

    def __len__(self) -> int:
        self._drain()
        return super().__len__()

    def __eq__(self, other: object) -> bool:
        self._drain()
        return list(super().__iter__()) == other

    __hash__ = None  # type: ignore[assignment]  # a list: mutable, unhashable

    def send(self, message: Any) -> str:
        self.append(message)
        return f"msg-{super().__len__()}"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """Billing emails, captured at the email client instead of SES."""
    from ecomvideo.clients import email

    box = Mailbox()
    email.set_email_client(box)  # type: ignore[arg-type]  # duck-typed: send() only
    yield box
    email.set_email_client(None)


@dataclass
class Catalog:
    prices: dict[str, str]
    plan_ids: dict[str, str]
    pack_id: str


def sync_catalog(session: Any) -> Catalog:
    from ecomvideo.models.stripe import CreditPack, StripePrice
    from ecomvideo.services import stripe_sync

    stripe_sync.sync(session)
    prices: dict[str, str] = {}
    for row in session.scalars(select(StripePrice).where(StripePrice.is_active.is_(True))):
        if row.credit_pack_id:
            pack = session.get(CreditPack, row.credit_pack_id)
            prices[pack.code] = row.stripe_price_id
        else:
            plan = session.get(type(plan_named(session, "Pro")), row.subscription_plan_id)
            prices[f"{plan.name.lower()}_{row.billing_cycle.value.lower()}"] = row.stripe_price_id
    pack = session.scalars(select(CreditPack).where(CreditPack.code == "pack_100")).one()
    plan_ids = {n: str(plan_named(session, n).id) for n in ("Starter", "Pro", "Business")}
    return Catalog(prices=prices, plan_ids=plan_ids, pack_id=str(pack.id))


@pytest.fixture
def catalog(db: Any, session: Any, fake: StripeFake) -> Catalog:
    catalog = sync_catalog(session)
    session.commit()
    return catalog


def scenario_for(fake: StripeFake, catalog: Catalog, user: Any, customer_id: str) -> Any:
    """The payload files personalised for ``user`` as Stripe customer ``customer_id``."""
    return fake.scenario(
        user_id=str(user.id),
        customer_id=customer_id,
        prices=catalog.prices,
        plan_id=catalog.plan_ids["Starter"],
        pack_id=catalog.pack_id,
    )


def map_price_like(session: Any, new_price_id: str, like: str) -> None:
    """Map another Stripe price to what ``like`` sells (a plan and cycle, or a pack)."""
    from ecomvideo.models.stripe import StripePrice

    model = session.get(StripePrice, like)
    session.add(
        StripePrice(
            stripe_price_id=new_price_id,
            stripe_product_id=model.stripe_product_id,
            subscription_plan_id=model.subscription_plan_id,
            billing_cycle=model.billing_cycle,
            credit_pack_id=model.credit_pack_id,
            unit_amount=model.unit_amount,
        )
    )
    session.commit()


def deliver(
    event: dict[str, Any] | None = None,
    *,
    body: str | None = None,
    signature: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """POST a Stripe event to the real webhook handler as API Gateway would."""
    if event is not None and body is None:
        body, signature = StripeFake.sign(event)
    headers = [("content-type", "application/json; charset=utf-8"), ("user-agent", "Stripe/1.0")]
    if signature is not None:
        headers.append(("stripe-signature", signature))
    api_event = api.webhook_event("/webhooks/stripe", body or "", headers)
    if base64_body:
        api_event["body"] = base64.b64encode((body or "").encode()).decode()
        api_event["isBase64Encoded"] = True
    return load_function("stripe_webhook").lambda_handler(api_event, context("StripeWebhook"))


def call_api(
    method: str,
    path: str,
    *,
    user_id: uuid.UUID | None,
    body: dict[str, Any] | None = None,
    roles: str = "User",
    function: str = "billing",
    query: str = "",
) -> tuple[int, Any]:
    """Call a function's real handler (billing by default); returns (status, parsed body)."""
    caller = api.as_user(user_id, *roles.split(","))
    response = api.Api(caller, source_ip="127.0.0.1", user_agent=None).call(
        method, path, function=function, body=body, query=query
    )
    return response.status, response.json()


def credit_total(session: Any, user_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(UsageCredit.amount), 0)).where(
                UsageCredit.user_id == user_id, UsageCredit.is_active.is_(True)
            )
        )
    )


@pytest.fixture
def buyer(session: Any) -> Any:
    user = make_user(session, first_name="Ada")
    session.commit()
    return user
