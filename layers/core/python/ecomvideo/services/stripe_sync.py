"""Create / update Stripe Products and Prices from our plans and credit packs.

    python -m ecomvideo.services.stripe_sync            # apply
    python -m ecomvideo.services.stripe_sync --dry-run  # show what would change

The other direction (``POST /v1/admin/billing/sync``, ``PUT /v1/admin/stripe-prices/{id}``):
``pull`` reads every Price in Stripe and refreshes or learns its mapping (from the metadata
our push writes); ``map_price`` maps one Price to a plan + cycle or a credit pack by hand. Both
return the price ids they newly mapped, so the caller can re-apply webhook events parked
until then (``stripe_parked.reapply_waiting_for``).

Products get our own ids (``ecomvideo_plan_<uuid>`` / ``ecomvideo_pack_<code>``), so a second
run finds them. Stripe Prices are immutable in amount: when a plan's price changes, a new Price
is created, the ``stripe_prices`` row of the old one is marked inactive (kept, so existing
subscriptions still map to the plan) and the old Price is archived in Stripe. Free plans (price
0) are not sold through Stripe.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.clients.stripe_client import get_stripe_client, to_minor_units
from ecomvideo.db import transaction
from ecomvideo.enums import BillingCycle
from ecomvideo.errors import NotFound, ProviderError, ValidationFailed
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
    import stripe  # lazy: the Stripe SDK is a slow import; only paths calling Stripe load it

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


@dataclass
class PullReport:
    mapped: list[str] = field(default_factory=list)  # newly mapped from the price metadata
    updated: list[str] = field(default_factory=list)  # amount / currency / active refreshed
    unchanged: list[str] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)  # for an admin to map


def _owner_from(session: Session, metadata: dict[str, Any]) -> dict[str, Any] | None:
    """The plan + cycle or pack a price's metadata names (what ``sync`` writes), if it
    exists here."""
    try:
        if metadata.get("credit_pack_id"):
            pack_id = uuid.UUID(metadata["credit_pack_id"])
            return {"credit_pack_id": pack_id} if session.get(CreditPack, pack_id) else None
        if metadata.get("subscription_plan_id"):
            plan_id = uuid.UUID(metadata["subscription_plan_id"])
            cycle = BillingCycle(metadata.get("billing_cycle") or "Monthly")
            found = session.get(SubscriptionPlan, plan_id)
            return {"subscription_plan_id": plan_id, "billing_cycle": cycle} if found else None
    except ValueError:
        return None
    return None


def _refresh(row: StripePrice, price: dict[str, Any]) -> bool:
    wanted = {
        "stripe_product_id": _product_id(price),
        "unit_amount": int(price.get("unit_amount") or 0),
        "currency": str(price.get("currency") or "usd").upper(),
        "is_active": bool(price.get("active")),
    }
    changed = any(getattr(row, k) != v for k, v in wanted.items())
    for key, value in wanted.items():
        setattr(row, key, value)
    return changed


def _product_id(price: dict[str, Any]) -> str:
    product = price.get("product")
    return str(product.get("id") if isinstance(product, dict) else product)


def pull(session: Session, *, client: Any | None = None) -> PullReport:
    """Every Stripe Price (active or archived): refresh the known mappings, learn the ones
    whose metadata names one of our plans or packs, list the rest as unmapped."""
    client = client or get_stripe_client()
    report = PullReport()
    prices = client.v1.prices.list(params={"limit": 100})
    for stripe_price in prices.auto_paging_iter():
        price = stripe_price.to_dict()
        row = session.get(StripePrice, price["id"])
        if row is not None:
            (report.updated if _refresh(row, price) else report.unchanged).append(price["id"])
            continue
        owner = _owner_from(session, price.get("metadata") or {})
        if owner is None:
            report.unmapped.append(
                {
                    "stripe_price_id": price["id"],
                    "stripe_product_id": _product_id(price),
                    "unit_amount": price.get("unit_amount"),
                    "currency": str(price.get("currency") or "").upper(),
                    "interval": (price.get("recurring") or {}).get("interval"),
                    "active": bool(price.get("active")),
                }
            )
            continue
        row = StripePrice(stripe_price_id=price["id"], **owner)
        _refresh(row, price)
        session.add(row)
        report.mapped.append(price["id"])
    session.flush()
    return report


def map_price(
    session: Session,
    price_id: str,
    *,
    plan_id: Any = None,
    billing_cycle: BillingCycle | None = None,
    credit_pack_id: Any = None,
    client: Any | None = None,
) -> tuple[StripePrice, bool]:
    """Map one Stripe Price (read from Stripe) to a plan + cycle or a credit pack; returns the
    row and whether the mapping changed. A recurring price sells a plan whose cycle matches
    its interval, a one-time price a pack."""
    import stripe  # lazy: the Stripe SDK is a slow import; only paths calling Stripe load it

    client = client or get_stripe_client()
    try:
        price = client.v1.prices.retrieve(price_id).to_dict()
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            raise NotFound(f"Stripe has no price {price_id}.") from exc
        raise ProviderError("Stripe refused to read the price.") from exc
    except stripe.StripeError as exc:
        raise ProviderError("The payment provider could not be reached.") from exc
    interval = (price.get("recurring") or {}).get("interval")
    if plan_id is not None:
        if session.get(SubscriptionPlan, plan_id) is None:
            raise NotFound("No such plan.")
        expected = {"month": BillingCycle.MONTHLY, "year": BillingCycle.YEARLY}.get(interval or "")
        if expected is None or expected != billing_cycle:
            raise ValidationFailed(
                f"Price {price_id} bills every {interval or 'once'}; it cannot sell the "
                f"{billing_cycle.value if billing_cycle else 'plan'} cycle."
            )
        owner: dict[str, Any] = {
            "subscription_plan_id": plan_id,
            "billing_cycle": billing_cycle,
            "credit_pack_id": None,
        }
    else:
        if session.get(CreditPack, credit_pack_id) is None:
            raise NotFound("No such credit pack.")
        if interval is not None:
            raise ValidationFailed(f"Price {price_id} is recurring; a credit pack is paid once.")
        owner = {
            "subscription_plan_id": None,
            "billing_cycle": None,
            "credit_pack_id": credit_pack_id,
        }
    row = session.get(StripePrice, price_id, with_for_update=True)
    created = row is None
    if row is None:
        row = StripePrice(stripe_price_id=price_id)
        session.add(row)
    changed = created or any(getattr(row, k) != v for k, v in owner.items())
    for key, value in owner.items():
        setattr(row, key, value)
    _refresh(row, price)
    session.flush()
    return row, changed


def main(argv: list[str] | None = None) -> int:
    import argparse  # lazy: the command line only, not the admin API

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="report changes, change nothing")
    args = parser.parse_args(argv)
    with transaction() as session:
        report = sync(session, dry_run=args.dry_run)
    json.dump(report.as_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
