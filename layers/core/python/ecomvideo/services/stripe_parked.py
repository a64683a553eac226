"""Parked Stripe events: acknowledged, stored, and applied once what they wait for exists.

``stripe_events.process_event`` parks (``park_event``) an event whose handler raised ``Park``
(an unknown payment, invoice, subscription or customer, or a price mapped to no plan/pack).
They are re-applied:

* after every applied event of the same Stripe customer (the purchase that a refund waited
  for, the checkout that taught us the customer...), repeatedly while that makes progress;
* after an admin maps a Stripe price (``reapply_waiting_for("price:<id>")``);
* by the scheduled sweep (``sweep``), which also counts what has been parked for too long
  (the metric behind an alarm).

Each re-application runs in its own transaction with the parked row locked (``SKIP LOCKED``:
two workers never apply one event twice); the handler runs in a savepoint so an error or a
new ``Park`` only updates the row's bookkeeping. Events are re-applied oldest first (Stripe's
``created``); the handlers' version rules make the outcome independent of that order anyway.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.keyset import apply_keyset, clamp_limit, decode_cursor, page
from ecomvideo.models.stripe import StripeParkedEvent
from ecomvideo.observability import logger
from ecomvideo.services.stripe_objects import Obj, Park, event_customer, ts

PARKED = "parked"
APPLIED = "applied"
MAX_ROUNDS = 5  # an applied parked event may unblock another of the same customer


@dataclass
class SweepReport:
    applied: int = 0
    still_parked: int = 0
    failed: int = 0
    overdue: int = 0  # parked for longer than the alarm threshold
    overdue_ids: list[str] = field(default_factory=list)


def park_event(session: Session, event: Obj, park: Park) -> None:
    """Store an event whose handler raised ``Park`` (in the delivery's transaction); a
    redelivery of a parked event is already deduplicated by ``stripe_events``."""
    logger.info(
        "stripe event parked", extra={"waiting_for": park.waiting_for, "reason": park.reason}
    )
    session.execute(
        insert(StripeParkedEvent)
        .values(
            event_id=event["id"],
            type=event["type"],
            event_created=ts(event.get("created")) or clock.utcnow(),
            stripe_customer_id=park.customer or event_customer(event),
            waiting_for=park.waiting_for,
            reason=park.reason,
            payload=event,
            state=PARKED,
            created_at=clock.utcnow(),
        )
        .on_conflict_do_nothing()
    )


def _candidates(
    session: Session, *conditions: ColumnElement[bool], limit: int = 200
) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(StripeParkedEvent.id)
            .where(StripeParkedEvent.state == PARKED, *conditions)
            .order_by(StripeParkedEvent.event_created, StripeParkedEvent.event_id)
            .limit(limit)
        )
    )


def reapply(parked_id: uuid.UUID) -> str:
    """Try one parked event again: "applied", "parked" (still waiting), "failed" (an error,
    kept for the next try) or "skipped" (already applied, or another worker holds it)."""
    with transaction() as session:
        row = session.scalars(
            select(StripeParkedEvent)
            .where(StripeParkedEvent.id == parked_id, StripeParkedEvent.state == PARKED)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return "skipped"
        row.attempts += 1
        row.last_attempt_at = clock.utcnow()
        # lazy: re-applying needs every event handler (ledger, mail); listing parked events not
        from ecomvideo.services.stripe_handlers import apply_event

        try:
            park = apply_event(session, row.payload)
        except Exception as exc:  # the savepoint is rolled back; keep the event for later
            logger.exception("re-applying a parked stripe event failed")
            row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            return "failed"
        if park is not None:
            row.waiting_for, row.reason = park.waiting_for, park.reason
            return "parked"
        row.state = APPLIED
        row.applied_at = clock.utcnow()
        row.last_error = None
        logger.info("parked stripe event applied", extra={"stripe_event_id": row.event_id})
        return "applied"


def _reapply_until_settled(*conditions: ColumnElement[bool]) -> int:
    applied = 0
    for _ in range(MAX_ROUNDS):
        with transaction() as session:
            ids = _candidates(session, *conditions)
        progress = sum(reapply(i) == "applied" for i in ids)
        applied += progress
        if not progress:
            break
    return applied


def reapply_for_customer(customer_id: str | None) -> int:
    """Retry the parked events of one Stripe customer (after one of its events applied).
    Never raises: the event that triggered it is already committed."""
    if not customer_id:
        return 0
    try:
        return _reapply_until_settled(StripeParkedEvent.stripe_customer_id == customer_id)
    except Exception:
        logger.exception("re-applying parked stripe events failed; the sweep retries them")
        return 0


def reapply_waiting_for(key: str) -> int:
    """Retry the events waiting for ``key`` (e.g. ``price:price_...`` once it is mapped)."""
    applied = _reapply_until_settled(StripeParkedEvent.waiting_for == key)
    customers: set[str] = set()
    with transaction() as session:
        customers.update(
            c
            for c in session.scalars(
                select(StripeParkedEvent.stripe_customer_id).where(
                    StripeParkedEvent.state == APPLIED,
                    StripeParkedEvent.waiting_for == key,
                )
            )
            if c
        )
    return applied + sum(reapply_for_customer(c) for c in customers)


def sweep(*, overdue_after_hours: int, limit: int = 500) -> SweepReport:
    """Retry every parked event (oldest first) and count the ones parked for too long."""
    report = SweepReport()
    with transaction() as session:
        ids = _candidates(session, limit=limit)
    for parked_id in ids:
        outcome = reapply(parked_id)
        if outcome == "applied":
            report.applied += 1
        elif outcome == "failed":
            report.failed += 1
    threshold = clock.utcnow() - timedelta(hours=overdue_after_hours)
    with transaction() as session:
        report.still_parked = int(
            session.scalar(
                select(func.count())
                .select_from(StripeParkedEvent)
                .where(StripeParkedEvent.state == PARKED)
            )
            or 0
        )
        overdue = list(
            session.scalars(
                select(StripeParkedEvent.event_id).where(
                    StripeParkedEvent.state == PARKED, StripeParkedEvent.created_at < threshold
                )
            )
        )
    report.overdue, report.overdue_ids = len(overdue), overdue[:20]
    if overdue:
        logger.error(
            "stripe events parked for too long",
            extra={"count": len(overdue), "event_ids": report.overdue_ids},
        )
    return report


def list_events(
    session: Session, *, state: str | None, limit: int | None, cursor: str | None
) -> tuple[list[StripeParkedEvent], str | None]:
    """Admin list, newest first, cursor-paginated."""
    size = clamp_limit(limit)
    stmt = select(StripeParkedEvent)
    if state:
        stmt = stmt.where(StripeParkedEvent.state == state)
    stmt = apply_keyset(
        stmt, StripeParkedEvent.created_at, StripeParkedEvent.id, decode_cursor(cursor)
    )
    return page(list(session.scalars(stmt.limit(size + 1))), size)
