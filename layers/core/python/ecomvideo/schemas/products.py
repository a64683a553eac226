"""Products API contract: scrape requests, products with images, corrections, scraping rules."""

import re
import uuid
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ecomvideo.enums import ScrapingStatus
from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.fields import UtcDateTime, bounded_list

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
# Headers that carry the fetcher's SSRF/size guarantees or would impersonate a user session.
FORBIDDEN_RULE_HEADERS = frozenset(
    {
        "host",
        "cookie",
        "authorization",
        "proxy-authorization",
        "accept-encoding",
        "content-length",
        "transfer-encoding",
        "connection",
    }
)
_DOMAIN = re.compile(r"^(?=.{1,100}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def _product_url(value: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://", value, re.IGNORECASE):
        raise ValueError("must be an http:// or https:// URL")
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain spaces")
    return value


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError("must be an ISO 4217 code such as EUR")
    return code


ProductUrl = Annotated[
    str, StringConstraints(min_length=8, max_length=1000), AfterValidator(_product_url)
]
Currency = Annotated[str, AfterValidator(_currency)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)]


class ScrapeRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://lumen-lamps.example.com/products/arc-floor-lamp-brass",
                    "force": False,
                }
            ]
        },
    )

    url: ProductUrl
    force: bool = Field(False, description="Scrape again even when a fresh copy exists.")


class CategoryRef(Schema):
    id: uuid.UUID
    name: str
    level: int


class ProductImageOut(Schema):
    id: uuid.UUID
    url: str
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None
    is_primary: bool
    sort_order: int


class ProductSummary(Schema):
    id: uuid.UUID
    status: ScrapingStatus
    url: str
    domain: str | None = None
    platform: str | None = None
    name: str
    price: Decimal | None = None
    currency: str | None = None
    main_image_url: str | None = None
    error_message: str | None = None
    scraped_at: UtcDateTime | None = None
    created_at: UtcDateTime


class ProductDetail(ProductSummary):
    product_id: str | None = Field(None, description="The shop's own product id.")
    description: str | None = None
    original_price: Decimal | None = None
    discount_percent: int | None = None
    brand: str | None = None
    sku: str | None = None
    availability: str | None = None
    rating: Decimal | None = None
    review_count: int | None = None
    category: CategoryRef | None = None
    categories: list[str] = Field(
        default_factory=list,
        description="Breadcrumb, root first.",
        json_schema_extra=bounded_list("a breadcrumb: at most 6 levels"),
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    images: list[ProductImageOut] = Field(
        default_factory=list, json_schema_extra=bounded_list("at most 20 images per product")
    )
    updated_at: UtcDateTime | None = None


class ProductPage(Schema):
    items: list[ProductSummary]
    next_cursor: str | None = None


class ProductUpdate(Schema):
    """The user's corrections before making a video.

    ``images`` is the ordered list of image ids to keep: list order becomes ``sort_order``,
    images left out are removed, and the primary is ``primary_image_id`` (default: the first).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Aero Runner Knit Sneaker - White",
                    "description": "Breathable knit upper, recycled foam sole, 240 g per shoe.",
                    "price": "89.90",
                    "original_price": "119.00",
                    "currency": "EUR",
                    "brand": "Stride",
                    "images": [
                        "2f6d8c1a-9b3e-4f5a-8c7d-1e2f3a4b5c6d",
                        "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d",
                    ],
                    "primary_image_id": "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d",
                }
            ]
        },
    )

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
        | None
    ) = None
    description: Annotated[str, StringConstraints(max_length=20000)] | None = None
    price: Money | None = None
    original_price: Money | None = None
    currency: Currency | None = None
    brand: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    images: Annotated[list[uuid.UUID], Field(min_length=1, max_length=50)] | None = None
    primary_image_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.images is not None:
            if len(set(self.images)) != len(self.images):
                raise ValueError("images must not repeat an id")
            if self.primary_image_id is not None and self.primary_image_id not in self.images:
                raise ValueError("primary_image_id must be one of images")
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        return self


# ---------------------------------------------------------------------------- scraping rules

SelectorSpec = (
    Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    | dict[str, str]
)


class ScrapingRuleIn(Schema):
    """A per-domain scraping rule. ``selectors`` maps field names to a CSS selector or to
    ``{"css": "...", "attr": "content"}``; ``headers`` are extra request headers."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "domain": "lumen-lamps.example.com",
                    "platform": "Shopify",
                    "selectors": {
                        "name": "h1.product__title",
                        "price": ".price-item--sale",
                        "brand": {"css": "meta[property='og:site_name']", "attr": "content"},
                        "images": {"css": ".product__media img", "attr": "src"},
                    },
                    "headers": {"Accept-Language": "en-US"},
                    "delay_ms": 1500,
                    "is_active": True,
                }
            ]
        },
    )

    domain: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=100)]
    platform: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    selectors: dict[str, SelectorSpec] = Field(default_factory=dict)
    headers: dict[str, Annotated[str, StringConstraints(max_length=1000)]] | None = None
    delay_ms: Annotated[int, Field(ge=0, le=60000)] = 1000
    is_active: bool = True

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        host = value.lower().rstrip(".")
        if "://" in host or "/" in host:
            raise ValueError("must be a bare domain such as shop.example.com (no scheme or path)")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("must be a valid domain name") from None
        host = host.removeprefix("www.")
        if not _DOMAIN.match(host):
            raise ValueError("must be a valid domain name such as shop.example.com")
        return host

    @field_validator("selectors")
    @classmethod
    def _selectors(cls, value: dict[str, Any]) -> dict[str, Any]:
        from ecomvideo.scraping import SELECTOR_FIELDS

        unknown = sorted(set(value) - SELECTOR_FIELDS)
        if unknown:
            known = ", ".join(sorted(SELECTOR_FIELDS))
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {known}")
        for field_name, spec in value.items():
            css = spec
            if isinstance(spec, dict):
                extra = set(spec) - {"css", "attr"}
                if extra or "css" not in spec:
                    raise ValueError(f"{field_name}: use a selector string or {{css, attr}}")
                css = spec["css"]
                attr = spec.get("attr")
                if attr is not None and not re.fullmatch(r"[A-Za-z_:][-A-Za-z0-9_:.]{0,99}", attr):
                    raise ValueError(f"{field_name}: attr is not a valid attribute name")
            if not _css_ok(css):
                raise ValueError(f"{field_name}: {css!r} is not a valid CSS selector")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if len(value) > 20:
            raise ValueError("at most 20 headers")
        for name, header_value in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in FORBIDDEN_RULE_HEADERS:
                raise ValueError(f"the {name} header cannot be set by a rule")
            if any(ch in header_value for ch in "\r\n\0"):
                raise ValueError(f"the {name} header value contains a line break")
        return value


def _css_ok(css: str) -> bool:
    from selectolax.lexbor import LexborHTMLParser

    if not css or not css.strip() or len(css) > 500:
        return False
    try:
        LexborHTMLParser("<html></html>").css(css)
    except Exception:  # selectolax raises SelectolaxError (a bare Exception subclass)
        return False
    return True


class ScrapingRuleOut(Schema):
    id: uuid.UUID
    domain: str
    platform: str
    selectors: dict[str, Any]
    headers: dict[str, Any] | None = None
    delay_ms: int
    is_active: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime | None = None
    updated_by: str | None = None


class ScrapingRulePage(Schema):
    items: list[ScrapingRuleOut]
    next_cursor: str | None = None
