"""Create / update Stripe Products and Prices from our plans and credit packs.

    python -m ecomvideo.services.stripe_sync            # apply
    python -m ecomvideo.services.stripe_sync --dry-run  # show what would change

Products get our own ids (``ecomvideo_plan_<uuid>`` / ``ecomvideo_pack_<code>``), so a second
run finds them. Stripe Prices are immutable in amount: when a plan's price changes, a new Price
is created, the ``stripe_prices`` row of the old one is marked inactive (kept, so existing
subscriptions still map to the plan) and the old Price is archived in Stripe. Free plans (price
0) are not sold through Stripe.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.clients.stripe_client import get_stripe_client, to_minor_units
from ecomvideo.enums import BillingCycle
from ecomvideo.models import SubscriptionPlan
from ecomvideo.models.stripe import CreditPack, StripePrice


@dataclass
class SyncReport:
    products_created: list[str] = field(default_factory=list)
    products_updated: list[str] = field(default_factory=list)
    prices_created: list[str] = field(default_factory=list)
    prices_archived: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return dict(self.__dict__)


def _ensure_product(
    client: Any,
    product_id: str,
    name: str,
    description: str | None,
    active: bool,
    report: SyncReport,
    dry_run: bool,
) -> None:
    import stripe

    wanted = {"name": name, "description": description or name, "active": active}
    try:
        current = client.v1.products.retrieve(product_id)
    except stripe.InvalidRequestError as exc:
        if exc.code != "resource_missing":
            raise
        report.products_created.append(product_id)
        if not dry_run:
            client.v1.products.create(params={"id": product_id, **wanted})
        return
    if any(current.to_dict().get(k) != v for k, v in wanted.items()):
        report.products_updated.append(product_id)
        if not dry_run:
            client.v1.products.update(product_id, params=wanted)


def _ensure_price(
    session: Session,
    client: Any,
    *,
    product_id: str,
    amount: Decimal,
    currency: str,
    interval: str | None,
    owner: dict[str, Any],
    lookup_key: str,
    report: SyncReport,
    dry_run: bool,
) -> None:
    minor = to_minor_units(amount, currency)
    filters = [StripePrice.is_active.is_(True)] + [
        getattr(StripePrice, key) == value for key, value in owner.items()
    ]
    active = list(session.scalars(select(StripePrice).where(*filters)))
    if any(
        p.unit_amount == minor and (p.currency or "").upper() == currency.upper() for p in active
    ):
        report.unchanged.append(lookup_key)
        return
    for old in active:
        report.prices_archived.append(old.stripe_price_id)
        if not dry_run:
            client.v1.prices.update(old.stripe_price_id, params={"active": False})
            old.is_active = False
    report.prices_created.append(lookup_key)
    if dry_run:
        return
    params: dict[str, Any] = {
        "product": product_id,
        "unit_amount": minor,
        "currency": currency.lower(),
        "lookup_key": lookup_key,
        "transfer_lookup_key": True,
        "metadata": {k: str(v) for k, v in owner.items()},
    }
    if interval:
        params["recurring"] = {"interval": interval}
    price = client.v1.prices.create(params=params)
    session.add(
        StripePrice(
            stripe_price_id=price.id,
            stripe_product_id=product_id,
            unit_amount=minor,
            currency=currency.upper(),
            is_active=True,
            **owner,
        )
    )
    session.flush()


def sync(session: Session, *, dry_run: bool = False, client: Any | None = None) -> SyncReport:
    """Bring Stripe's catalogue in line with our plans and credit packs."""
    client = client or get_stripe_client()
    report = SyncReport()
    for plan in session.scalars(select(SubscriptionPlan).order_by(SubscriptionPlan.sort_order)):
        if not plan.price_monthly or plan.price_monthly <= 0:
            continue
        product_id = f"ecomvideo_plan_{plan.id.hex}"
        _ensure_product(
            client, product_id, f"EcomVideo {plan.name}", plan.description, bool(plan.is_active),
            report, dry_run,
        )  # fmt: skip
        if not plan.is_active:
            continue
        cycles = [(BillingCycle.MONTHLY, plan.price_monthly, "month")]
        if plan.price_yearly and plan.price_yearly > 0:
            cycles.append((BillingCycle.YEARLY, plan.price_yearly, "year"))
        for cycle, amount, interval in cycles:
            _ensure_price(
                session,
                client,
                product_id=product_id,
                amount=amount,
                currency=plan.currency or "USD",
                interval=interval,
                owner={"subscription_plan_id": plan.id, "billing_cycle": cycle},
                lookup_key=f"plan_{plan.name.lower()}_{cycle.value.lower()}",
                report=report,
                dry_run=dry_run,
            )
    for pack in session.scalars(select(CreditPack).order_by(CreditPack.sort_order)):
        product_id = f"ecomvideo_pack_{pack.code}"
        _ensure_product(
            client, product_id, f"EcomVideo {pack.name}", f"{pack.credits} video credits",
            bool(pack.is_active), report, dry_run,
        )  # fmt: skip
        if pack.is_active:
            _ensure_price(
                session,
                client,
                product_id=product_id,
                amount=pack.price,
                currency=pack.currency or "USD",
                interval=None,
                owner={"credit_pack_id": pack.id},
                lookup_key=f"pack_{pack.code}",
                report=report,
                dry_run=dry_run,
            )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="report changes, change nothing")
    args = parser.parse_args(argv)
    from ecomvideo.db import transaction

    with transaction() as session:
        report = sync(session, dry_run=args.dry_run)
    json.dump(report.as_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
