"""Recognise pages that are not a single product: robot checks served with 200, login walls,
"not found" pages and category listings."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from ecomvideo.scraping.errors import NotAProductPage
from ecomvideo.scraping.page import Page

_CAPTCHA_TITLES = re.compile(
    r"(?i)^(robot check|just a moment\.*|attention required!?.*cloudflare.*|access denied"
    r"|are you a (robot|human)\??|pardon our interruption|security check|captcha.*"
    r"|verify(ing)? you are (a )?human.*|one more step|bot verification|please verify.*)$"
)
# Markers that only appear on challenge pages, never on a normal product page.
_CAPTCHA_STRONG = (
    "/errors/validatecaptcha",  # Amazon
    "cf-challenge",
    "challenge-platform",
    "cf_chl_opt",  # Cloudflare
    "px-captcha",
    "_pxcaptcha",  # PerimeterX / HUMAN
    "captcha-delivery.com",
    "geo.captcha-delivery",  # DataDome
    "enter the characters you see below",
    "sorry, we just need to make sure you're not a robot",
)
_CAPTCHA_WEAK = ("g-recaptcha", "h-captcha", "captcha", "unusual traffic", "not a robot")
_LOGIN_WORDS = re.compile(
    r"(?i)\b(sign[ -]?in|log[ -]?in|login|anmelden|connexion|iniciar sesi[oó]n|ログイン)\b"
)
_NOT_FOUND = re.compile(
    r"(?i)(\b404\b|page not found|not found|no longer (exists|available)|doesn'?t exist"
    r"|does not exist|seite nicht gefunden|page introuvable|p[aá]gina no encontrada"
    r"|ページが見つかりません)"
)
_DIGIT = re.compile(r"\d")
_PRODUCT_CARDS = (
    '[class*="product-card" i], [class*="product-item" i], li.product, '
    '[class*="product-tile" i], [class*="grid-product" i], [data-component-type="s-search-result"]'
)


def raise_if_challenge(page: Page) -> None:
    """Raise ``NotAProductPage('captcha')`` for unmistakable robot-check pages."""
    title = page.title() or ""
    lowered = page.html[:200_000].lower()
    if _CAPTCHA_TITLES.match(title.strip()) or any(m in lowered for m in _CAPTCHA_STRONG):
        raise NotAProductPage("captcha")


def listing_reason(
    page: Page,
    *,
    ld_products: int,
    ld_listing_items: int,
    microdata_products: int,
    has_main_product_signal: bool,
) -> str | None:
    """``"listing"`` when the page shows many products rather than one."""
    if has_main_product_signal:
        return None
    if ld_listing_items >= 3 or ld_products >= 3 or microdata_products >= 3:
        return "listing"
    return None


# Blocks of other products: cards, carousels, recommendations ("customers also bought").
_PRODUCT_LIST = re.compile(
    r"(?i)(carousel|recommend|related|similar|upsell|up-sell|cross-?sell|also-?(?:bought|viewed)"
    r"|recently|sponsored|p13n|you-?may|suggest|compare-?list|thumb|product-?card|product-?tile"
    r"|product-?item|grid-product)"
)


def in_product_list(node: LexborNode, memo: dict[int, bool], depth: int = 20) -> bool:
    """Whether ``node`` sits in a block of other products (card, carousel, recommendations).
    ``memo`` caches the answer per ancestor (keyed by ``mem_id``) across one page's nodes."""
    chain: list[int] = []
    parent, found = node.parent, False
    while parent is not None and depth > 0:
        key = parent.mem_id
        if key in memo:
            found = memo[key]
            break
        chain.append(key)
        label = f"{parent.attributes.get('class') or ''} {parent.attributes.get('id') or ''}"
        if (parent.tag == "li" and "product" in label) or (
            label.strip() and _PRODUCT_LIST.search(label)
        ):
            found = True
            break
        parent, depth = parent.parent, depth - 1
    for key in chain:
        memo[key] = found
    return found


def price_outside_cards(page: Page) -> bool:
    """Whether a price is shown outside every product card/carousel: a main product block on
    a page that also lists other products (recommendations, "customers also bought")."""
    memo: dict[int, bool] = {}
    return any(
        _DIGIT.search(node.text(deep=True) or "") and not in_product_list(node, memo)
        for node in page.tree.css('[class*="price" i]')
    )


def looks_like_listing(page: Page) -> bool:
    """Many product cards: used when only weak (generic HTML) evidence of a product exists."""
    return len(page.tree.css(_PRODUCT_CARDS)) >= 4


def non_product_reason(page: Page) -> str:
    """Why a page without a product is not one (called only when extraction found nothing)."""
    title = page.title() or ""
    h1 = page.text("h1") or ""
    lowered = page.html[:200_000].lower()
    if any(m in lowered for m in _CAPTCHA_WEAK) and len(page.tree.css("input")) <= 4:
        return "captcha"
    if _NOT_FOUND.search(title) or _NOT_FOUND.search(h1):
        return "not-found"
    if page.first('input[type="password" i]') is not None or _LOGIN_WORDS.search(title):
        return "login"
    if len(page.tree.css(_PRODUCT_CARDS)) >= 3:
        return "listing"
    return "no-product"
