"""Result models of the extraction (shaped after product_data / product_images)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Availability(StrEnum):
    IN_STOCK = "InStock"
    OUT_OF_STOCK = "OutOfStock"
    PRE_ORDER = "PreOrder"
    BACK_ORDER = "BackOrder"
    DISCONTINUED = "Discontinued"
    LIMITED_AVAILABILITY = "LimitedAvailability"
    UNKNOWN = "Unknown"


class Platform(StrEnum):
    SHOPIFY = "Shopify"
    AMAZON = "Amazon"
    ETSY = "Etsy"
    WOOCOMMERCE = "WooCommerce"
    BIGCOMMERCE = "BigCommerce"
    MAGENTO = "Magento"
    PRESTASHOP = "PrestaShop"
    SQUARESPACE = "Squarespace"
    WIX = "Wix"
    EBAY = "eBay"
    WALMART = "Walmart"
    GENERIC = "Generic"


# Plain dataclasses, not pydantic models: the extractor builds them from already-typed values,
# and importing the scraper must not pay for pydantic's schema building (cold start).
@dataclass(frozen=True, slots=True)
class ExtractedImage:
    """One product image (a future product_images row)."""

    url: str
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None
    is_primary: bool = False
    sort_order: int = 0


def _empty_metadata() -> dict[str, Any]:
    return {"variants": [], "specifications": {}, "shipping": {}, "seo": {}}


@dataclass(slots=True, kw_only=True)
class ExtractedProduct:
    """What we could read from one product page (a future product_data row).

    String lengths are already cut to the product_data column sizes, image URLs longer than
    the column are dropped, and ``metadata`` is JSON-serialisable (decimals as strings) in the
    ProductData.metadata shape ``{"variants", "specifications", "shipping", "seo"}``.
    """

    url: str
    domain: str
    platform: Platform = Platform.GENERIC
    product_id: str | None = None
    name: str
    description: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    original_price: Decimal | None = None
    discount_percent: int | None = None
    brand: str | None = None
    sku: str | None = None
    availability: Availability = Availability.UNKNOWN
    rating: Decimal | None = None
    review_count: int | None = None
    main_image_url: str | None = None
    images: list[ExtractedImage] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=_empty_metadata)
    # Which layers contributed (e.g. ["json-ld", "shopify", "opengraph"]): for debugging/metrics.
    sources: list[str] = field(default_factory=list)
