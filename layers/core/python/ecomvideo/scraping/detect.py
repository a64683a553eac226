"""Recognise pages that are not a single product: robot checks served with 200, login walls,
"not found" pages and category listings."""

from __future__ import annotations

import re

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
