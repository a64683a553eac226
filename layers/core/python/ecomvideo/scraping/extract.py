"""Turn a downloaded product page (HTML or Shopify product JSON) into an ``ExtractedProduct``.

Layers, highest priority first, each filling only what the previous ones left empty:
JSON-LD -> microdata/RDFa -> platform-specific (Shopify, Amazon, Etsy, WooCommerce, Magento,
BigCommerce) -> OpenGraph/product meta -> generic HTML heuristics. Images are the union of all
layers (deduplicated, largest variant). Finally the per-domain ``selectors`` (from
scraping_rules) override whatever they match.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from ecomvideo.scraping.detect import (
    listing_reason,
    looks_like_listing,
    non_product_reason,
    price_outside_cards,
    raise_if_challenge,
)
from ecomvideo.scraping.errors import NotAProductPage
from ecomvideo.scraping.fields import Fields, clean_brand, normalise_availability
from ecomvideo.scraping.identifiers import choose_sku, visible_text
from ecomvideo.scraping.images import ImageCandidate, absolute_url, candidate_from_img, merge_images
from ecomvideo.scraping.models import Availability, ExtractedProduct, Platform
from ecomvideo.scraping.page import Page
from ecomvideo.scraping.platforms import (
    EXTRACTORS,
    clean_categories,
    detect_platform,
    generic,
    html_breadcrumbs,
    is_shopify_product_json,
    shopify_from_json,
)
from ecomvideo.scraping.prices import (
    ISO_CODES,
    detect_currency,
    discount_percent,
    locale_currency,
    parse_price,
    shown_amounts,
    tld_currency,
)
from ecomvideo.scraping.structured import (
    choose_product,
    meta_tags,
    microdata_jsonld,
    opengraph,
    parse_json_ld,
    product_from_node,
    short_type,
)
from ecomvideo.scraping.text import clean_text, decode_html, one_line

SELECTOR_FIELDS = frozenset(
    {
        "name",
        "description",
        "price",
        "original_price",
        "currency",
        "brand",
        "sku",
        "product_id",
        "availability",
        "rating",
        "review_count",
        "images",
        "categories",
    }
)
_STRUCTURED_SOURCES = frozenset({"json-ld", "microdata", "opengraph", "html"})
_TITLE_PARTS = re.compile(r"\s+[-|–—:｜]\s+|｜")  # noqa: RUF001 - dashes and a CJK bar
_SCALAR_FIELDS = (
    "name",
    "description",
    "brand",
    "sku",
    "product_id",
    "availability",
    "rating",
    "review_count",
)


def _charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([\w\-:.]+)", content_type, re.I)
    return m.group(1) if m else None


def extract_product(
    html: str | bytes,
    url: str,
    *,
    selectors: dict[str, Any] | None = None,
    content_type: str | None = None,
) -> ExtractedProduct:
    """Extract the product shown at ``url`` from its downloaded body.

    ``html`` is the body as fetched (bytes are decoded like a browser would: BOM, charset in
    ``content_type``, ``<meta charset>``, UTF-8, windows-1252). ``content_type`` is the
    response's Content-Type header; JSON bodies are read as Shopify product JSON.
    ``selectors`` maps field names (see ``SELECTOR_FIELDS``) to a CSS selector string or to
    ``{"css": "...", "attr": "content"}``; matches override the automatic layers.

    Raises ``NotAProductPage`` (captcha, login, not-found, listing, no-product).
    """
    text = decode_html(html, _charset_of(content_type))
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if "json" in media or "javascript" in media or (not media and text.lstrip()[:1] == "{"):
        return _from_json(text, url)
    page = Page.parse(text, url)
    page.meta = meta_tags(page.tree)
    raise_if_challenge(page)
    platform = detect_platform(page)

    ld = parse_json_ld(page.tree)
    md = microdata_jsonld(page.tree, page.base)
    layers: list[Fields] = []
    ld_node = choose_product(ld, url)
    if ld_node is not None:
        layers.append(
            product_from_node(ld_node, ld, base=page.base, domain=page.domain, source="json-ld")
        )
    md_node = choose_product(md, url)
    if md_node is not None:
        layers.append(
            product_from_node(md_node, md, base=page.base, domain=page.domain, source="microdata")
        )
    platform_fn = EXTRACTORS.get(platform)
    if platform_fn is not None:
        found = platform_fn(page)
        if found is not None:
            layers.append(found)
    og = opengraph(page.tree, page.meta, base=page.base, domain=page.domain)
    layers.append(og)
    fallback = generic(page)
    layers.append(fallback)

    og_type = (page.meta.get("og:type") or [""])[0].lower()
    main_signal = (
        "product" in og_type
        or any("ProductGroup" in short_type(n.get("@type")) for n in ld.products() + md.products())
        or any(
            layer.has_product()
            for layer in layers
            if layer.source not in ("json-ld", "microdata", "opengraph", "html")
        )
    )
    reason = listing_reason(
        page,
        ld_products=len(ld.products()),
        ld_listing_items=ld.listing_items,
        microdata_products=len(md.products()),
        has_main_product_signal=main_signal,
    )
    if reason:
        raise NotAProductPage(reason)
    strong = [layer for layer in layers if layer.source != "html"]
    doubt = None
    if not any(layer.has_product() for layer in strong) and not selectors:
        if not fallback.has_product():
            raise NotAProductPage(non_product_reason(page))
        if looks_like_listing(page):
            # Product cards, but a price outside them: a product page with recommendations.
            # In doubt we extract and say so rather than refuse.
            if not price_outside_cards(page):
                raise NotAProductPage(non_product_reason(page))
            doubt = "listing-like page: product cards next to the main product"

    breadcrumbs = ld.breadcrumbs() or md.breadcrumbs() or html_breadcrumbs(page)
    product = _assemble(page, platform, layers, breadcrumbs)
    # Reading the visible text strips scripts: every DOM reader but the selectors ran before.
    text = visible_text(page.tree)
    product = _with_item_code(page, product, layers, text)
    product = _with_shown_price(page, product, layers, text)
    if selectors:
        product = _apply_selectors(page, product, selectors)
    if not product.name or (product.price is None and not product.images):
        raise NotAProductPage(non_product_reason(page))
    if doubt:
        product.metadata["extraction"] = {"confidence": "low", "reason": doubt}
    return product


def _with_item_code(
    page: Page, product: ExtractedProduct, layers: list[Fields], text: str
) -> ExtractedProduct:
    """Decide the SKU from the displayed ``text`` (see ``identifiers.choose_sku``)."""
    sku, layer = _pick(layers, "sku")
    platform_sku = sku if layer is not None and layer.source not in _STRUCTURED_SOURCES else None
    seo = product.metadata.get("seo") or {}
    chosen = choose_sku(
        platform_sku=platform_sku,
        structured=[sku] if sku else [],
        text=text,
        urls=[seo.get("canonical_url"), page.url],
    )
    chosen = _cut(chosen, 100)
    return product if chosen == product.sku else replace(product, sku=chosen)


def _main_block(text: str, names: list[str | None]) -> str | None:
    """The visible text from the product's title (its <h1>, else its name) on: where its price
    is shown. None when no title is found in the text."""
    for name in names:
        if not name:
            continue
        # A title may carry the shop's name: "Shop - Product" or "Product | Shop".
        parts = sorted(_TITLE_PARTS.split(name), key=len, reverse=True)
        for part in [name, name[:30], *parts]:
            start = text.find(part) if len(part) >= 5 else -1
            if start >= 0:
                return text[start : start + 3000]
    return None


def _with_shown_price(
    page: Page, product: ExtractedProduct, layers: list[Fields], text: str
) -> ExtractedProduct:
    """Settle the price from what the page displays after the product name: the first amount
    written with a currency when no layer found a price, and, when layers disagree (a
    starting bid in JSON-LD, the current bid in product meta), the candidate shown first.
    A candidate that some layer calls the regular price is never chosen over a sale price."""
    heading = next((layer.name for layer in layers if layer.source == "html"), None)
    block = _main_block(text, [heading, product.name])
    if block is None:
        return product
    candidates = {layer.price for layer in layers if layer.price is not None and layer.price > 0}
    # Several offers/variants at different prices: the one the page shows may not be the first.
    candidates |= {
        Decimal(v["price"])
        for layer in layers
        if layer.source in ("json-ld", "microdata")
        for v in layer.variants
        if v.get("price") and Decimal(v["price"]) > 0
    }
    originals = {layer.original_price for layer in layers if layer.original_price is not None}
    update: dict[str, Any] = {}
    if product.price is None:
        if any(layer.source not in _STRUCTURED_SOURCES for layer in layers):
            return product  # a platform reader knows where its price is: no guessing
        shown = shown_amounts(block, domain=page.domain, limit=1)
        if not shown:
            return product
        update = {"price": shown[0][0], "currency": product.currency or shown[0][1]}
    elif len(candidates - originals) > 1:
        for value, _ in shown_amounts(block, domain=page.domain):
            if value in candidates and value not in originals:
                if value != product.price:
                    update = {"price": value}
                break
    if not update:
        return product
    price = update["price"]
    original = product.original_price
    original = original if original is not None and original > price else None
    update |= {"original_price": original, "discount_percent": discount_percent(price, original)}
    return replace(product, **update)


def _from_json(text: str, url: str) -> ExtractedProduct:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NotAProductPage("no-product", "The document is not valid product JSON.") from exc
    if not isinstance(data, dict) or not is_shopify_product_json(data):
        raise NotAProductPage("no-product", "The JSON document is not a Shopify product.")
    domain = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    layer = shopify_from_json(data, url=url, base=url, currency=tld_currency(domain))
    page = Page.parse("", url)
    return _assemble(page, Platform.SHOPIFY, [layer], [])


def _pick(layers: list[Fields], name: str) -> tuple[Any, Fields | None]:
    for layer in layers:
        value = getattr(layer, name)
        if value not in (None, "", []):
            return value, layer
    return None, None


def _assemble(
    page: Page, platform: Platform, layers: list[Fields], breadcrumbs: list[str]
) -> ExtractedProduct:
    values: dict[str, Any] = {}
    for name in _SCALAR_FIELDS:
        values[name], _ = _pick(layers, name)
    price, price_layer = _pick(layers, "price")
    currency = price_layer.currency if price_layer else None
    currency = currency or _pick(layers, "currency")[0]
    currency = currency or tld_currency(page.domain)
    html = page.tree.css_first("html") if page.html else None
    lang = html.attributes.get("lang") if html is not None else None
    currency = currency or locale_currency(page.meta_first("og:locale"))
    currency = currency or locale_currency(lang)
    currency = (currency or "").upper() or None
    if currency and (len(currency) != 3 or not currency.isalpha()):
        currency = None
    # The original price must come from the layer that gave the price when it has one, so a
    # sale price and an unrelated list price from another source are not mixed.
    original = price_layer.original_price if price_layer else None
    if original is None:
        original = _pick(layers, "original_price")[0]
    if original is not None and (price is None or original <= price):
        original = None

    images: list[ImageCandidate] = []
    for layer in layers:
        images.extend(layer.images)
    merged = merge_images(images)

    categories = breadcrumbs or _pick(layers, "categories")[0] or []
    categories = clean_categories(list(categories), values["name"])

    specifications: dict[str, str] = {}
    for layer in reversed(layers):
        specifications.update(layer.specifications)
    variants = _pick(layers, "variants")[0] or []
    shipping = _pick(layers, "shipping")[0] or {}
    rating: Decimal | None = values["rating"]
    if rating is not None:
        rating = min(max(rating, Decimal(0)), Decimal(5)).quantize(Decimal("0.01"))
    return ExtractedProduct(
        url=page.url,
        domain=page.domain,
        platform=platform,
        product_id=_cut(values["product_id"], 255),
        name=_cut(values["name"], 500) or "",
        description=values["description"],
        price=price,
        currency=currency,
        original_price=original,
        discount_percent=discount_percent(price, original),
        brand=_cut(clean_brand(values["brand"]), 200),
        sku=_cut(values["sku"], 100),
        availability=values["availability"] or Availability.UNKNOWN,
        rating=rating,
        review_count=values["review_count"],
        main_image_url=merged[0].url if merged else None,
        images=merged,
        categories=categories,
        metadata={
            "variants": variants,
            "specifications": specifications,
            "shipping": shipping,
            "seo": _seo(page),
        },
        sources=[layer.source for layer in layers if _contributed(layer)],
    )


def _contributed(layer: Fields) -> bool:
    return any(
        getattr(layer, name) not in (None, "", [], {})
        for name in ("name", "price", "images", "sku", "brand", "description")
    )


def _cut(value: Any, size: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:size] or None


def _seo(page: Page) -> dict[str, Any]:
    if not page.html:
        return {}
    seo: dict[str, Any] = {}
    title = page.title()
    if title:
        seo["title"] = title
    description = page.meta_first("description")
    if description:
        seo["meta_description"] = one_line(description)
    canonical = absolute_url(page.attr('link[rel="canonical" i]', "href"), page.base)
    if canonical:
        seo["canonical_url"] = canonical
    keywords = page.meta_first("keywords")
    if keywords:
        seo["keywords"] = [k.strip() for k in keywords.split(",") if k.strip()]
    html_node = page.tree.css_first("html")
    lang = html_node.attributes.get("lang") if html_node is not None else None
    if lang:
        seo["lang"] = lang
    for key, label in (("og:type", "og_type"), ("og:site_name", "site_name")):
        if page.meta.get(key):
            seo[label] = page.meta[key][0]
    return seo


# -- selectors (scraping_rules.selectors) ---------------------------------------------------


def _selector(spec: Any) -> tuple[str, str | None] | None:
    if isinstance(spec, str) and spec.strip():
        return spec.strip(), None
    if isinstance(spec, dict):
        css = spec.get("css") or spec.get("selector")
        if isinstance(css, str) and css.strip():
            attr = spec.get("attr")
            return css.strip(), attr if isinstance(attr, str) and attr else None
    return None


def _apply_selectors(
    page: Page, product: ExtractedProduct, selectors: dict[str, Any]
) -> ExtractedProduct:
    """Override fields with the admin-managed CSS selectors for this domain. Invalid selectors
    are ignored (an admin's typo must not break every scrape of the domain)."""
    updates: dict[str, Any] = {}
    for field_name, spec in selectors.items():
        if field_name not in SELECTOR_FIELDS:
            continue
        parsed = _selector(spec)
        if parsed is None:
            continue
        css, attr = parsed
        try:
            nodes = page.tree.css(css)
        except Exception:  # noqa: S112 - selectolax raises bare Exception on bad CSS
            continue  # an admin's typo must not break every scrape of the domain
        if not nodes:
            continue
        if field_name == "images":
            cands = []
            for node in nodes:
                if attr:
                    u = absolute_url(node.attributes.get(attr), page.base)
                    cand = ImageCandidate(u) if u else None
                else:
                    img = node if node.tag in ("img", "source") else node.css_first("img")
                    cand = candidate_from_img(img, page.base) if img is not None else None
                if cand is not None:
                    cands.append(cand)
            images = merge_images(cands)
            if images:
                updates["images"] = images
                updates["main_image_url"] = images[0].url
            continue
        if field_name == "categories":
            names = [one_line(n.attributes.get(attr) if attr else n.text(deep=True)) for n in nodes]
            cats = clean_categories([n for n in names if n], product.name)
            if cats:
                updates["categories"] = cats
            continue
        node = nodes[0]
        raw = node.attributes.get(attr) if attr else node.text(deep=True, separator=" ")
        if raw is None or not raw.strip():
            continue
        value: Any
        if field_name in ("price", "original_price"):
            currency = detect_currency(raw, domain=page.domain) or product.currency
            value = parse_price(raw, currency=currency)
            if field_name == "price" and value is not None and currency:
                updates.setdefault("currency", currency)
        elif field_name == "currency":
            code = raw.strip().upper()
            value = code if code in ISO_CODES else detect_currency(raw, domain=page.domain)
        elif field_name == "description":
            value = clean_text(node.html) if not attr and node.html else clean_text(raw)
        elif field_name == "availability":
            value = normalise_availability(raw)
        elif field_name == "rating":
            m = re.search(r"\d+(?:[.,]\d+)?", raw)
            value = Decimal(m.group(0).replace(",", ".")) if m else None
        elif field_name == "review_count":
            digits = re.sub(r"[^\d]", "", raw)
            value = int(digits) if digits else None
        else:
            value = one_line(raw)
        if value is not None:
            updates[field_name] = value
    if not updates:
        return product
    merged = replace(product, **updates)
    original = merged.original_price
    if original is not None and (merged.price is None or original <= merged.price):
        original = None
    return replace(
        merged,
        original_price=original,
        discount_percent=discount_percent(merged.price, original),
        sources=[*product.sources, "selectors"],
    )
