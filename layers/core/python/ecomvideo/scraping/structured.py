"""Structured data layers: JSON-LD, microdata / RDFa-lite and OpenGraph / product meta tags.

Microdata and RDFa are converted to the same dict shape as JSON-LD so one normaliser
(``product_from_node``) reads all three.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ecomvideo.scraping.fields import Fields, normalise_availability
from ecomvideo.scraping.images import ImageCandidate, absolute_url
from ecomvideo.scraping.models import Availability
from ecomvideo.scraping.prices import detect_currency, parse_price
from ecomvideo.scraping.text import clean_text, one_line

PRODUCT_TYPES = frozenset(
    {
        "Product",
        "ProductGroup",
        "IndividualProduct",
        "ProductModel",
        "SomeProducts",
        "Book",
        "Vehicle",
        "Car",
    }
)
_PAGE_TYPES = frozenset({"WebPage", "ItemPage", "ProductPage", "Offer"})
_LIST_PRICE_TYPES = ("listprice", "strikethroughprice", "msrp", "regularprice")
_SPEC_PROPS = {
    "color": "Color",
    "material": "Material",
    "size": "Size",
    "pattern": "Pattern",
    "weight": "Weight",
    "width": "Width",
    "height": "Height",
    "depth": "Depth",
    "gtin": "GTIN",
    "gtin8": "GTIN",
    "gtin12": "GTIN",
    "gtin13": "GTIN",
    "gtin14": "GTIN",
    "mpn": "MPN",
    "model": "Model",
    "itemCondition": "Condition",
    "audience": "Audience",
}
_BUYABLE = (
    Availability.IN_STOCK,
    Availability.LIMITED_AVAILABILITY,
    Availability.PRE_ORDER,
    Availability.BACK_ORDER,
)
_EMPTY_VALUES = frozenset({"n/a", "na", "none", "null", "-", "unknown", "undefined"})
_VARIANT_OPTION_PROPS = ("color", "size", "material", "pattern")


# Types compared case-insensitively: shops write "product", "PRODUCT", "schema:Product".
_CANONICAL_TYPES = {
    t.lower(): t
    for t in (
        *PRODUCT_TYPES,
        *_PAGE_TYPES,
        "AggregateOffer",
        "ItemList",
        "OfferCatalog",
        "ListItem",
        "BreadcrumbList",
        "Brand",
        "Organization",
        "AggregateRating",
        "Review",
    )
}


def short_type(value: Any) -> set[str]:
    """``{"Product"}`` from ``"Product"``, ``"product"``, ``"http://schema.org/Product"``,
    ``"schema:Product"``, lists thereof (known schema.org types get their canonical case)."""
    values = value if isinstance(value, list) else [value]
    out = set()
    for v in values:
        if isinstance(v, str) and v:
            name = re.split(r"[/#:]", v.strip())[-1]
            out.add(_CANONICAL_TYPES.get(name.lower(), name))
    return out


def _first(value: Any) -> Any:
    if isinstance(value, list):
        for v in value:
            if v not in (None, "", [], {}):
                return v
        return None
    return value


def _text(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("value")
        value = _first(value)
    if value is None or isinstance(value, dict | list):
        return None
    text = one_line(str(value))
    return text or None


def _decimal(value: Any) -> Decimal | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("@value") or value.get("value")
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _int(value: Any) -> int | None:
    value = _first(value)
    if value is None or isinstance(value, bool):
        return None
    digits = re.sub(r"[^\d]", "", str(value).split(".")[0])
    return int(digits) if digits else None


# -- JSON-LD ----------------------------------------------------------------------------------

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _loads_lenient(raw: str) -> Any:
    text = raw.strip()
    for prefix, suffix in (("<!--", "-->"), ("/*<![CDATA[*/", "/*]]>*/"), ("<![CDATA[", "]]>")):
        if text.startswith(prefix) and text.endswith(suffix):
            text = text[len(prefix) : -len(suffix)].strip()
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", _CONTROL.sub(" ", text)), strict=False)
    except ValueError:
        return None


@dataclass
class JsonLd:
    """All JSON-LD of a page: the top-level nodes and an ``@id`` index for references."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    listing_items: int = 0

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"@id"}:
            return self.by_id.get(str(value["@id"]), value)
        return value

    def products(self) -> list[dict[str, Any]]:
        """Top-level product nodes; variants of a ProductGroup are not counted separately."""
        variant_ids: set[str] = set()
        for node in self.nodes:
            if "ProductGroup" in short_type(node.get("@type")):
                for v in _as_list(node.get("hasVariant")):
                    v = self.resolve(v)
                    if isinstance(v, dict) and v.get("@id"):
                        variant_ids.add(str(v["@id"]))
        seen: set[int] = set()
        out = []
        for node in self.nodes:
            if short_type(node.get("@type")) & PRODUCT_TYPES and id(node) not in seen:
                if str(node.get("@id", "")) in variant_ids:
                    continue
                seen.add(id(node))
                out.append(node)
        return out

    def breadcrumbs(self) -> list[str]:
        for node in self.nodes:
            if "BreadcrumbList" in short_type(node.get("@type")):
                return _breadcrumb_names(self, node)
        return []


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _index(value: Any, by_id: dict[str, dict[str, Any]]) -> None:
    if isinstance(value, dict):
        if "@id" in value and len(value) > 1:
            by_id.setdefault(str(value["@id"]), value)
        for v in value.values():
            _index(v, by_id)
    elif isinstance(value, list):
        for v in value:
            _index(v, by_id)


def _collect(value: Any, out: JsonLd) -> None:
    if isinstance(value, list):
        for v in value:
            _collect(v, out)
        return
    if not isinstance(value, dict):
        return
    if "@graph" in value:
        _collect(value["@graph"], out)
    types = short_type(value.get("@type"))
    if not types:
        return
    out.nodes.append(value)
    if types & _PAGE_TYPES:
        for key in ("mainEntity", "mainEntityOfPage", "itemOffered"):
            inner = value.get(key)
            if isinstance(inner, dict | list):
                _collect(inner, out)
    if "ItemList" in types or "OfferCatalog" in types:
        # Every entry of a product list counts; breadcrumbs are a different type.
        out.listing_items += sum(
            1 for e in _as_list(value.get("itemListElement")) if isinstance(e, dict | str)
        )


def parse_json_ld(tree: LexborHTMLParser) -> JsonLd:
    """All ``<script type="application/ld+json">`` blocks; broken blocks are skipped."""
    result = JsonLd()
    for script in tree.css('script[type="application/ld+json" i]'):
        data = _loads_lenient(script.text(deep=True) or "")
        if data is None:
            continue
        _index(data, result.by_id)
        _collect(data, result)
    return result


def _breadcrumb_names(ld: JsonLd, node: dict[str, Any]) -> list[str]:
    elements = [ld.resolve(e) for e in _as_list(node.get("itemListElement"))]
    elements = [e for e in elements if isinstance(e, dict)]

    def position(e: dict[str, Any]) -> int:
        return _int(e.get("position")) or 0

    names = []
    for e in sorted(elements, key=position):
        item = ld.resolve(e.get("item"))
        name = _text(e.get("name")) or (_text(item) if isinstance(item, dict) else None)
        if name:
            names.append(name)
    return names


def choose_product(ld: JsonLd, page_url: str) -> dict[str, Any] | None:
    """The page's main product: a ProductGroup, else the one whose url is the page, else the
    first product with offers, else the first product."""
    products = ld.products()
    if not products:
        return None
    for p in products:
        if "ProductGroup" in short_type(p.get("@type")):
            return p
    page = page_url.split("?", 1)[0].rstrip("/")
    for p in products:
        url = _text(p.get("url")) or str(p.get("@id", ""))
        if url and url.split("?", 1)[0].split("#", 1)[0].rstrip("/") == page:
            return p
    for p in products:
        if p.get("offers"):
            return p
    return products[0]


def _images(value: Any, base: str, resolve: Any) -> list[ImageCandidate]:
    out: list[ImageCandidate] = []
    for item in _as_list(value):
        item = resolve(item)
        if isinstance(item, str):
            url = absolute_url(item, base)
            if url:
                out.append(ImageCandidate(url))
        elif isinstance(item, dict):
            url = absolute_url(_text(item.get("contentUrl")) or _text(item.get("url")), base)
            if url:
                alt = _text(item.get("caption")) or _text(item.get("name"))
                out.append(
                    ImageCandidate(url, alt, _int(item.get("width")), _int(item.get("height")))
                )
    return out


@dataclass
class _Offer:
    price: Decimal | None = None
    currency: str | None = None
    original: Decimal | None = None
    availability: Any = None
    node: dict[str, Any] | None = None


def _read_offer(offer: dict[str, Any], resolve: Any, domain: str) -> _Offer:
    out = _Offer(node=offer)
    out.currency = _text(offer.get("priceCurrency"))
    out.availability = _text(offer.get("availability"))
    raw_price = _first(offer.get("price"))
    if raw_price is None and "AggregateOffer" in short_type(offer.get("@type")):
        raw_price = _first(offer.get("lowPrice"))
    for spec in _as_list(offer.get("priceSpecification")):
        spec = resolve(spec)
        if not isinstance(spec, dict):
            continue
        kind = (_text(spec.get("priceType")) or "").lower().rsplit("/", 1)[-1]
        spec_currency = _text(spec.get("priceCurrency"))
        out.currency = out.currency or spec_currency
        value = parse_price(_first(spec.get("price")), currency=out.currency, machine=True)
        if kind in _LIST_PRICE_TYPES:
            out.original = value
        elif raw_price is None and value is not None:
            raw_price = _first(spec.get("price"))
    if isinstance(raw_price, str) and out.currency is None:
        out.currency = detect_currency(raw_price, domain=domain)
    out.price = parse_price(raw_price, currency=out.currency, machine=True)
    return out


def _offers(node: dict[str, Any], ld: JsonLd, domain: str) -> list[_Offer]:
    offers: list[_Offer] = []
    for raw in _as_list(node.get("offers")):
        raw = ld.resolve(raw)
        if not isinstance(raw, dict):
            continue
        offer = _read_offer(raw, ld.resolve, domain)
        offers.append(offer)
        # An AggregateOffer lists its offers; some shops also nest an Offer inside an Offer.
        if "AggregateOffer" in short_type(raw.get("@type")) or (
            offer.price is None and raw.get("offers")
        ):
            for inner in _as_list(raw.get("offers")):
                inner = ld.resolve(inner)
                if isinstance(inner, dict):
                    read = _read_offer(inner, ld.resolve, domain)
                    read.currency = read.currency or offer.currency
                    if offer.price is None:
                        offers.insert(len(offers) - 1, read)
                    else:
                        offers.append(read)
    return offers


def _shipping(offer: dict[str, Any] | None, resolve: Any) -> dict[str, Any]:
    if not offer:
        return {}
    details = resolve(_first(offer.get("shippingDetails")))
    if not isinstance(details, dict):
        return {}
    out: dict[str, Any] = {}
    rate = resolve(details.get("shippingRate"))
    if isinstance(rate, dict):
        value = _decimal(rate.get("value"))
        if value is not None:
            out["rate"] = str(value)
            out["free_shipping"] = value == 0
        if _text(rate.get("currency")):
            out["currency"] = _text(rate.get("currency"))
    dest = resolve(_first(details.get("shippingDestination")))
    if isinstance(dest, dict) and _text(dest.get("addressCountry")):
        out["destination"] = _text(dest.get("addressCountry"))
    delivery = resolve(details.get("deliveryTime"))
    if isinstance(delivery, dict):
        days: dict[str, int] = {}
        for part in ("handlingTime", "transitTime"):
            q = resolve(delivery.get(part))
            if isinstance(q, dict):
                for bound in ("minValue", "maxValue"):
                    n = _int(q.get(bound))
                    if n is not None:
                        key = bound[:3]
                        days[key] = days.get(key, 0) + n
        if days:
            out["delivery_days"] = days
    return out


def _variant(node: dict[str, Any], ld: JsonLd, base: str, domain: str) -> dict[str, Any]:
    offers = _offers(node, ld, domain)
    offer = next((o for o in offers if o.price is not None), offers[0] if offers else _Offer())
    images = _images(node.get("image"), base, ld.resolve)
    options = {
        prop.capitalize(): _text(node.get(prop))
        for prop in _VARIANT_OPTION_PROPS
        if _text(node.get(prop))
    }
    availability = normalise_availability(offer.availability)
    return {
        k: v
        for k, v in {
            "name": _text(node.get("name")),
            "sku": _text(node.get("sku")),
            "product_id": _text(node.get("productID")) or _text(node.get("@id")),
            "price": str(offer.price) if offer.price is not None else None,
            "currency": offer.currency,
            "availability": availability.value if availability else None,
            "options": options or None,
            "image": images[0].url if images else None,
        }.items()
        if v is not None
    }


def _offer_variant(offer: _Offer) -> dict[str, Any]:
    node = offer.node or {}
    availability = normalise_availability(offer.availability)
    entry = {
        "name": _text(node.get("name")),
        "sku": _text(node.get("sku")),
        "price": str(offer.price) if offer.price is not None else None,
        "currency": offer.currency,
        "availability": availability.value if availability else None,
    }
    return {k: v for k, v in entry.items() if v is not None}


def product_from_node(
    node: dict[str, Any], ld: JsonLd, *, base: str, domain: str, source: str
) -> Fields:
    """Read one schema.org Product/ProductGroup node (JSON-LD, or microdata in the same shape)."""
    f = Fields(source=source)
    f.name = _text(node.get("name"))
    description = _first(node.get("description"))
    f.description = clean_text(description) if isinstance(description, str) else None
    brand = ld.resolve(_first(node.get("brand"))) or ld.resolve(_first(node.get("manufacturer")))
    f.brand = _text(brand)
    f.sku = _text(node.get("sku"))
    f.product_id = _text(node.get("productID")) or _text(node.get("productGroupID"))
    f.images = _images(node.get("image"), base, ld.resolve)

    variants_nodes = [ld.resolve(v) for v in _as_list(node.get("hasVariant"))]
    variants_nodes = [v for v in variants_nodes if isinstance(v, dict)]
    offers = _offers(node, ld, domain)
    if not offers and variants_nodes:
        offers = _offers(variants_nodes[0], ld, domain)
        f.sku = f.sku or _text(variants_nodes[0].get("sku"))
        for v in variants_nodes:
            f.images.extend(_images(v.get("image"), base, ld.resolve))
    chosen = next((o for o in offers if o.price is not None), offers[0] if offers else None)
    if chosen:
        f.price, f.currency, f.original_price = chosen.price, chosen.currency, chosen.original
        f.availability = normalise_availability(chosen.availability)
        if f.availability in (None, Availability.OUT_OF_STOCK, Availability.DISCONTINUED):
            # One offer per size/colour (or an AggregateOffer leaving it to its offers): the
            # product can be bought when any of its offers or variants can.
            every = offers + [o for v in variants_nodes[1:] for o in _offers(v, ld, domain)]
            found = [a for o in every if (a := normalise_availability(o.availability))]
            buyable = [a for a in found if a in _BUYABLE]
            fallback = f.availability or (found[0] if found else None)
            f.availability = buyable[0] if buyable else fallback
        f.shipping = _shipping(chosen.node, ld.resolve)
    f.variants = [_variant(v, ld, base, domain) for v in variants_nodes]
    if not f.variants and len(offers) > 1:
        f.variants = [
            _offer_variant(o)
            for o in offers
            if o.node and "AggregateOffer" not in short_type(o.node.get("@type"))
        ]

    rating = ld.resolve(node.get("aggregateRating"))
    if isinstance(rating, dict):
        value = _decimal(rating.get("ratingValue"))
        best = _decimal(rating.get("bestRating"))
        if value is not None:
            if best and best > 0 and best != 5:
                value = value * 5 / best  # the product_data.rating column is a 0-5 scale
            f.rating = value.quantize(Decimal("0.01"))
        f.review_count = _int(rating.get("reviewCount")) or _int(rating.get("ratingCount"))

    category = _text(node.get("category"))
    if category:
        f.categories = [c.strip() for c in re.split(r"\s*[<>/|]\s*", category) if c.strip()]
    for prop, label in _SPEC_PROPS.items():
        spec = _text(node.get(prop))
        if spec and spec.lower() in _EMPTY_VALUES:
            continue
        if spec and label not in f.specifications:
            f.specifications[label] = spec.rsplit("/", 1)[-1] if "schema.org" in spec else spec
    for prop in _as_list(node.get("additionalProperty")):
        prop = ld.resolve(prop)
        if isinstance(prop, dict) and _text(prop.get("name")) and _text(prop.get("value")):
            f.specifications[_text(prop.get("name")) or ""] = _text(prop.get("value")) or ""
    return f


# -- Microdata / RDFa-lite ----------------------------------------------------------------------

_URL_TAGS = {
    "a": "href",
    "link": "href",
    "area": "href",
    "img": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "iframe": "src",
    "track": "src",
    "object": "data",
}


def _owner(node: LexborNode, scope_attr: str) -> LexborNode | None:
    parent = node.parent
    while parent is not None and parent.tag not in ("html", "-undef"):
        if scope_attr in parent.attributes:
            return parent
        parent = parent.parent
    return None


def _prop_value(
    node: LexborNode, base: str, scope_attr: str, prop_attr: str, type_attr: str
) -> dict[str, Any] | str | None:
    attrs = node.attributes
    if scope_attr in attrs:
        return _item(node, base, scope_attr, prop_attr, type_attr)
    if attrs.get("content") is not None:
        return attrs.get("content")
    tag = node.tag
    if tag in _URL_TAGS:
        raw = attrs.get(_URL_TAGS[tag])
        if tag == "img":
            raw = attrs.get("data-src") or raw
        return absolute_url(raw, base) or raw
    if tag in ("data", "meter") and attrs.get("value") is not None:
        return attrs.get("value")
    if tag == "time" and attrs.get("datetime"):
        return attrs.get("datetime")
    return node.text(deep=True, separator=" ")


def _item(
    scope: LexborNode, base: str, scope_attr: str, prop_attr: str, type_attr: str
) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": (scope.attributes.get(type_attr) or "").split()}
    if scope.attributes.get("itemid"):
        item["@id"] = scope.attributes.get("itemid")
    scope_id = scope.mem_id
    for node in scope.css(f"[{prop_attr}]"):
        owner = _owner(node, scope_attr)
        # Compare identities: LexborNode equality serialises both nodes' HTML.
        if owner is None or owner.mem_id != scope_id:
            continue
        value = _prop_value(node, base, scope_attr, prop_attr, type_attr)
        for name in (node.attributes.get(prop_attr) or "").split():
            name = re.split(r"[/#:]", name)[-1]
            if name == "description" and node.attributes.get("content") is None and node.html:
                value = clean_text(node.html)  # keep paragraph breaks
            item.setdefault(name, []).append(value)
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in item.items()}


def parse_microdata(tree: LexborHTMLParser, base: str) -> list[dict[str, Any]]:
    """Top-level microdata and RDFa-lite items converted to JSON-LD-like dicts."""
    items = []
    for scope_attr, prop_attr, type_attr in (
        ("itemscope", "itemprop", "itemtype"),
        ("typeof", "property", "typeof"),
    ):
        for scope in tree.css(f"[{scope_attr}]"):
            if prop_attr in scope.attributes and _owner(scope, scope_attr) is not None:
                continue  # nested item: read through its parent
            items.append(_item(scope, base, scope_attr, prop_attr, type_attr))
    return items


def microdata_jsonld(tree: LexborHTMLParser, base: str) -> JsonLd:
    """Microdata/RDFa items as a ``JsonLd`` so the JSON-LD readers apply unchanged."""
    result = JsonLd()
    for item in parse_microdata(tree, base):
        _collect(item, result)
    return result


# -- OpenGraph / product meta tags ----------------------------------------------------------


def meta_tags(tree: LexborHTMLParser) -> dict[str, list[str]]:
    """``<meta property|name=... content=...>`` as name -> values (lowercased names)."""
    out: dict[str, list[str]] = {}
    for node in tree.css("meta[content]"):
        key = node.attributes.get("property") or node.attributes.get("name")
        content = node.attributes.get("content")
        if key and content is not None and content.strip():
            out.setdefault(key.strip().lower(), []).append(content.strip())
    return out


def opengraph(
    tree: LexborHTMLParser, meta: dict[str, list[str]], *, base: str, domain: str
) -> Fields:
    """OpenGraph / Facebook product tags / Twitter cards."""
    f = Fields(source="opengraph")

    def one(*keys: str) -> str | None:
        for key in keys:
            if meta.get(key):
                return meta[key][0]
        return None

    f.name = one_line(one("og:title", "twitter:title"))
    f.description = clean_text(one("og:description", "twitter:description"))
    f.currency = one("product:price:currency", "og:price:currency", "product:sale_price:currency")
    regular = one("product:price:amount", "og:price:amount")
    sale = one("product:sale_price:amount")
    original = one("product:original_price:amount")
    if sale:
        f.price = parse_price(sale, currency=f.currency, machine=True)
        f.original_price = parse_price(regular, currency=f.currency, machine=True)
    else:
        f.price = parse_price(regular, currency=f.currency, machine=True)
        f.original_price = parse_price(original, currency=f.currency, machine=True)
    if f.currency is None and regular:
        f.currency = detect_currency(regular, domain=domain)
    f.availability = normalise_availability(one("product:availability", "og:availability"))
    f.brand = one_line(one("product:brand", "og:brand"))
    f.sku = one_line(one("product:retailer_item_id", "product:sku"))
    category = one("product:category")
    if category and not category.isdigit():
        f.categories = [c.strip() for c in re.split(r"\s*[<>/|]\s*", category) if c.strip()]
    # og:image and its structured properties come in document order.
    current: ImageCandidate | None = None
    for node in tree.css("meta[property][content]"):
        key = (node.attributes.get("property") or "").lower()
        value = (node.attributes.get("content") or "").strip()
        if key in ("og:image", "og:image:url", "og:image:secure_url") and value:
            url = absolute_url(value, base)
            if url and (current is None or key == "og:image" or current.url != url):
                if key != "og:image" and current is not None:
                    continue
                current = ImageCandidate(url)
                f.images.append(current)
        elif current is not None and key == "og:image:width":
            current.width = _int(value)
        elif current is not None and key == "og:image:height":
            current.height = _int(value)
        elif current is not None and key == "og:image:alt":
            current.alt = value or None
    if not f.images:
        url = absolute_url(one("twitter:image", "twitter:image:src"), base)
        if url:
            f.images.append(ImageCandidate(url))
    return f
