"""Selectors override, metadata shape, price parsing and charset decoding."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ecomvideo.scraping import Availability, extract_product
from ecomvideo.scraping.prices import detect_currency, parse_price

PAGES = Path(__file__).parent / "pages"


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("1.299,00 €", None, "1299.00"),
        ("1,299.00", None, "1299.00"),
        ("¥1,299", "JPY", "1299"),
        ("£12.50", None, "12.50"),
        ("1 299,00 zł", None, "1299.00"),
        ("1'299.50 CHF", None, "1299.50"),
        ("From $19.99 to $29.99", None, "19.99"),
        ("12,5", None, "12.50"),
        ("1.299 €", None, "1299.00"),
        ("US$ 1,234,567.89", None, "1234567.89"),
    ],
)
def test_prices_are_parsed_locale_aware(text: str, currency: str | None, expected: str) -> None:
    value = parse_price(text, currency=currency)
    assert value == Decimal(expected)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("text", "domain", "expected"),
    [
        ("$10", "shop.com", "USD"),
        ("$10", "shop.ca", "CAD"),
        ("$10", "shop.com.au", "AUD"),
        ("¥1,299", "shop.jp", "JPY"),
        ("¥99", "shop.cn", "CNY"),
        ("99 kr", "butik.dk", "DKK"),
        ("12,00 €", "shop.com", "EUR"),
        ("CHF 12.00", "shop.com", "CHF"),
        ("12.00", "shop.com", None),
    ],
)
def test_currency_comes_from_symbol_code_and_tld(text: str, domain: str, expected: str | None):
    assert detect_currency(text, domain=domain) == expected


def test_selectors_from_scraping_rules_override_automatic_fields() -> None:
    html = (PAGES / "jsonld_simple.html").read_bytes()
    selectors = {
        "name": "main h1",
        "price": {"css": "main .price"},
        "images": "main img",
        "brand": {"css": "header a", "attr": None},
        "sku": "#does-not-exist",  # no match: the automatic value stays
        "description": "p[broken",  # invalid CSS: ignored, not fatal
    }

    product = extract_product(
        html, "https://northwindgoods.com/products/aurora-dripper", selectors=selectors
    )

    assert product.name == "Aurora Ceramic Pour-Over Coffee Dripper"
    assert product.price == Decimal("34.00")
    assert product.brand == "Northwind Goods"
    assert product.sku == "NW-AUR-001"
    assert [i.url for i in product.images] == [
        "https://northwindgoods.com/media/aurora-dripper-front.jpg"
    ]
    assert product.images[0].alt_text == "Aurora dripper front view"
    assert product.sources[-1] == "selectors"


def test_selectors_can_rescue_a_page_without_structured_data() -> None:
    html = b"""<html><body><div class="t">Hand Thrown Vase</div>
    <b class="cost">EUR 45,00</b><div class="pics"><img src="/v.jpg"></div></body></html>"""

    product = extract_product(
        html,
        "https://potter.example/v",
        selectors={"name": ".t", "price": ".cost", "images": ".pics img"},
    )

    assert (product.name, product.price, product.currency) == (
        "Hand Thrown Vase",
        Decimal("45.00"),
        "EUR",
    )
    assert product.main_image_url == "https://potter.example/v.jpg"


def test_metadata_has_the_product_data_shape_and_is_json_serialisable() -> None:
    product = extract_product(
        (PAGES / "productgroup_variants.html").read_bytes(), "https://mapleandpine.ca/rain-jacket"
    )

    assert set(product.metadata) == {"variants", "specifications", "shipping", "seo"}
    assert json.loads(json.dumps(product.metadata)) == product.metadata
    assert product.metadata["variants"][2] == {
        "name": "Harbour Rain Jacket Navy M",
        "sku": "HRJ-2024-M-NVY",
        "price": "189.00",
        "currency": "CAD",
        "availability": Availability.PRE_ORDER.value,
        "options": {"Color": "Navy", "Size": "M"},
        "image": "https://mapleandpine.ca/img/hrj-navy.jpg",
    }


def test_shipping_and_seo_metadata_are_read_from_json_ld() -> None:
    product = extract_product(
        (PAGES / "jsonld_simple.html").read_bytes(),
        "https://northwindgoods.com/products/aurora-dripper",
    )

    assert product.metadata["shipping"] == {
        "rate": "0",
        "free_shipping": True,
        "currency": "USD",
        "destination": "US",
        "delivery_days": {"min": 2, "max": 6},
    }
    assert product.metadata["seo"]["canonical_url"] == (
        "https://northwindgoods.com/products/aurora-dripper"
    )
    assert product.description == "Hand-glazed ceramic dripper.\nFits most mugs & carafes."


def test_http_charset_header_wins_over_guessing() -> None:
    body = (
        "<html><head><title>Crème</title></head><body><h1>Crème brûlée set</h1>"
        "<span class='price'>€12,00</span></body></html>"
    )
    product = extract_product(
        body.encode("cp1252"),
        "https://dessert.example.fr/p",
        content_type="text/html; charset=windows-1252",
    )
    assert product.name == "Crème brûlée set"
    assert product.price == Decimal("12.00")
