"""Products: the caller's scraped products (list, read, correct, delete), the scrape request of
the API, and the pipeline's product step (``scrape_for_video``, ``fetch_image``).

Where the rest lives: the scrape of one page (options, fetcher, politeness gate, writing the
outcome) in ``product_scraper``; the queue and its consumer in ``scrape_jobs``; the category
tree in ``product_categories``; per-domain rules in ``scraping_rules``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypedDict

from sqlalchemy import String, column, func, select, table, update
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Session

from ecomvideo.db import transaction
from ecomvideo.enums import TERMINAL_VIDEO_STATUSES, ScrapingStatus
from ecomvideo.errors import Conflict, NotFound, ValidationFailed, field_error
from ecomvideo.keyset import apply_keyset, clamp_limit, decode_cursor, page
from ecomvideo.models import ProductData
from ecomvideo.observability import metrics
from ecomvideo.schemas import products as schemas
from ecomvideo.scraping import ExtractedProduct, InvalidUrl, ScrapeError
from ecomvideo.security.principal import Principal
from ecomvideo.services.product_categories import category_path
from ecomvideo.services.product_scraper import (
    BUSY_MESSAGE,
    DomainBusy,
    ScrapeOptions,
    domain_of,
    fetch_and_extract,
    fetcher,
    fresh_copy,
    job_for,
    normalise_url,
    options,
    record_outcome,
)
from ecomvideo.services.scrape_jobs import dispatch, request_scrape

if TYPE_CHECKING:
    from ecomvideo.models import Video

# The columns of ``videos`` this module reads and writes (a product in use, unlinking, linking),
# as a lightweight table clause: mapping ``Video`` for them made the scraping function declare
# the video tables (videos, categories, templates, tags). tests/unit/test_light_tables.py keeps
# each column the model's.
VIDEOS_TABLE = table(
    "videos",
    column("id", UUID),
    column("product_data_id", UUID),
    column("status", String),
    column("image_url", String),
)

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"})


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


def to_detail(session: Session, p: ProductData) -> schemas.ProductDetail:
    path = category_path(session, p.category_id)
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


class ProductFilters(TypedDict, total=False):
    """The optional filters of ``list_products`` (the API passes its query parameters)."""

    status: ScrapingStatus | None
    platform: str | None
    domain: str | None


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
    videos = VIDEOS_TABLE.c
    in_use = session.scalar(
        select(func.count())
        .select_from(VIDEOS_TABLE)
        .where(
            videos.product_data_id == product.id,
            videos.status.not_in([status.value for status in TERMINAL_VIDEO_STATUSES]),
        )
    )
    if in_use:
        raise Conflict("A video is being made from this product; delete it when it has finished.")
    session.execute(
        update(VIDEOS_TABLE)
        .where(videos.product_data_id == product.id)
        .values(product_data_id=None)
    )
    session.delete(product)
    session.flush()


# ---------------------------------------------------------------------------- API: scrape


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
        fresh = fresh_copy(session, video.user_id, url, opts)
        if fresh is not None and fresh.scraping_status is ScrapingStatus.SUCCESS:
            return _link(session, video, fresh)
    job = job_for(session, url, opts)
    outcome: ExtractedProduct | ScrapeError
    try:
        outcome = fetch_and_extract(job, opts, opts.max_gate_wait_s)
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
    record_outcome(session, product, outcome)
    session.flush()
    return _link(session, video, product)


def _link(session: Session, video: Video, product: ProductData) -> ProductData:
    values: dict[str, Any] = {"product_data_id": product.id}
    if not video.image_url and product.main_image_url:
        values["image_url"] = product.main_image_url
    session.execute(update(VIDEOS_TABLE).where(VIDEOS_TABLE.c.id == video.id).values(**values))
    session.expire(video)  # the update bypassed the ORM
    return product


def fetch_image(url: str, *, max_bytes: int = 10 * 1024 * 1024) -> tuple[bytes, str]:
    """Download a product image through the SSRF-safe fetcher: (bytes, content type).

    For the video step (the primary image of a scraped product). Raises ``ScrapeError``.
    """
    client = fetcher()
    result = client.fetch_media(url, kinds=IMAGE_TYPES, max_bytes=max_bytes)
    if not result.content:
        raise ScrapeError("The product image is empty.")
    return result.content, result.content_type
