"""Billing administration (role Admin): Stripe price mapping, catalogue sync with Stripe, and
the Stripe webhook events parked until what they wait for is known.

* ``PUT /v1/admin/stripe-prices/{price_id}``: map a Stripe Price to a plan + cycle or a pack;
* ``POST /v1/admin/billing/sync``: pull every Stripe Price (optionally push ours first);
* ``GET /v1/admin/billing/events?state=parked``: parked events, cursor-paginated;
* ``POST /v1/admin/billing/events/{event_id}/retry``: re-apply one parked event now.

A mapping or a sync commits first; the events that were waiting for the newly mapped prices
are then re-applied, each in its own transaction (``ecomvideo.services.stripe_parked``).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.enums import UserRole
from ecomvideo.errors import NotFound
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal, require_roles
from ecomvideo.http.pagination import PageCursor, PageLimit
from ecomvideo.models.stripe import StripeParkedEvent
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import billing as s
from ecomvideo.services import stripe_parked, stripe_sync

app = create_app()
EventState = Annotated[Literal["parked", "applied"] | None, Query()]
PRICE_ID = re.compile(r"[A-Za-z0-9_]{3,255}")


def _admin() -> None:
    require_roles(current_principal(app), UserRole.ADMIN.value)


def _reapply(price_ids: list[str]) -> int:
    return sum(stripe_parked.reapply_waiting_for(f"price:{p}") for p in price_ids)


@app.put("/v1/admin/stripe-prices/<price_id>")
def map_stripe_price(price_id: str, body: s.StripePriceMapping) -> s.StripePriceOut:
    """Admin: map a Stripe price to a plan (monthly/yearly) or a credit pack."""
    _admin()
    if not PRICE_ID.fullmatch(price_id):
        raise NotFound("No such Stripe price.")
    with transaction() as session:
        row, changed = stripe_sync.map_price(
            session,
            price_id,
            plan_id=body.plan_id,
            billing_cycle=body.billing_cycle,
            credit_pack_id=body.credit_pack_id,
        )
        out = s.StripePriceOut.model_validate(row)
    if changed:
        out.reapplied_events = _reapply([price_id])
    return out


@app.post("/v1/admin/billing/sync")
def sync_billing(body: s.BillingSyncRequest | None = None) -> s.BillingSyncReport:
    """Admin: pull prices from Stripe (and first push our plans/packs when ``push``)."""
    _admin()
    with transaction() as session:
        pushed = stripe_sync.sync(session).as_dict() if body and body.push else None
        report = stripe_sync.pull(session)
    return s.BillingSyncReport(
        pushed=pushed,
        mapped=report.mapped,
        updated=report.updated,
        unchanged=report.unchanged,
        unmapped=[s.UnmappedPrice(**u) for u in report.unmapped],
        reapplied_events=_reapply(report.mapped),
    )


@app.get("/v1/admin/billing/events")
def list_stripe_events(
    state: EventState = None, limit: PageLimit = None, cursor: PageCursor = None
) -> s.StripeEventPage:
    """Admin: Stripe webhook events parked (or applied after parking), newest first."""
    _admin()
    with transaction() as session:
        rows, nxt = stripe_parked.list_events(session, state=state, limit=limit, cursor=cursor)
        items = [s.StripeEventOut.model_validate(r) for r in rows]
    return s.StripeEventPage(items=items, next_cursor=nxt)


@app.post("/v1/admin/billing/events/<event_id>/retry")
def retry_stripe_event(event_id: uuid.UUID) -> s.StripeEventOut:
    """Admin: re-apply one parked event now (its state tells the outcome)."""
    _admin()
    with transaction() as session:
        if session.get(StripeParkedEvent, event_id) is None:
            raise NotFound("No such parked event.")
    stripe_parked.reapply(event_id)
    with transaction() as session:
        return s.StripeEventOut.model_validate(session.get(StripeParkedEvent, event_id))


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
