"""Scrape jobs: a ``Pending`` product row, the scrape queue, and its consumer.

Flow of ``POST /v1/products/scrape`` (asynchronous, see ``products.submit_scrape``):

1. ``request_scrape`` adds a ``Pending`` product row (or returns a fresh copy of the same URL
   scraped by the same user); once committed, ``dispatch`` sends ``{"productId": ...}`` to the
   scrape queue. Without a queue (``queue_url`` unset) it scrapes inline, so the same code works
   in a bare test process.
2. The scraping function consumes the queue and calls ``scrape_product``: read the row and the
   domain's ``scraping_rules`` (short transaction), wait for the domain's politeness slot,
   check robots.txt, fetch and extract with no transaction open, then write the outcome in ONE
   transaction under a row lock: ``Success`` with every field, its images and its category, or
   ``Failed`` with ``error_message`` and no image rows. A redelivered message finds the row no
   longer Pending and does nothing. A busy domain re-queues the message with a delay (bounded).
"""

from __future__ import annotations

import json
import math
import uuid

from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.enums import ScrapingStatus
from ecomvideo.errors import ServiceUnavailable
from ecomvideo.models import ProductData
from ecomvideo.observability import logger
from ecomvideo.scraping import ExtractedProduct, ScrapeError
from ecomvideo.services.product_scraper import (
    BUSY_MESSAGE,
    DomainBusy,
    ScrapeOptions,
    apply_failure,
    domain_of,
    fetch_and_extract,
    fresh_copy,
    job_for,
    normalise_url,
    options,
    record_outcome,
)


def request_scrape(
    session: Session,
    user_id: uuid.UUID,
    url: str,
    *,
    force: bool = False,
    opts: ScrapeOptions | None = None,
) -> tuple[ProductData, bool]:
    """The product to answer with and whether it must be (re)queued.

    Reuses this user's fresh Success copy or in-flight Pending row of the same URL unless
    ``force``; a Pending row whose message was lost (older than ``pending_stale_after``) is
    re-queued. Otherwise inserts a new Pending row.
    """
    opts = opts or options()
    url = normalise_url(url)
    if not force:
        existing = fresh_copy(session, user_id, url, opts)
        if existing is not None:
            stale = existing.scraping_status is ScrapingStatus.PENDING and (
                existing.created_at < clock.utcnow() - opts.pending_stale_after
            )
            return existing, stale
    product = ProductData(
        id=uuid.uuid4(),
        user_id=user_id,
        original_url=url,
        domain=domain_of(url)[:100] or None,
        name=url[:500],  # placeholder (NOT NULL) until the scrape fills it in
        scraping_status=ScrapingStatus.PENDING,
        created_by=str(user_id),
    )
    session.add(product)
    session.flush()
    return product, True


def dispatch(
    product_id: uuid.UUID, *, opts: ScrapeOptions | None = None, attempt: int = 0, delay_s: int = 0
) -> None:
    """Queue the scrape of a committed Pending row (inline when no queue is configured)."""
    opts = opts or options()
    if not opts.queue_url:
        scrape_product(product_id, opts=opts)
        return
    body = json.dumps({"productId": str(product_id), "attempt": attempt})
    try:
        aws.sqs().send_message(QueueUrl=opts.queue_url, MessageBody=body, DelaySeconds=delay_s)
    except Exception as exc:
        logger.exception("could not queue scrape", extra={"product_id": str(product_id)})
        with transaction() as session:
            product = session.get(ProductData, product_id, with_for_update=True)
            if product is not None and product.scraping_status is ScrapingStatus.PENDING:
                apply_failure(product, "The scrape could not be started; please try again.")
        raise ServiceUnavailable("The scraper is unavailable right now; try again.") from exc


def scrape_product(
    product_id: uuid.UUID, *, opts: ScrapeOptions | None = None, attempt: int = 0
) -> str:
    """Scrape a Pending product (the queue consumer's entry point); returns the outcome.

    Idempotent: a row that is gone or no longer Pending is skipped. Scrape failures end in
    ``Failed`` + error_message and never raise; database errors raise (the message is retried).
    """
    opts = opts or options()
    with transaction() as session:
        product = session.get(ProductData, product_id)
        if product is None or product.scraping_status is not ScrapingStatus.PENDING:
            return "skipped"
        job = job_for(session, product.original_url, opts)
    outcome: ExtractedProduct | ScrapeError
    try:
        outcome = fetch_and_extract(job, opts, opts.max_gate_wait_s)
    except DomainBusy as busy:
        if opts.queue_url and attempt < opts.max_requeues:
            dispatch(
                product_id,
                opts=opts,
                attempt=attempt + 1,
                delay_s=min(900, math.ceil(busy.retry_after)),
            )
            return "requeued"
        outcome = ScrapeError(BUSY_MESSAGE)
    except ScrapeError as exc:
        outcome = exc
    with transaction() as session:
        product = session.get(ProductData, product_id, with_for_update=True)
        if product is None or product.scraping_status is not ScrapingStatus.PENDING:
            return "skipped"  # deleted meanwhile, or a duplicate delivery finished first
        record_outcome(session, product, outcome)
        return str(product.scraping_status)


def parse_message(body: str) -> tuple[uuid.UUID, int]:
    """``{"productId", "attempt"}`` from a scrape queue message; ValueError when malformed."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("message is not an object")
    return uuid.UUID(str(data["productId"])), int(data.get("attempt") or 0)


def handle_message(body: str) -> str:
    """One scrape-queue message: scrape its product and return the outcome. A malformed
    message can never succeed, so it is logged and dropped (``"dropped"``) instead of looping."""
    try:
        product_id, attempt = parse_message(body)
    except (ValueError, KeyError, TypeError) as exc:
        logger.error("dropping malformed scrape message", extra={"reason": str(exc)})
        return "dropped"
    logger.append_keys(product_id=str(product_id))
    outcome = scrape_product(product_id, attempt=attempt)
    logger.info("scrape handled", extra={"outcome": outcome})
    return outcome
