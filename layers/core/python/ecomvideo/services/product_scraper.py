"""Scraping one product page: options, the fetcher, the politeness gate, fetch + extract, and
writing the outcome onto a ``product_data`` row. No queue and no API here (``scrape_jobs``,
``products``).

The politeness gate is a row per domain (``scrape_domain_gates``): one atomic upsert reserves the
next slot ``delay_ms`` after the previous one, so concurrent Lambdas space their requests without
holding a lock while they wait. A slot further away than ``max_gate_wait_s`` is not taken
(``DomainBusy``): the caller re-queues the message with a delay (bounded), or fails the scrape.

The fetcher (``SafeFetcher``: SSRF guard, limits) is created once per container; tests replace
it with ``set_fetcher``. Options come from settings (``set_options`` in tests).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.enums import ScrapingStatus
from ecomvideo.models import ProductData, ProductImage
from ecomvideo.models.scraping import ScrapeDomainGate
from ecomvideo.observability import logger, metrics
from ecomvideo.scraping import ExtractedProduct, FetchResult, InvalidUrl, SafeFetcher, ScrapeError
from ecomvideo.services.product_categories import map_categories
from ecomvideo.services.scraping_rules import find_rule
from ecomvideo.settings import get_settings

BUSY_MESSAGE = (
    "The shop is receiving many requests from us right now; please try again in a few minutes."
)
INTERNAL_MESSAGE = "We could not read this product page."


# ---------------------------------------------------------------------------- dependencies


@dataclass(frozen=True)
class ScrapeOptions:
    """Tunables; production values come from settings (see ``options``)."""

    queue_url: str | None = None
    respect_robots: bool = True
    fresh_for: timedelta = timedelta(hours=24)
    # A Pending row older than this lost its message (crash, DLQ): a new request re-queues it.
    pending_stale_after: timedelta = timedelta(minutes=10)
    default_delay_ms: int = 1000
    max_gate_wait_s: float = 5.0
    max_requeues: int = 5


_fetcher: SafeFetcher | None = None
_options: ScrapeOptions | None = None
_sleep: Callable[[float], None] = time.sleep


def fetcher() -> SafeFetcher:
    """The container's SSRF-safe fetcher (created on first use)."""
    global _fetcher
    if _fetcher is None:
        _fetcher = SafeFetcher()
    return _fetcher


def set_fetcher(value: SafeFetcher | None) -> None:
    """Swap the fetcher (tests: a local server and a test address policy); None = default."""
    global _fetcher
    _fetcher = value


def options() -> ScrapeOptions:
    """Options from settings (tests override them with ``set_options``)."""
    if _options is not None:
        return _options
    settings = get_settings()
    return ScrapeOptions(
        queue_url=settings.scrape_queue_url,
        respect_robots=settings.scraper_respect_robots,
        fresh_for=timedelta(hours=settings.scraper_fresh_hours),
        default_delay_ms=settings.scraper_default_delay_ms,
        max_gate_wait_s=settings.scraper_max_gate_wait_s,
    )


def set_options(value: ScrapeOptions | None) -> None:
    global _options
    _options = value


def set_sleep(value: Callable[[float], None] | None) -> None:
    """Replace ``time.sleep`` for the politeness wait (tests record the waits)."""
    global _sleep
    _sleep = value or time.sleep


# ---------------------------------------------------------------------------- helpers


def normalise_url(url: str) -> str:
    """The URL we store and compare: trimmed, scheme/host lowercased, fragment dropped."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise InvalidUrl() from exc
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def domain_of(url: str) -> str:
    """The shop's host, lowercased, without ``www.`` (the key of rules and of the gate)."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    return host.removeprefix("www.")


@dataclass(frozen=True)
class ScrapeJob:
    """What one fetch needs: the URL, its domain and that domain's rule."""

    url: str
    domain: str
    headers: dict[str, str] | None
    selectors: dict[str, Any] | None
    delay_ms: int


def job_for(session: Session, url: str, opts: ScrapeOptions) -> ScrapeJob:
    """What fetching ``url`` needs: its domain and that domain's rule (headers, selectors,
    delay), or the default delay."""
    domain = domain_of(url)
    rule = find_rule(session, domain) if domain else None
    if rule is None:
        return ScrapeJob(url, domain, None, None, opts.default_delay_ms)
    headers = {str(k): str(v) for k, v in (rule.headers or {}).items()}
    return ScrapeJob(
        url, domain, headers or None, dict(rule.selectors or {}) or None, rule.delay_ms
    )


def fresh_copy(
    session: Session, user_id: uuid.UUID, url: str, opts: ScrapeOptions
) -> ProductData | None:
    """This user's copy of ``url`` that needs no new scrape: a Success younger than
    ``fresh_for`` or a Pending one (newest first)."""
    now = clock.utcnow()
    return session.scalar(
        select(ProductData)
        .where(
            ProductData.user_id == user_id,
            ProductData.original_url == url,
            (
                (ProductData.scraping_status == ScrapingStatus.SUCCESS)
                & (ProductData.scraped_at >= now - opts.fresh_for)
            )
            | (ProductData.scraping_status == ScrapingStatus.PENDING),
        )
        .order_by(ProductData.created_at.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------- politeness gate


class DomainBusy(Exception):
    """The domain's next free slot is further away than we may wait."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"domain busy for {retry_after:.1f}s")
        self.retry_after = retry_after


def claim_slot(session: Session, domain: str, delay_ms: int, *, max_wait_s: float) -> float:
    """Reserve the next request slot for ``domain``; returns the seconds to wait before it.

    One statement: insert the gate row, or move ``next_fetch_at`` to ``max(next, now) + delay``
    unless the free slot is more than ``max_wait_s`` away (then nothing changes and
    ``DomainBusy`` is raised). The caller commits at once and sleeps without holding a lock.
    """
    now = clock.utcnow()
    delay = timedelta(milliseconds=max(0, delay_ms))
    gate = insert(ScrapeDomainGate).values(domain=domain[:255], next_fetch_at=now + delay)
    stmt = gate.on_conflict_do_update(
        index_elements=[ScrapeDomainGate.domain],
        set_={"next_fetch_at": func.greatest(ScrapeDomainGate.next_fetch_at, now) + delay},
        where=ScrapeDomainGate.next_fetch_at <= now + timedelta(seconds=max_wait_s),
    ).returning(ScrapeDomainGate.next_fetch_at)
    reserved_until = session.execute(stmt).scalar_one_or_none()
    if reserved_until is None:
        current = session.scalar(
            select(ScrapeDomainGate.next_fetch_at).where(ScrapeDomainGate.domain == domain[:255])
        )
        raise DomainBusy(max(1.0, ((current or now) - now).total_seconds()))
    return max(0.0, (reserved_until - delay - now).total_seconds())


def _wait_for_slot(job: ScrapeJob, max_wait_s: float) -> None:
    if not job.domain:
        return
    with transaction() as session:  # committed at once: other invocations must see the claim
        wait = claim_slot(session, job.domain, job.delay_ms, max_wait_s=max_wait_s)
    if wait > 0:
        _sleep(wait)


# ---------------------------------------------------------------------------- fetch + extract


def fetch_and_extract(job: ScrapeJob, opts: ScrapeOptions, max_wait_s: float) -> ExtractedProduct:
    """No transaction is open here (except the gate's own short one). Raises ScrapeError or
    DomainBusy; anything unexpected from the parser becomes a clean ScrapeError."""
    # lazy: the extractor and its HTML parser are slow imports; the API that only queues skips them
    from ecomvideo.scraping import extract_product

    client = fetcher()
    _wait_for_slot(job, max_wait_s)
    try:
        if opts.respect_robots:
            # Refuse a blocked URL with its own message first: its robots.txt is unreachable
            # for the same reason and would otherwise be reported as "robots.txt disallows".
            client.check_address(job.url)
            client.check_robots(job.url)
        page: FetchResult = client.fetch(job.url, headers=job.headers)
        return extract_product(
            page.content,
            page.url,
            selectors=job.selectors,
            content_type=page.headers.get("content-type"),
        )
    except ScrapeError:
        raise
    except Exception as exc:  # a parser bug on a hostile page must not leave the row Pending
        logger.exception("unexpected scrape error", extra={"domain": job.domain})
        raise ScrapeError(INTERNAL_MESSAGE) from exc


# ---------------------------------------------------------------------------- writing results


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def apply_failure(product: ProductData, message: str) -> None:
    """Mark the product Failed with a message safe to show."""
    product.scraping_status = ScrapingStatus.FAILED
    product.error_message = message[:1000]
    product.scraped_at = clock.utcnow()
    product.updated_by = "scraper"


def _apply_success(session: Session, product: ProductData, data: ExtractedProduct) -> None:
    """All fields, images and category of a successful scrape (caller's transaction)."""
    product.scraping_status = ScrapingStatus.SUCCESS
    product.error_message = None
    product.scraped_at = clock.utcnow()
    product.updated_by = "scraper"
    product.domain = _cut(data.domain or product.domain, 100)
    product.platform = str(data.platform)
    product.product_id = _cut(data.product_id, 255)
    product.name = data.name[:500]
    product.description = data.description
    product.price = data.price
    product.currency = data.currency
    product.original_price = data.original_price
    product.discount_percent = data.discount_percent
    product.brand = _cut(data.brand, 200)
    product.sku = _cut(data.sku, 100)
    product.availability = str(data.availability)
    product.rating = data.rating
    product.review_count = data.review_count or 0
    product.meta = json.loads(json.dumps(data.metadata, default=str))
    product.category_id = map_categories(session, data.categories)
    images = [img for img in data.images if img.url and len(img.url) <= 500]
    primary = next((img for img in images if img.is_primary), images[0] if images else None)
    product.main_image_url = primary.url if primary else _cut(data.main_image_url, 500)
    for order, img in enumerate(images):
        session.add(
            ProductImage(
                product_data_id=product.id,
                url=img.url,
                alt_text=_cut(img.alt_text, 500),
                width=img.width,
                height=img.height,
                is_primary=img is primary,
                sort_order=order,
            )
        )


def record_outcome(
    session: Session, product: ProductData, outcome: ExtractedProduct | ScrapeError
) -> None:
    """Write the outcome; a database error while saving a success leaves nothing half-saved:
    the savepoint is rolled back and the row is marked Failed instead."""
    if isinstance(outcome, ScrapeError):
        apply_failure(product, outcome.message)
        metrics.add_metric(name="ScrapesFailed", unit="Count", value=1)
        logger.info("scrape failed", extra={"product_id": str(product.id), "code": outcome.code})
        return
    try:
        with session.begin_nested():
            _apply_success(session, product, outcome)
            session.flush()
    except Exception:
        logger.exception("could not save scraped product", extra={"product_id": str(product.id)})
        session.expire(product)
        apply_failure(product, INTERNAL_MESSAGE)
        return
    metrics.add_metric(name="ScrapesSucceeded", unit="Count", value=1)
