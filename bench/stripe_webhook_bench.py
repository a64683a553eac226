"""Stripe webhook throughput: events per second through the real handler.

    .venv/bin/python bench/stripe_webhook_bench.py [--n 300]

Each delivery is an API Gateway v2 event signed with the SDK's helper and handled in-process by
``functions/stripe_webhook/app.py`` (signature check, then one PostgreSQL transaction on the
project's local server, scratch database ``ecomvideo_bench_stripe``). Payloads are the files of
``events/stripe/`` personalised per customer. Measured, sequentially (one Lambda container):

* processed:  ``customer.subscription.created`` + ``invoice.paid`` (subscription upsert, payment,
  invoice, credit grant) for N distinct customers;
* duplicate:  the same events again (event id already stored: a no-op transaction);
* ignored:    a type we do not handle (no database);
* rejected:   a bad signature (no database).
No Stripe API call is made (every subscription is known before its invoice).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
sys.path[:0] = [str(LAYER), str(ROOT)]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")  # no log line per event in the timing
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EcomVideoBench")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "stripe-webhook-bench")

BENCH_DB = "ecomvideo_bench_stripe"


def _prepare_database() -> str:
    """A fresh scratch database, migrated and seeded."""
    from devserver.pg import scratch_database

    return scratch_database(BENCH_DB)


def _load(function: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"_bench_{function}", ROOT / "functions" / function / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _setup(n: int) -> list[Any]:
    from sqlalchemy import select

    from ecomvideo.db import transaction
    from ecomvideo.enums import BillingCycle
    from ecomvideo.models import SubscriptionPlan, User
    from ecomvideo.models.stripe import CreditPack, StripePrice
    from ecomvideo.services.stripe_customers import link_customer
    from tests.fakes.stripe_fake import TEMPLATE_PRICES, StripeFake

    fake = StripeFake()
    with transaction() as session:
        starter = session.scalars(
            select(SubscriptionPlan).where(SubscriptionPlan.name == "Starter")
        ).one()
        pack = session.scalars(select(CreditPack).where(CreditPack.code == "pack_100")).one()
        session.add(
            StripePrice(
                stripe_price_id=TEMPLATE_PRICES["starter_monthly"],
                stripe_product_id="prod_bench",
                subscription_plan_id=starter.id,
                billing_cycle=BillingCycle.MONTHLY,
                unit_amount=1900,
            )
        )
        scenarios = []
        for i in range(n):
            user = User(email=f"bench-{i}@example.com", password_hash="x")  # noqa: S106 - never logs in
            session.add(user)
            session.flush()
            link_customer(session, user.id, f"cus_bench_{i:06d}")
            scenarios.append(
                fake.scenario(
                    user_id=str(user.id),
                    customer_id=f"cus_bench_{i:06d}",
                    prices={},
                    plan_id=str(starter.id),
                    pack_id=str(pack.id),
                )
            )
    return scenarios


def _api_event(body: str, signature: str) -> dict[str, Any]:
    from devserver.events import HttpRequest, http_event

    request = HttpRequest(
        "POST",
        "/webhooks/stripe",
        headers=[("content-type", "application/json"), ("stripe-signature", signature)],
        body=body.encode(),
    )
    return http_event(request, route_key="POST /webhooks/stripe")


def _run(handler: Any, events: list[dict[str, Any]], label: str, expect: int) -> None:
    from devserver.events import LambdaContext

    context = LambdaContext(
        "StripeWebhookFunction", memory_mb=512, timeout_s=10, region="us-east-1"
    )
    started = time.perf_counter()
    for event in events:
        response = handler.lambda_handler(event, context)
        assert response["statusCode"] == expect, response
    elapsed = time.perf_counter() - started
    print(
        f"{label:<44} {len(events) / elapsed:8.1f} events/s   "
        f"{elapsed / len(events) * 1000:6.2f} ms/event   n={len(events)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Stripe webhook throughput")
    parser.add_argument("--n", type=int, default=300, help="customers (2 events each)")
    args = parser.parse_args()
    url = _prepare_database()
    from tests.fakes.stripe_fake import WEBHOOK_SECRET, StripeFake

    os.environ.update(
        {"DATABASE_URL": url, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_KEY": "sk_x"}
    )
    from ecomvideo.settings import reset_settings

    reset_settings()
    scenarios = _setup(args.n)
    handler = _load("stripe_webhook")
    signed = []
    for scenario in scenarios:
        for name in ("customer.subscription.created", "invoice.paid"):
            signed.append(StripeFake.sign(scenario.event(name)))
    deliveries = [_api_event(body, sig) for body, sig in signed]
    ignored = [
        _api_event(*StripeFake.sign(s.event("unknown.customer.discount.created")))
        for s in scenarios
    ]
    rejected = [_api_event(body, "t=1,v1=" + "0" * 64) for body, _ in signed[: args.n]]

    print(f"Stripe webhook, in-process, local PostgreSQL ({args.n} customers)")
    _run(handler, deliveries, "processed (subscription.created + invoice.paid)", 200)
    _run(handler, deliveries, "duplicate (redelivery, event id stored)", 200)
    _run(handler, ignored, "ignored type (no database)", 200)
    _run(handler, rejected, "rejected (bad signature, no database)", 400)
    from sqlalchemy import func, select

    from ecomvideo.db import transaction
    from ecomvideo.models import UsageCredit

    with transaction() as session:
        grants = session.scalar(select(func.count()).select_from(UsageCredit))
    print(f"credit grants after all deliveries: {grants} (expected {args.n})")


if __name__ == "__main__":
    main()
