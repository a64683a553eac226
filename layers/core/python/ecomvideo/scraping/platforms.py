"""Platform detection and platform-specific extraction (Shopify, Amazon, Etsy, WooCommerce,
Magento, BigCommerce) plus the generic HTML fallbacks (h1, price-ish elements, breadcrumbs,
gallery images)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ecomvideo.scraping.detect import in_product_list
from ecomvideo.scraping.fields import Fields, clean_brand, normalise_availability
from ecomvideo.scraping.images import ImageCandidate, absolute_url, candidate_from_img
from ecomvideo.scraping.models import Availability, Platform
from ecomvideo.scraping.page import Page
from ecomvideo.scraping.prices import cents_to_amount, detect_currency, parse_price
from ecomvideo.scraping.text import clean_text, one_line

# -- detection --------------------------------------------------------------------------------

_DOMAIN_PLATFORMS = (
    (re.compile(r"(^|\.)amazon\.[a-z.]+$"), Platform.AMAZON),
    (re.compile(r"(^|\.)etsy\.com$"), Platform.ETSY),
    (re.compile(r"(^|\.)ebay\.[a-z.]+$"), Platform.EBAY),
    (re.compile(r"(^|\.)walmart\.[a-z.]+$"), Platform.WALMART),
    (re.compile(r"\.myshopify\.com$"), Platform.SHOPIFY),
)
_MARKERS = (
    (
        Platform.SHOPIFY,
        (
            "cdn.shopify.com",
            "Shopify.shop",
            "shopify-digital-wallet",
            "/cdn/shop/",
            "ShopifyAnalytics",
        ),
    ),
    (Platform.AMAZON, ('id="productTitle"', "data-a-dynamic-image", "a-price-whole")),
    (Platform.ETSY, ("etsystatic.com", "data-buy-box-listing-title")),
    (Platform.MAGENTO, ("text/x-magento-init", "Magento_", "mage/cookies", "data-mage-init")),
    (
        Platform.BIGCOMMERCE,
        ("cdn11.bigcommerce.com", "BCData", "productView-title", "data-product-price-without-tax"),
    ),
    (Platform.WOOCOMMERCE, ("woocommerce", "wp-content/plugins/woocommerce")),
    (Platform.PRESTASHOP, ("prestashop", "PrestaShop")),
    (Platform.SQUARESPACE, ("static1.squarespace.com",)),
    (Platform.WIX, ("static.wixstatic.com",)),
)


def detect_platform(page: Page) -> Platform:
    """The shop platform from the domain, then from markers in the HTML."""
    for pattern, platform in _DOMAIN_PLATFORMS:
        if pattern.search(page.domain):
            return platform
    html = page.html
    for platform, markers in _MARKERS:
        if any(marker in html for marker in markers):
            return platform
    return Platform.GENERIC


def _json(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.strip())
    except ValueError:
        return None


# -- Shopify ----------------------------------------------------------------------------------

_SHOPIFY_CURRENCY = re.compile(r'Shopify\.currency\s*=\s*\{[^}]*"active"\s*:\s*"([A-Z]{3})"')


def is_shopify_product_json(data: Any) -> bool:
    product = data.get("product", data) if isinstance(data, dict) else None
    return (
        isinstance(product, dict)
        and isinstance(product.get("variants"), list)
        and bool(product.get("title"))
    )


def shopify_from_json(data: dict[str, Any], *, url: str, base: str, currency: str | None) -> Fields:
    """Read Shopify product JSON: ``/products/<handle>.json`` (``{"product": ...}``, prices as
    strings) or ``.js`` / theme JSON (bare product, prices as integer cents)."""
    product = data.get("product", data)
    f = Fields(source="shopify")
    f.name = one_line(product.get("title"))
    f.description = clean_text(product.get("body_html") or product.get("description"))
    f.brand = one_line(product.get("vendor"))
    f.product_id = str(product["id"]) if product.get("id") is not None else None
    kind = one_line(product.get("product_type") or product.get("type"))
    f.categories = [kind] if kind else []
    f.currency = currency

    def money(value: Any) -> Decimal | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return cents_to_amount(value)  # .js and theme JSON: minor units
        return parse_price(value, currency=currency, machine=True)

    option_names = []
    for opt in product.get("options") or []:
        option_names.append(opt.get("name") if isinstance(opt, dict) else str(opt))
    variants = [v for v in product.get("variants") or [] if isinstance(v, dict)]
    wanted = parse_qs(urlsplit(url).query).get("variant", [None])[0]
    chosen = next((v for v in variants if str(v.get("id")) == wanted), None)
    chosen = chosen or (variants[0] if variants else None)
    for v in variants:
        values = v.get("options") or [v.get(f"option{i}") for i in (1, 2, 3)]
        options = {
            name: value
            for name, value in zip(option_names, values, strict=False)
            if name and value and not (name == "Title" and value == "Default Title")
        }
        price = money(v.get("price"))
        compare = money(v.get("compare_at_price"))
        available = v.get("available")
        entry = {
            "name": one_line(v.get("title") or v.get("name")),
            "sku": v.get("sku") or None,
            "product_id": str(v["id"]) if v.get("id") is not None else None,
            "price": str(price) if price is not None else None,
            "original_price": str(compare) if compare and price and compare > price else None,
            "currency": currency,
            "availability": (
                (Availability.IN_STOCK if available else Availability.OUT_OF_STOCK).value
                if isinstance(available, bool)
                else None
            ),
            "options": options or None,
        }
        f.variants.append({k: val for k, val in entry.items() if val is not None})
    if len(f.variants) == 1 and "options" not in f.variants[0]:
        f.variants = []  # a single "Default Title" variant is not a choice
    if chosen:
        f.price = money(chosen.get("price"))
        compare = money(chosen.get("compare_at_price"))
        f.original_price = compare if compare and f.price and compare > f.price else None
        f.sku = chosen.get("sku") or None
        f.availability = normalise_availability(chosen.get("available"))
    if f.availability is None and isinstance(product.get("available"), bool):
        f.availability = normalise_availability(product["available"])

    media = [m for m in product.get("media") or [] if isinstance(m, dict) and m.get("src")]
    raw_images = media or product.get("images") or []
    for img in raw_images:
        if isinstance(img, str):
            u = absolute_url(img, base)
            if u:
                f.images.append(ImageCandidate(u))
        elif isinstance(img, dict):
            u = absolute_url(img.get("src"), base)
            if u:
                f.images.append(
                    ImageCandidate(u, img.get("alt") or None, img.get("width"), img.get("height"))
                )
    return f


def shopify_html(page: Page) -> Fields | None:
    currency = None
    if m := _SHOPIFY_CURRENCY.search(page.html):
        currency = m.group(1)
    for css in (
        "script[data-product-json]",
        'script[id^="ProductJson"]',
        'script[type="application/json"][id*="product-json" i]',
    ):
        node = page.first(css)
        data = _json(node.text(deep=True)) if node is not None else None
        if isinstance(data, dict) and is_shopify_product_json(data):
            return shopify_from_json(data, url=page.url, base=page.base, currency=currency)
    if currency:
        return Fields(source="shopify", currency=currency)
    return None


# -- Amazon -----------------------------------------------------------------------------------

_AMAZON_SIZE = re.compile(r"\._[A-Za-z0-9,_\-]+_(?=\.[A-Za-z]+$)")
_ASIN = re.compile(r"/(?:dp|gp/product|product)/([A-Z0-9]{10})(?:[/?]|$)")


def _amazon_price(page: Page, scope: str) -> tuple[str | None, Decimal | None]:
    node = page.first(f"{scope} .a-price:not(.a-text-price)")
    if node is None:
        return None, None
    offscreen = node.css_first(".a-offscreen")
    symbol = node.css_first(".a-price-symbol")
    sym = symbol.text(deep=True).strip() if symbol is not None else None
    if offscreen is not None and offscreen.text(deep=True).strip():
        text = offscreen.text(deep=True).strip()
        return text, None
    whole = node.css_first(".a-price-whole")
    fraction = node.css_first(".a-price-fraction")
    if whole is None:
        return None, None
    digits = re.sub(r"[^\d]", "", whole.text(deep=True))
    frac = re.sub(r"[^\d]", "", fraction.text(deep=True)) if fraction is not None else ""
    amount = Decimal(f"{digits}.{frac}" if frac else digits) if digits else None
    return sym, amount


def amazon(page: Page) -> Fields:
    f = Fields(source="amazon")
    f.name = page.text("#productTitle")
    text, amount = None, None
    for scope in (
        "#corePrice_feature_div",
        "#corePriceDisplay_desktop_feature_div",
        "#apex_desktop",
        "#price",
    ):
        text, amount = _amazon_price(page, scope)
        if text or amount:
            break
    if not (text or amount):
        text = page.text("#priceblock_dealprice") or page.text("#priceblock_ourprice")
    f.currency = detect_currency(text, domain=page.domain)
    f.price = amount if amount is not None else parse_price(text, currency=f.currency)
    strike = (
        page.text(".a-price.a-text-price[data-a-strike] .a-offscreen")
        or page.text(".basisPrice .a-offscreen")
        or page.text("#listPrice")
    )
    f.original_price = parse_price(strike, currency=f.currency)
    f.brand = clean_brand(page.text("#bylineInfo"))
    f.availability = normalise_availability(
        page.text("#availability span") or page.text("#availability")
    )
    rating = page.attr("#acrPopover", "title") or page.text("#acrPopover .a-icon-alt")
    if rating and (m := re.search(r"(\d+[.,]\d+|\d+)", rating)):
        f.rating = Decimal(m.group(1).replace(",", "."))
    reviews = page.text("#acrCustomerReviewText")
    if reviews and (m := re.search(r"[\d.,\s]+", reviews)):
        digits = re.sub(r"[^\d]", "", m.group(0))
        f.review_count = int(digits) if digits else None
    f.product_id = page.attr("input#ASIN", "value") or page.attr("[data-asin]", "data-asin")
    if not f.product_id and (m := _ASIN.search(urlsplit(page.url).path)):
        f.product_id = m.group(1)
    f.sku = f.product_id  # the ASIN is Amazon's item code
    bullets = [
        b for li in page.tree.css("#feature-bullets li") if (b := one_line(li.text(deep=True)))
    ]
    f.description = page.block_text("#productDescription") or ("\n".join(bullets) or None)
    f.categories = [
        t
        for a in page.tree.css("#wayfinding-breadcrumbs_feature_div li a")
        if (t := one_line(a.text(deep=True)))
    ]
    for row in page.tree.css(
        "#productDetails_techSpec_section_1 tr, #productDetails_detailBullets_sections1 tr"
    ):
        th, td = row.css_first("th"), row.css_first("td")
        if th is not None and td is not None:
            key, value = one_line(th.text(deep=True)), one_line(td.text(deep=True))
            if key and value:
                f.specifications[key] = value
    landing = page.first("#landingImage") or page.first("#imgBlkFront")
    if landing is not None:
        alt = landing.attributes.get("alt") or None
        dynamic = _json(landing.attributes.get("data-a-dynamic-image"))
        hires = landing.attributes.get("data-old-hires")
        if hires:
            u = absolute_url(hires, page.base)
            if u:
                f.images.append(ImageCandidate(u, alt))
        if isinstance(dynamic, dict):
            for raw_url, size in sorted(
                dynamic.items(), key=lambda kv: -(kv[1][0] if isinstance(kv[1], list) else 0)
            ):
                u = absolute_url(raw_url, page.base)
                if u and isinstance(size, list) and len(size) == 2:
                    f.images.append(ImageCandidate(u, alt, int(size[0]), int(size[1])))
    for thumb in page.tree.css("#altImages li.imageThumbnail img, #altImages img"):
        src = thumb.attributes.get("src")
        u = absolute_url(src, page.base)
        if u and "play-icon" not in u and "sprite" not in u:
            # Thumbnails carry a size token (._AC_US40_); without it Amazon serves the original.
            f.images.append(ImageCandidate(_AMAZON_SIZE.sub("", u), thumb.attributes.get("alt")))
    return f


# -- Etsy -------------------------------------------------------------------------------------


def etsy(page: Page) -> Fields:
    f = Fields(source="etsy")
    f.name = page.text("h1[data-buy-box-listing-title]")
    price_text = page.text('[data-buy-box-region="price"] [data-selector="price-only"]') or (
        page.text('[data-buy-box-region="price"] .wt-text-title-larger')
    )
    if price_text:
        f.currency = detect_currency(price_text, domain=page.domain)
        f.price = parse_price(price_text, currency=f.currency)
    f.original_price = parse_price(
        page.text('[data-buy-box-region="price"] .wt-text-strikethrough'), currency=f.currency
    )
    f.brand = page.attr("[data-shop-name]", "data-shop-name")
    if m := re.search(r"/listing/(\d+)", urlsplit(page.url).path):
        f.product_id = m.group(1)
    f.sku = f.product_id  # the ASIN is Amazon's item code
    for img in page.tree.css(
        "[data-carousel-pane-list] img, .listing-page-image-carousel-component img"
    ):
        zoom = img.attributes.get("data-src-zoom-image")
        u = absolute_url(zoom, page.base) if zoom else None
        if u:
            f.images.append(ImageCandidate(u, img.attributes.get("alt")))
        elif (cand := candidate_from_img(img, page.base)) is not None:
            f.images.append(cand)
    return f


# -- WooCommerce ------------------------------------------------------------------------------


def woocommerce(page: Page) -> Fields:
    f = Fields(source="woocommerce")
    f.name = page.text(".product_title") or page.text(".product .entry-title")
    box = page.first(".summary .price") or page.first("p.price")
    if box is not None:
        symbol = box.css_first(".woocommerce-Price-currencySymbol")
        price_node = box.css_first("ins .amount") or box.css_first(".amount")
        old_node = box.css_first("del .amount")
        raw = one_line(price_node.text(deep=True)) if price_node is not None else None
        f.currency = detect_currency(
            symbol.text(deep=True) if symbol is not None else raw, domain=page.domain
        )
        f.price = parse_price(raw, currency=f.currency)
        if old_node is not None:
            f.original_price = parse_price(one_line(old_node.text(deep=True)), currency=f.currency)
    f.description = page.block_text(".woocommerce-product-details__short-description") or (
        page.block_text("#tab-description")
    )
    f.sku = page.text(".product_meta .sku")
    stock = page.first(".summary .stock") or page.first("p.stock")
    if stock is not None:
        classes = stock.attributes.get("class") or ""
        f.availability = normalise_availability(
            "outofstock"
            if "out-of-stock" in classes
            else "backorder"
            if "available-on-backorder" in classes
            else stock.text(deep=True)
        )
    f.product_id = (
        page.attr('button[name="add-to-cart"]', "value")
        or page.attr('input[name="add-to-cart"]', "value")
        or page.attr('input[name="product_id"]', "value")
    )
    f.categories = [t for a in page.tree.css(".posted_in a") if (t := one_line(a.text()))]
    for row in page.tree.css("table.woocommerce-product-attributes tr, table.shop_attributes tr"):
        th, td = row.css_first("th"), row.css_first("td")
        if th is not None and td is not None:
            key, value = one_line(th.text(deep=True)), one_line(td.text(deep=True))
            if key and value:
                f.specifications[key] = value
    rating = page.text(".woocommerce-product-rating .rating") or page.attr(
        ".woocommerce-product-rating .star-rating", "aria-label"
    )
    if rating and (m := re.search(r"\d+(?:[.,]\d+)?", rating)):
        f.rating = Decimal(m.group(0).replace(",", "."))
    count = page.text(".woocommerce-review-link .count")
    f.review_count = int(count) if count and count.isdigit() else None
    for div in page.tree.css(".woocommerce-product-gallery__image"):
        img = div.css_first("img")
        link = div.css_first("a[href]")
        large = img.attributes.get("data-large_image") if img is not None else None
        alt = img.attributes.get("alt") if img is not None else None
        if img is not None and large:
            u = absolute_url(large, page.base)
            if u:
                f.images.append(
                    ImageCandidate(
                        u,
                        alt or None,
                        _int(img.attributes.get("data-large_image_width")),
                        _int(img.attributes.get("data-large_image_height")),
                    )
                )
        elif link is not None and (u := absolute_url(link.attributes.get("href"), page.base)):
            f.images.append(ImageCandidate(u, alt or None))
        elif img is not None and (cand := candidate_from_img(img, page.base)):
            f.images.append(cand)
    form = page.first("form.variations_form[data-product_variations]")
    variations = _json(form.attributes.get("data-product_variations")) if form else None
    for v in variations if isinstance(variations, list) else []:
        if not isinstance(v, dict):
            continue
        price = parse_price(v.get("display_price"), currency=f.currency, machine=True)
        regular = parse_price(v.get("display_regular_price"), currency=f.currency, machine=True)
        attrs = {
            str(k).removeprefix("attribute_").removeprefix("pa_").capitalize(): val
            for k, val in (v.get("attributes") or {}).items()
            if val
        }
        entry = {
            "sku": v.get("sku") or None,
            "product_id": str(v["variation_id"]) if v.get("variation_id") else None,
            "price": str(price) if price is not None else None,
            "original_price": str(regular) if regular and price and regular > price else None,
            "currency": f.currency,
            "availability": (
                Availability.IN_STOCK if v.get("is_in_stock") else Availability.OUT_OF_STOCK
            ).value,
            "options": attrs or None,
        }
        f.variants.append({k: val for k, val in entry.items() if val is not None})
    return f


def _int(value: Any) -> int | None:
    try:
        n = int(str(value))
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


# -- Magento 2 --------------------------------------------------------------------------------


def _find_gallery(data: Any) -> list[dict[str, Any]] | None:
    if isinstance(data, dict):
        gallery = data.get("mage/gallery/gallery")
        if isinstance(gallery, dict) and isinstance(gallery.get("data"), list):
            return gallery["data"]
        for value in data.values():
            found = _find_gallery(value)
            if found is not None:
                return found
    return None


def magento(page: Page) -> Fields:
    f = Fields(source="magento")
    f.name = page.text(".page-title .base") or page.text("h1.page-title")
    final = page.first('.product-info-main [data-price-type="finalPrice"]') or page.first(
        '[data-price-type="finalPrice"]'
    )
    if final is not None:
        f.currency = detect_currency(final.text(deep=True), domain=page.domain)
        f.price = parse_price(
            final.attributes.get("data-price-amount"), currency=f.currency, machine=True
        )
    old = page.first('.product-info-main [data-price-type="oldPrice"]') or page.first(
        '[data-price-type="oldPrice"]'
    )
    if old is not None:
        f.original_price = parse_price(
            old.attributes.get("data-price-amount"), currency=f.currency, machine=True
        )
    f.sku = page.text(".product.attribute.sku .value")
    stock = page.first(".product-info-stock-sku .stock") or page.first(".stock")
    if stock is not None:
        classes = stock.attributes.get("class") or ""
        f.availability = (
            Availability.OUT_OF_STOCK
            if "unavailable" in classes
            else Availability.IN_STOCK
            if "available" in classes
            else normalise_availability(stock.text(deep=True))
        )
    f.description = page.block_text(".product.attribute.description .value")
    f.product_id = page.attr(".price-box[data-product-id]", "data-product-id") or page.attr(
        'input[name="product"]', "value"
    )
    for row in page.tree.css("#product-attribute-specs-table tr"):
        th, td = row.css_first("th"), row.css_first("td")
        if th is not None and td is not None:
            key, value = one_line(th.text(deep=True)), one_line(td.text(deep=True))
            if key and value:
                f.specifications[key] = value
    percent = page.attr(".product-reviews-summary .rating-result", "title")
    if percent and (m := re.search(r"\d+", percent)):
        f.rating = (Decimal(m.group(0)) / 20).quantize(Decimal("0.01"))
    count = page.text(".product-reviews-summary .reviews-actions .action.view span")
    f.review_count = int(count) if count and count.isdigit() else None
    for script in page.tree.css('script[type="text/x-magento-init"]'):
        gallery = _find_gallery(_json(script.text(deep=True)))
        if not gallery:
            continue
        items = sorted(
            (g for g in gallery if isinstance(g, dict)),
            key=lambda g: (not g.get("isMain"), _int(g.get("position")) or 0),
        )
        for g in items:
            u = absolute_url(g.get("full") or g.get("img"), page.base)
            if u and g.get("type", "image") == "image":
                f.images.append(ImageCandidate(u, g.get("caption") or None))
        break
    return f


# -- BigCommerce ------------------------------------------------------------------------------

_BCDATA = re.compile(r"var\s+BCData\s*=\s*(\{.*?\});\s*(?:</script>|\n)", re.S)


def bigcommerce(page: Page) -> Fields:
    f = Fields(source="bigcommerce")
    f.name = page.text(".productView-title")
    f.brand = page.text(".productView-brand a") or page.text(".productView-brand")
    bc = _json(m.group(1)) if (m := _BCDATA.search(page.html)) else None
    attrs = bc.get("product_attributes", {}) if isinstance(bc, dict) else {}
    price = attrs.get("price") or {}
    if isinstance(price.get("without_tax"), dict):
        f.currency = price["without_tax"].get("currency")
        f.price = parse_price(price["without_tax"].get("value"), currency=f.currency)
        for key in ("rrp_without_tax", "non_sale_price_without_tax"):
            if isinstance(price.get(key), dict):
                f.original_price = parse_price(price[key].get("value"), currency=f.currency)
                break
    if f.price is None:
        raw = page.text("[data-product-price-without-tax]") or page.text(".price--withoutTax")
        f.currency = f.currency or detect_currency(raw, domain=page.domain)
        f.price = parse_price(raw, currency=f.currency)
    if f.original_price is None:
        raw = page.text("[data-product-rrp-price-without-tax]") or page.text(
            "[data-product-non-sale-price-without-tax]"
        )
        f.original_price = parse_price(raw, currency=f.currency)
    f.sku = attrs.get("sku") or page.text("[data-product-sku]")
    if isinstance(attrs.get("instock"), bool):
        f.availability = normalise_availability(attrs["instock"])
    f.product_id = page.attr('input[name="product_id"]', "value")
    f.description = page.block_text("#tab-description") or page.block_text(
        ".productView-description"
    )
    count = page.text(".productView-reviewLink")
    if count and (m := re.search(r"\d+", count)):
        f.review_count = int(m.group(0))
    for link in page.tree.css(".productView-thumbnail-link"):
        raw = link.attributes.get("data-image-gallery-zoom-image-url") or link.attributes.get(
            "href"
        )
        u = absolute_url(raw, page.base)
        img = link.css_first("img")
        if u:
            f.images.append(ImageCandidate(u, img.attributes.get("alt") if img else None))
    main = page.first(".productView-image img")
    if main is not None and (cand := candidate_from_img(main, page.base)):
        f.images.insert(0, cand)
    return f


# -- generic HTML fallbacks -------------------------------------------------------------------

_HOME = {
    "home",
    "start",
    "startseite",
    "accueil",
    "inicio",
    "home page",
    "homepage",
    "shop",
    "ホーム",
    "トップ",
    "all products",
}
_SEPARATORS = {">", "/", "\u203a", "»", "|", "-", "→", "·"}
_BREADCRUMB_CONTAINERS = (
    "#wayfinding-breadcrumbs_feature_div",
    ".woocommerce-breadcrumb",
    'nav[aria-label*="breadcrumb" i]',
    "ol.breadcrumb",
    ".breadcrumbs",
    ".breadcrumb",
    '[class*="breadcrumb" i]',
)
_GALLERY = (
    '[class*="product-gallery" i] img, [class*="product__media" i] img, '
    '[class*="product-image" i] img, [id*="product-gallery" i] img, [data-gallery] img, '
    '.gallery img, [class*="product-photos" i] img'
)


def html_breadcrumbs(page: Page) -> list[str]:
    for css in _BREADCRUMB_CONTAINERS:
        node = page.first(css)
        if node is None:
            continue
        items = node.css("li") or node.css("a")
        if node.css("li"):
            names = [one_line(li.text(deep=True, separator=" ")) for li in items]
        elif "woocommerce-breadcrumb" in (node.attributes.get("class") or ""):
            # "Home / Clothing / Hoodie": links plus the current page as a bare text node.
            parts = re.split(r"\s*[/\u203a»>]\s*", node.text(deep=True))
            names = [one_line(part) for part in parts]
        else:
            names = [one_line(a.text(deep=True)) for a in items]
        kept = [n for n in names if n and n not in _SEPARATORS]
        if kept:
            return kept
    return []


def clean_categories(names: list[str], product_name: str | None) -> list[str]:
    """Drop "Home"-like roots, the product itself and duplicates; cap depth and length."""
    out: list[str] = []
    for name in names:
        name = (name or "").strip()
        if not name or name.lower() in _HOME or name in out:
            continue
        if product_name and name.lower() == product_name.lower():
            continue
        out.append(name[:100])
    return out[:6]


_OLD_PRICE = re.compile(r"(?i)(old|was|regular|compare|strike|list|rrp|before|original)")


# Price-like parts that are not the selling price (tax-exclusive, per unit, instalments, shipping,
# loyalty points, purchase counts).
_NOT_SELLING_PRICE = re.compile(
    r"(?i)(tax|vat|netto|excl|per-?unit|unit-?price|instal|monthly|per-?month|shipping"
    r"|delivery|loyalty|points|bonus|cashback|coupon|buy-?count|sold-?count)"
)
_AMOUNT = re.compile(r"\d+(?:[.,'\u00a0\u202f ]\d{3})*(?:[.,]\d{1,2})?")
_DIGIT = re.compile(r"[1-9]")
_PRICE_NODES = '[itemprop="price" i], [data-price], [price], [data-product-price]'
_PRICE_ATTRS = ("data-price", "price", "data-product-price", "data-price-amount")


def _generic_prices(page: Page) -> tuple[str | None, str | None, bool]:
    """(current, old) price texts from the innermost elements whose class mentions "price",
    outside carousels/recommendations; else an ``itemprop="price"`` or a price attribute
    (``data-price="12.50"``) of any element in the main block. The flag says the current
    price is a machine value (an attribute) rather than displayed text."""
    current = old = None
    memo: dict[int, bool] = {}
    for node in page.tree.css('[class*="price" i]'):
        # css() includes the node itself, so look for a *different* match inside it.
        own = node.mem_id  # identity: LexborNode equality serialises both nodes' HTML
        inner_prices = (i for i in node.css('[class*="price" i]') if i.mem_id != own)
        if any(_DIGIT.search(i.text(deep=True) or "") for i in inner_prices):
            continue  # a container: its children are read instead (empty ones do not count)
        text = one_line(node.text(deep=True, separator=" "))
        if not text or not re.search(r"[1-9]", text) or len(text) > 40:
            continue
        if len(_AMOUNT.findall(text)) > 1:
            continue  # "49 890 44 890 + 448 points": a group of amounts, its parts are read
        label = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if _NOT_SELLING_PRICE.search(label) or in_product_list(node, memo):
            continue
        struck = node.tag in ("del", "s", "strike") or (
            node.parent is not None and node.parent.tag in ("del", "s", "strike")
        )
        if struck or _OLD_PRICE.search(label):
            old = old or text
        elif current is None:
            current = text
    if current is None:
        for node in page.tree.css(_PRICE_NODES):
            attrs = node.attributes
            raw = attrs.get("content") if attrs.get("itemprop") else None
            raw = raw or next((attrs[a] for a in _PRICE_ATTRS if attrs.get(a)), None)
            raw = raw or one_line(node.text(deep=True, separator=" "))
            usable = raw and _DIGIT.search(raw) and len(raw) <= 40
            if usable and not in_product_list(node, memo):
                return raw, None, True
    if current is None and old is not None:
        return old, None, False  # a "regular" price with no sale price next to it is the price
    return current, old, False


def _status_availability(page: Page) -> Availability | None:
    """A short stock status ("In stock", "Sold out"); a long text is a container (delivery
    options, store pickers) whose words say nothing reliable about this product's stock."""
    for css in ('[class*="availability" i]', '[class*="stock" i]'):
        text = page.text(css)
        if text and len(text) <= 60:
            found = normalise_availability(text)
            if found is not None:
                return found
    return None


_TITLE_SUFFIX = re.compile(r"\s+[-|–—:]\s+[^-|–—:]{2,60}$")  # noqa: RUF001


def _title_name(page: Page) -> str | None:
    """The product name when the page has no ``<h1>``: og:title, else the <title> without a
    trailing " - Shop name"."""
    title = page.meta_first("og:title") or page.title()
    title = one_line(title) if title else None
    return _TITLE_SUFFIX.sub("", title) or title if title else None


def generic(page: Page) -> Fields:
    """Last-resort heuristics for pages without structured data."""
    f = Fields(source="html")
    f.name = page.text("h1") or _title_name(page)
    f.description = one_line(page.meta_first("description"))
    current, old, machine = _generic_prices(page)
    if current:
        f.currency = detect_currency(current, domain=page.domain)
        if f.currency or machine:
            price = parse_price(current, currency=f.currency, machine=machine)
            f.price = price if price is not None and price > 0 else None
        f.original_price = parse_price(old, currency=f.currency) if f.price else None
    f.availability = _status_availability(page)
    for img in page.tree.css(_GALLERY):
        cand = candidate_from_img(img, page.base)
        if cand is not None:
            f.images.append(cand)
    return f


EXTRACTORS = {
    Platform.AMAZON: amazon,
    Platform.ETSY: etsy,
    Platform.WOOCOMMERCE: woocommerce,
    Platform.MAGENTO: magento,
    Platform.BIGCOMMERCE: bigcommerce,
    Platform.SHOPIFY: shopify_html,
}
