"""Products: scrape a product URL into product_data + product_images, list/correct/delete them.

Flow of ``POST /v1/products/scrape`` (asynchronous):

1. ``submit_scrape`` commits a ``Pending`` product row (or returns a fresh copy of the same URL
   scraped by the same user), then sends ``{"productId": ...}`` to the scrape queue. Without a
   queue (``queue_url`` unset) it scrapes inline, so the same code works in a bare test process.
2. The scraping function consumes the queue and calls ``scrape_product``: read the row and the
   domain's ``scraping_rules`` (short transaction), wait for the domain's politeness slot,
   check robots.txt, fetch and extract with no transaction open, then write the outcome in ONE
   transaction under a row lock: ``Success`` with every field, its images and its category, or
   ``Failed`` with ``error_message`` and no image rows. A redelivered message finds the row no
   longer Pending and does nothing.

The politeness gate is a row per domain (``scrape_domain_gates``): one atomic upsert reserves the
next slot ``delay_ms`` after the previous one, so concurrent Lambdas space their requests without
holding a lock while they wait. A slot further away than ``max_gate_wait_s`` is not taken; the
message is re-queued with a delay instead (bounded), or the scrape fails when there is no queue.

The fetcher (``SafeFetcher``: SSRF guard, limits) is created once per container; tests replace
it with ``set_fetcher``. Options come from settings (``set_options`` in tests).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.enums import TERMINAL_VIDEO_STATUSES, ScrapingStatus
from ecomvideo.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed, field_error
from ecomvideo.http.auth import Principal
from ecomvideo.http.pagination import apply_keyset, clamp_limit, decode_cursor, page
from ecomvideo.models import ProductCategory, ProductData, ProductImage, ScrapingRule, Video
from ecomvideo.models.scraping import ScrapeDomainGate
from ecomvideo.observability import logger, metrics
from ecomvideo.schemas import products as schemas
from ecomvideo.scraping import (
    ExtractedProduct,
    FetchResult,
    InvalidUrl,
    SafeFetcher,
    ScrapeError,
)
from ecomvideo.settings import get_settings

MAX_CATEGORY_DEPTH = 5
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"})
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
class _Job:
    url: str
    domain: str
    headers: dict[str, str] | None
    selectors: dict[str, Any] | None
    delay_ms: int


def find_rule(session: Session, domain: str) -> ScrapingRule | None:
    """The active rule for ``domain`` or its nearest parent (shop.example.com -> example.com)."""
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if not candidates:
        return None
    rules = session.scalars(
        select(ScrapingRule).where(
            ScrapingRule.domain.in_(candidates), ScrapingRule.is_active.is_(True)
        )
    ).all()
    by_domain = {r.domain: r for r in rules}
    return next((by_domain[c] for c in candidates if c in by_domain), None)


def _job(session: Session, url: str, opts: ScrapeOptions) -> _Job:
    domain = domain_of(url)
    rule = find_rule(session, domain) if domain else None
    if rule is None:
        return _Job(url, domain, None, None, opts.default_delay_ms)
    headers = {str(k): str(v) for k, v in (rule.headers or {}).items()}
    return _Job(url, domain, headers or None, dict(rule.selectors or {}) or None, rule.delay_ms)


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
    row = insert(ScrapeDomainGate).values(domain=domain[:255], next_fetch_at=now + delay)
    stmt = row.on_conflict_do_update(
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


def _wait_for_slot(job: _Job, max_wait_s: float) -> None:
    if not job.domain:
        return
    with transaction() as session:  # committed at once: other invocations must see the claim
        wait = claim_slot(session, job.domain, job.delay_ms, max_wait_s=max_wait_s)
    if wait > 0:
        _sleep(wait)


# ---------------------------------------------------------------------------- fetch + extract


def _fetch_and_extract(job: _Job, opts: ScrapeOptions, max_wait_s: float) -> ExtractedProduct:
    """No transaction is open here (except the gate's own short one). Raises ScrapeError or
    DomainBusy; anything unexpected from the parser becomes a clean ScrapeError."""
    from ecomvideo.scraping import extract_product

    client = fetcher()
    _wait_for_slot(job, max_wait_s)
    try:
        if opts.respect_robots:
            # Refuse a blocked URL with its own message first: its robots.txt is unreachable
            # for the same reason and would otherwise be reported as "robots.txt disallows".
            client._resolve(client._parse_url(job.url))
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


def _apply_failure(product: ProductData, message: str) -> None:
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


def _record(
    session: Session, product: ProductData, outcome: ExtractedProduct | ScrapeError
) -> None:
    """Write the outcome; a database error while saving a success leaves nothing half-saved:
    the savepoint is rolled back and the row is marked Failed instead."""
    if isinstance(outcome, ScrapeError):
        _apply_failure(product, outcome.message)
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
        _apply_failure(product, INTERNAL_MESSAGE)
        return
    metrics.add_metric(name="ScrapesSucceeded", unit="Count", value=1)


# ---------------------------------------------------------------------------- categories


def map_categories(session: Session, crumbs: list[str]) -> uuid.UUID | None:
    """Map a breadcrumb (root first) onto product_categories, creating missing nodes.

    Names are unique across the whole tree (spec), so: the first crumb reuses a category of the
    same name (case-insensitive) wherever it is, e.g. "Kitchen" under "Home & Garden"; each
    further crumb reuses a same-named child of the previous node; when that name already lives
    in another branch, the node is created as "Name (Parent)" ("Accessories (Men)"). ``level``
    is the depth. Inserts use ON CONFLICT DO NOTHING, so concurrent scrapes cannot collide.
    """
    parent: ProductCategory | None = None
    for raw in crumbs[:MAX_CATEGORY_DEPTH]:
        name = " ".join(raw.split())[:100]
        if not name:
            continue
        node = _category_child(session, parent, name)
        if node is None:
            break  # could not place it sensibly: keep the deepest node we have
        parent = node
    return parent.id if parent is not None else None


def _by_name(session: Session, name: str) -> ProductCategory | None:
    return session.scalar(
        select(ProductCategory)
        .where(func.lower(ProductCategory.name) == name.lower())
        .order_by(ProductCategory.level, ProductCategory.created_at)
        .limit(1)
    )


def _category_child(
    session: Session, parent: ProductCategory | None, name: str
) -> ProductCategory | None:
    existing = _by_name(session, name)
    if existing is not None and (parent is None or existing.parent_id == parent.id):
        return existing
    names = [name] if existing is None else []
    if parent is not None:
        names.append(f"{name[: 97 - len(parent.name[:60])]} ({parent.name[:60]})")
        digest = hashlib.sha256(f"{parent.id}/{name}".encode()).hexdigest()[:6]
        names.append(f"{name[:92]} #{digest}")
    for candidate in names:
        found = _by_name(session, candidate)
        if found is not None:
            if parent is not None and found.parent_id == parent.id:
                return found
            continue
        created = session.execute(
            insert(ProductCategory)
            .values(
                name=candidate,
                parent_id=parent.id if parent else None,
                level=(parent.level + 1) if parent else 0,
            )
            .on_conflict_do_nothing(index_elements=[ProductCategory.name])
            .returning(ProductCategory.id)
        ).scalar_one_or_none()
        if created is not None:
            return session.get(ProductCategory, created)
        found = _by_name(session, candidate)  # a concurrent scrape created it a moment ago
        if found is not None and (parent is None or found.parent_id == parent.id):
            return found
    return None


# ---------------------------------------------------------------------------- API: scrape


def _fresh_copy(
    session: Session, user_id: uuid.UUID, url: str, opts: ScrapeOptions
) -> ProductData | None:
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
        existing = _fresh_copy(session, user_id, url, opts)
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


def submit_scrape(
    principal: Principal, url: str, *, force: bool = False
) -> tuple[schemas.ProductDetail, bool]:
    """``POST /v1/products/scrape``: returns (product, accepted). ``accepted`` means a scrape
    was queued (202); otherwise the product is an existing fresh copy (200)."""
    opts = options()
    with transaction() as session:
        product, queue = request_scrape(session, principal.user_id, url, force=force, opts=opts)
        product_id, is_new = product.id, queue
    if queue:
        dispatch(product_id, opts=opts)
        metrics.add_metric(name="ScrapesRequested", unit="Count", value=1)
    with transaction() as session:
        return detail(session, principal, product_id), is_new


def dispatch(
    product_id: uuid.UUID, *, opts: ScrapeOptions | None = None, attempt: int = 0, delay_s: int = 0
) -> None:
    """Queue the scrape of a committed Pending row (inline when no queue is configured)."""
    opts = opts or options()
    if not opts.queue_url:
        scrape_product(product_id, opts=opts)
        return
    from ecomvideo.clients import aws

    body = json.dumps({"productId": str(product_id), "attempt": attempt})
    try:
        aws.sqs().send_message(QueueUrl=opts.queue_url, MessageBody=body, DelaySeconds=delay_s)
    except Exception as exc:
        logger.exception("could not queue scrape", extra={"product_id": str(product_id)})
        with transaction() as session:
            product = session.get(ProductData, product_id, with_for_update=True)
            if product is not None and product.scraping_status is ScrapingStatus.PENDING:
                _apply_failure(product, "The scrape could not be started; please try again.")
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
        job = _job(session, product.original_url, opts)
    outcome: ExtractedProduct | ScrapeError
    try:
        outcome = _fetch_and_extract(job, opts, opts.max_gate_wait_s)
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
        _record(session, product, outcome)
        return str(product.scraping_status)


def parse_message(body: str) -> tuple[uuid.UUID, int]:
    """``{"productId", "attempt"}`` from a scrape queue message; ValueError when malformed."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("message is not an object")
    return uuid.UUID(str(data["productId"])), int(data.get("attempt") or 0)


# ---------------------------------------------------------------------------- API: read/write


def _own(
    session: Session, principal: Principal, product_id: uuid.UUID, *, lock: bool = False
) -> ProductData:
    stmt = select(ProductData).where(
        ProductData.id == product_id, ProductData.user_id == principal.user_id
    )
    if lock:
        stmt = stmt.with_for_update()
    product = session.scalar(stmt)
    if product is None:
        raise NotFound("No such product.")
    return product


def _summary_fields(p: ProductData) -> dict[str, Any]:
    return {
        "id": p.id,
        "status": p.scraping_status,
        "url": p.original_url,
        "domain": p.domain,
        "platform": p.platform,
        "name": p.name,
        "price": p.price,
        "currency": p.currency if p.price is not None else None,
        "main_image_url": p.main_image_url,
        "error_message": p.error_message,
        "scraped_at": p.scraped_at,
        "created_at": p.created_at,
    }


def _category_path(session: Session, category_id: uuid.UUID | None) -> list[ProductCategory]:
    path: list[ProductCategory] = []
    seen: set[uuid.UUID] = set()
    while category_id is not None and category_id not in seen and len(path) < 10:
        seen.add(category_id)
        node = session.get(ProductCategory, category_id)
        if node is None:
            break
        path.append(node)
        category_id = node.parent_id
    return list(reversed(path))


def to_detail(session: Session, p: ProductData) -> schemas.ProductDetail:
    path = _category_path(session, p.category_id)
    leaf = path[-1] if path else None
    images = sorted(p.images, key=lambda i: (i.sort_order, i.created_at))
    return schemas.ProductDetail(
        **_summary_fields(p),
        product_id=p.product_id,
        description=p.description,
        original_price=p.original_price,
        discount_percent=p.discount_percent,
        brand=p.brand,
        sku=p.sku,
        availability=p.availability,
        rating=p.rating,
        review_count=p.review_count,
        category=schemas.CategoryRef(id=leaf.id, name=leaf.name, level=leaf.level)
        if leaf
        else None,
        categories=[c.name for c in path],
        metadata=p.meta or {},
        images=[
            schemas.ProductImageOut(
                id=i.id,
                url=i.url,
                alt_text=i.alt_text,
                width=i.width,
                height=i.height,
                is_primary=bool(i.is_primary),
                sort_order=i.sort_order,
            )
            for i in images
        ],
        updated_at=p.updated_at,
    )


def detail(session: Session, principal: Principal, product_id: uuid.UUID) -> schemas.ProductDetail:
    """One of the caller's products with its images (others' ids are 404)."""
    return to_detail(session, _own(session, principal, product_id))


def list_products(
    session: Session,
    principal: Principal,
    *,
    status: ScrapingStatus | None = None,
    platform: str | None = None,
    domain: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> schemas.ProductPage:
    """The caller's products, newest first (keyset pagination)."""
    size = clamp_limit(limit)
    stmt = select(ProductData).where(ProductData.user_id == principal.user_id)
    if status is not None:
        stmt = stmt.where(ProductData.scraping_status == status)
    if platform:
        stmt = stmt.where(func.lower(ProductData.platform) == platform.lower())
    if domain:
        stmt = stmt.where(ProductData.domain == domain.lower().removeprefix("www."))
    stmt = apply_keyset(stmt, ProductData.created_at, ProductData.id, decode_cursor(cursor))
    rows, next_cursor = page(list(session.scalars(stmt.limit(size + 1))), size)
    return schemas.ProductPage(
        items=[schemas.ProductSummary(**_summary_fields(p)) for p in rows],
        next_cursor=next_cursor,
    )


def update_product(
    session: Session, principal: Principal, product_id: uuid.UUID, body: schemas.ProductUpdate
) -> schemas.ProductDetail:
    """Apply the user's corrections (fields, kept images, their order and the primary)."""
    product = _own(session, principal, product_id, lock=True)
    if product.scraping_status is not ScrapingStatus.SUCCESS:
        raise Conflict("Only a successfully scraped product can be edited.")
    for field_name in ("name", "description", "price", "original_price", "currency", "brand"):
        if field_name in body.model_fields_set:
            value = getattr(body, field_name)
            if field_name == "name" and value is None:
                raise ValidationFailed(
                    "name cannot be empty",
                    errors=[field_error("/name", "must not be empty", "empty")],
                )
            setattr(product, field_name, value)
    if {"price", "original_price"} & body.model_fields_set:
        price, original = product.price, product.original_price
        product.discount_percent = (
            round((1 - price / original) * 100) if price is not None and original else None
        )
    if body.images is not None or body.primary_image_id is not None:
        _choose_images(session, product, body)
    product.updated_by = str(principal.user_id)
    session.flush()
    session.refresh(product)
    return to_detail(session, product)


def _choose_images(session: Session, product: ProductData, body: schemas.ProductUpdate) -> None:
    current = {img.id: img for img in product.images}
    keep = (
        body.images
        if body.images is not None
        else [i.id for i in sorted(product.images, key=lambda i: i.sort_order)]
    )
    unknown = [str(i) for i in keep if i not in current]
    if body.primary_image_id is not None and body.primary_image_id not in keep:
        unknown.append(str(body.primary_image_id))
    if unknown:
        raise ValidationFailed(
            "Some image ids do not belong to this product.",
            errors=[field_error("/images", f"unknown ids: {', '.join(unknown)}", "unknown")],
        )
    primary = body.primary_image_id or keep[0]
    for img_id, img in current.items():
        if img_id not in keep:
            session.delete(img)
    for order, img_id in enumerate(keep):
        current[img_id].sort_order = order
        current[img_id].is_primary = img_id == primary
    product.main_image_url = current[primary].url


def delete_product(session: Session, principal: Principal, product_id: uuid.UUID) -> None:
    """Delete a product and its images. Refused while a video in progress uses it; finished
    videos keep their result and just lose the link."""
    product = _own(session, principal, product_id, lock=True)
    in_use = session.scalar(
        select(func.count())
        .select_from(Video)
        .where(Video.product_data_id == product.id, Video.status.not_in(TERMINAL_VIDEO_STATUSES))
    )
    if in_use:
        raise Conflict("A video is being made from this product; delete it when it has finished.")
    session.execute(
        update(Video).where(Video.product_data_id == product.id).values(product_data_id=None)
    )
    session.delete(product)
    session.flush()


# ---------------------------------------------------------------------------- pipeline


def scrape_for_video(
    session: Session, video: Video, *, opts: ScrapeOptions | None = None
) -> ProductData:
    """The ScrapeProduct step: the product a Url video is made from, linked to the video.

    Returns a ``Success`` product (a fresh copy of the same URL by the same user is reused, so a
    product the user scraped and corrected first feeds the video) or a ``Failed`` one with
    ``error_message``; it raises ``ScrapeError`` only when the video has no product at all.
    The fetch runs before anything is written, so the caller's transaction holds no lock while
    it waits on the shop. Sets ``videos.product_data_id`` and, when empty, ``videos.image_url``
    to the primary image. The caller commits, then fails the step if the product is Failed.
    """
    opts = replace(opts or options(), max_gate_wait_s=max((opts or options()).max_gate_wait_s, 60))
    linked = session.get(ProductData, video.product_data_id) if video.product_data_id else None
    if linked is not None and linked.user_id != video.user_id:
        linked = None
    if linked is not None and linked.scraping_status is ScrapingStatus.SUCCESS:
        return _link(session, video, linked)
    url = ((video.meta or {}).get("request") or {}).get("productUrl") or (
        linked.original_url if linked is not None else None
    )
    if not url:
        raise InvalidUrl("This video has no product URL to read.")
    url = normalise_url(url)
    if linked is None:
        fresh = _fresh_copy(session, video.user_id, url, opts)
        if fresh is not None and fresh.scraping_status is ScrapingStatus.SUCCESS:
            return _link(session, video, fresh)
    job = _job(session, url, opts)
    outcome: ExtractedProduct | ScrapeError
    try:
        outcome = _fetch_and_extract(job, opts, opts.max_gate_wait_s)
    except DomainBusy:
        outcome = ScrapeError(BUSY_MESSAGE)
    except ScrapeError as exc:
        outcome = exc
    if linked is not None and linked.scraping_status is ScrapingStatus.PENDING:
        product = session.get(ProductData, linked.id, with_for_update=True, populate_existing=True)
    else:
        product = None
    if product is None or product.scraping_status is not ScrapingStatus.PENDING:
        if product is not None and product.scraping_status is ScrapingStatus.SUCCESS:
            return _link(session, video, product)  # the API's own scrape finished first
        product = ProductData(
            id=uuid.uuid4(),
            user_id=video.user_id,
            original_url=url,
            domain=domain_of(url)[:100] or None,
            name=url[:500],
            scraping_status=ScrapingStatus.PENDING,
            created_by="pipeline",
        )
        session.add(product)
        session.flush()
    _record(session, product, outcome)
    session.flush()
    return _link(session, video, product)


def _link(session: Session, video: Video, product: ProductData) -> ProductData:
    values: dict[str, Any] = {"product_data_id": product.id}
    if not video.image_url and product.main_image_url:
        values["image_url"] = product.main_image_url
    session.execute(update(Video).where(Video.id == video.id).values(**values))
    session.expire(video)
    return product


def fetch_image(url: str, *, max_bytes: int = 10 * 1024 * 1024) -> tuple[bytes, str]:
    """Download a product image through the SSRF-safe fetcher: (bytes, content type).

    For the video step (the primary image of a scraped product). Raises ``ScrapeError``.
    """
    client = fetcher()
    result = client._fetch(url, headers=None, kinds=IMAGE_TYPES, max_bytes=max_bytes)
    if not result.content:
        raise ScrapeError("The product image is empty.")
    return result.content, result.content_type


# ---------------------------------------------------------------------------- scraping rules


def _rule_out(rule: ScrapingRule) -> schemas.ScrapingRuleOut:
    return schemas.ScrapingRuleOut.model_validate(rule, from_attributes=True)


def list_rules(
    session: Session,
    *,
    domain: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> schemas.ScrapingRulePage:
    """All scraping rules (admin), newest first; ``domain`` filters by substring."""
    size = clamp_limit(limit)
    stmt = select(ScrapingRule)
    if domain:
        stmt = stmt.where(ScrapingRule.domain.contains(domain.lower(), autoescape=True))
    stmt = apply_keyset(stmt, ScrapingRule.created_at, ScrapingRule.id, decode_cursor(cursor))
    rows, next_cursor = page(list(session.scalars(stmt.limit(size + 1))), size)
    return schemas.ScrapingRulePage(items=[_rule_out(r) for r in rows], next_cursor=next_cursor)


def get_rule(session: Session, rule_id: uuid.UUID) -> schemas.ScrapingRuleOut:
    rule = session.get(ScrapingRule, rule_id)
    if rule is None:
        raise NotFound("No such scraping rule.")
    return _rule_out(rule)


def _domain_taken(session: Session, domain: str, rule_id: uuid.UUID | None) -> bool:
    stmt = select(ScrapingRule.id).where(ScrapingRule.domain == domain)
    if rule_id is not None:
        stmt = stmt.where(ScrapingRule.id != rule_id)
    return session.scalar(stmt) is not None


def create_rule(
    session: Session, principal: Principal, body: schemas.ScrapingRuleIn
) -> schemas.ScrapingRuleOut:
    """Create the rule of a domain (one per domain: 409 when it exists)."""
    if _domain_taken(session, body.domain, None):
        raise Conflict(f"A scraping rule for {body.domain} already exists.")
    rule = ScrapingRule(**body.model_dump(), updated_by=str(principal.user_id))
    session.add(rule)
    session.flush()
    session.refresh(rule)
    return _rule_out(rule)


def replace_rule(
    session: Session, principal: Principal, rule_id: uuid.UUID, body: schemas.ScrapingRuleIn
) -> schemas.ScrapingRuleOut:
    """Replace every field of a rule (PUT)."""
    rule = session.get(ScrapingRule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFound("No such scraping rule.")
    if _domain_taken(session, body.domain, rule_id):
        raise Conflict(f"A scraping rule for {body.domain} already exists.")
    for key, value in body.model_dump().items():
        setattr(rule, key, value)
    rule.updated_by = str(principal.user_id)
    session.flush()
    session.refresh(rule)
    return _rule_out(rule)


def delete_rule(session: Session, rule_id: uuid.UUID) -> None:
    rule = session.get(ScrapingRule, rule_id)
    if rule is None:
        raise NotFound("No such scraping rule.")
    session.delete(rule)
    session.flush()
