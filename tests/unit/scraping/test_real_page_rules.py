"""One small synthetic page per general rule learnt from real shop pages (issue 15).

The pages here are written from scratch: never copies of the evaluation corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ecomvideo.scraping import Availability, NotAProductPage, extract_product
from ecomvideo.scraping.fields import clean_brand, normalise_availability
from ecomvideo.scraping.identifiers import labelled_code, url_item_id
from ecomvideo.scraping.prices import detect_currency


def _page(body: str, head: str = "") -> str:
    return f"<html><head><title>Shop</title>{head}</head><body>{body}</body></html>"


def _ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@pytest.mark.parametrize("type_name", ["product", "PRODUCT", "http://schema.org/Product"])
def test_schema_org_product_type_is_matched_case_insensitively_and_by_iri(type_name: str):
    head = _ld(
        {
            "@context": "https://schema.org",
            "@type": type_name,
            "name": "Linen Apron",
            "offers": {"@type": "offer", "price": "24.50", "priceCurrency": "GBP"},
        }
    )
    cards = "".join(f'<li class="product-card">Other {i}</li>' for i in range(6))
    html = _page(f"<h1>Linen Apron</h1><ul>{cards}</ul>", head)

    product = extract_product(html, "https://apron.example/linen-apron")

    assert product.price == Decimal("24.50")
    assert product.currency == "GBP"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reviews (4) Product code: 55012345 Made in Wales", "55012345"),
        ("Seller ships worldwide. eBay item number: 184455667788 Returns", "184455667788"),
        ("Größe M Art.-Nr. 4711-22 Farbe blau", "4711-22"),
        ("Bestellnummer 80123 Lieferzeit", "80123"),
        ("Couleur : noir Ref : AB123 Taille", "AB123"),
        ("Телефон Код: 03456 Все изображения", "03456"),  # noqa: RUF001
        ("商品〈商品編號：Q12345678〉", "Q12345678"),  # noqa: RUF001
        ("Product code - 9988776 Brand - Acme", "9988776"),
        ("Ad # 44556677 Posted yesterday", "44556677"),
    ],
)
def test_item_code_after_a_label_is_read_in_many_languages(text: str, expected: str) -> None:
    assert labelled_code(text) == expected


def test_a_label_without_a_code_with_digits_is_not_an_item_code() -> None:
    assert labelled_code("Reference: see the size guide. SKU: n/a") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.example/garden/oak-bench-p400105394.html", "400105394"),
        ("https://shop.example/store/77?pid=260591", "260591"),
        ("https://shop.example/outdoor/M14876706.htm", "M14876706"),
        ("https://shop.example/itm/184455667788", "184455667788"),
        ("https://shop.example/garden/oak-bench", None),
        ("https://shop.example/2021/oak-bench", None),
    ],
)
def test_item_id_is_read_from_product_urls(url: str, expected: str | None) -> None:
    assert url_item_id(url) == expected


def test_displayed_item_code_beats_a_structured_sku_the_page_never_shows() -> None:
    head = _ld(
        {
            "@type": "Product",
            "name": "Desk Lamp",
            "sku": "INTERNAL-998877",
            "offers": {"price": "30", "priceCurrency": "EUR"},
        }
    )
    html = _page("<h1>Desk Lamp</h1><p>Product code: 61234567</p>", head)

    product = extract_product(html, "https://lamps.example/desk-lamp")

    assert product.sku == "61234567"


def test_structured_sku_shown_on_the_page_is_kept() -> None:
    head = _ld(
        {
            "@type": "Product",
            "name": "Desk Lamp",
            "sku": "DL-400",
            "offers": {"price": "30", "priceCurrency": "EUR"},
        }
    )
    html = _page("<h1>Desk Lamp</h1><p>SKU: DL-400</p><p>Ref: 777123</p>", head)

    product = extract_product(html, "https://lamps.example/desk-lamp")

    assert product.sku == "DL-400"


def test_url_item_id_is_the_sku_when_nothing_else_names_one() -> None:
    head = _ld(
        {
            "@type": "Product",
            "name": "Oak Bench",
            "offers": {"price": "199", "priceCurrency": "EUR"},
        }
    )
    html = _page("<h1>Oak Bench</h1>", head)

    product = extract_product(html, "https://garden.example/benches/oak-bench-p400105394.html")

    assert product.sku == "400105394"


def test_amazon_asin_is_the_sku() -> None:
    html = _page(
        '<span id="productTitle">Travel Mug</span>'
        '<input type="hidden" id="ASIN" value="B0TESTMUG1">'
        '<div id="corePrice_feature_div"><span class="a-price">'
        '<span class="a-offscreen">$12.99</span></span></div>'
    )

    product = extract_product(html, "https://www.amazon.com/dp/B0TESTMUG1")

    assert product.sku == "B0TESTMUG1"
    assert product.price == Decimal("12.99")


def test_product_is_in_stock_when_any_size_offer_is() -> None:
    offers = [
        {"@type": "Offer", "price": "40", "priceCurrency": "EUR", "availability": a}
        for a in ("https://schema.org/OutOfStock", "https://schema.org/InStock")
    ]
    head = _ld({"@type": "Product", "name": "Chinos", "offers": offers})
    product = extract_product(_page("<h1>Chinos</h1>", head), "https://wear.example/chinos")

    assert product.availability == Availability.IN_STOCK


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Actuellement indisponible.", Availability.OUT_OF_STOCK),
        ("Non disponibile.", Availability.OUT_OF_STOCK),
        ("Нет в наличии", Availability.OUT_OF_STOCK),
        ("В наличии", Availability.IN_STOCK),  # noqa: RUF001
        ("Disponibile", Availability.IN_STOCK),
    ],
)
def test_negated_availability_words_are_read_before_positive_ones(text, expected) -> None:
    assert normalise_availability(text) == expected


def test_a_long_delivery_block_is_not_read_as_a_stock_status() -> None:
    block = (
        "Pick up in store: choose your store. Option unavailable for this product. "
        "Made to order, ships in 17 working days."
    )
    html = _page(
        f'<h1>Wall Panel</h1><p class="price">€32.00</p><div class="availability">{block}</div>'
    )

    product = extract_product(html, "https://panels.example/wall-panel")

    assert product.availability == Availability.UNKNOWN


def test_offer_nested_inside_an_offer_gives_the_price() -> None:
    head = _ld(
        {
            "@type": "Product",
            "name": "Camera Strap",
            "offers": {
                "@type": "Offer",
                "itemCondition": "New",
                "offers": {"@type": "Offer", "price": "12.99", "priceCurrency": "GBP"},
            },
        }
    )
    product = extract_product(_page("<h1>Camera Strap</h1>", head), "https://straps.example/a")

    assert product.price == Decimal("12.99")
    assert product.currency == "GBP"


def test_carousel_and_tax_exclusive_prices_are_not_the_main_price() -> None:
    html = _page(
        '<h1>Dive Mask</h1><span class="price-net-excl-tax">81.97€</span>'
        '<span class="product-price">100.00€</span>'
        '<div class="related-products"><span class="price">150.00€</span></div>'
    )
    carousel = '<div class="recommended-carousel"><span class="price">9€</span></div>'
    html = html.replace("<h1>", carousel + "<h1>")

    product = extract_product(html, "https://dive.example/mask")

    assert product.price == Decimal("100.00")


def test_price_zero_is_never_a_price_and_grouped_amounts_are_skipped() -> None:
    html = _page(
        '<h1>Phone</h1><span class="bonus-price">0</span>'
        '<div class="box-price">49 890 тг. 44 890 тг. + 448</div>'
        '<span class="std-price">44 890 тг.</span>'
    )

    product = extract_product(html, "https://phones.example/phone-a01")

    assert product.price == Decimal("44890")
    assert product.currency == "KZT"


def test_price_attribute_of_a_buy_button_is_read_when_no_price_text_exists() -> None:
    html = _page('<h1>Kettle</h1><button class="buy" data-price="1299.50">Buy</button>')

    product = extract_product(html, "https://kettles.example/kettle")

    assert product.price == Decimal("1299.50")


@pytest.mark.parametrize(
    ("text", "domain", "expected"),
    [
        ("149,00 kn", "shop.hr", "HRK"),
        ("1 299 Kč", "shop.cz", "CZK"),
        ("49,99 zł", "shop.pl", "PLN"),
        ("25 лв.", "shop.bg", "BGN"),
        ("44 890 тг.", "shop.kz", "KZT"),
        ("44 890 ₸", "shop.kz", "KZT"),
        ("29,000원", "shop.co.kr", "KRW"),
        ("₩29,000", "shop.com", "KRW"),
        ("1.990 ден", "shop.mk", "MKD"),
        ("99 Lei", "shop.ro", "RON"),
        ("120 ر.س", "shop.sa", "SAR"),
        ("$2,320", "shop.com.tw", "TWD"),
        ("2320 元", "shop.com.tw", "TWD"),
        ("$9.990", "shop.cl", "CLP"),
        ("$12.00", "shop.com", "USD"),
    ],
)
def test_local_currency_symbols_and_the_site_country(text: str, domain: str, expected: str):
    assert detect_currency(text, domain=domain) == expected


def test_header_sign_in_form_does_not_refuse_a_product_page_without_h1() -> None:
    html = (
        "<html><head><title>PCI-E Adapter M.2 - Example Computers</title></head><body>"
        '<header><form><input name="user"><input type="password" name="pw">'
        "<button>Sign in</button></form></header><div>"
        '<span class="price"><span class="old-price"></span>3,56 €</span></div></body></html>'
    )

    product = extract_product(html, "https://adapters.example/pcie-adapter")

    assert product.name == "PCI-E Adapter M.2"
    assert product.price == Decimal("3.56")


def test_regular_price_without_a_sale_price_is_the_price() -> None:
    html = _page(
        '<h1>Dive Mask</h1><span class="price-old-live">100.00€</span>'
        '<div class="product-thumb"><span class="price">150.00€</span></div>'
    )

    product = extract_product(html, "https://dive.example/mask")

    assert product.price == Decimal("100.00")
    assert product.original_price is None


def test_without_price_markup_the_first_amount_shown_after_the_title_is_the_price() -> None:
    html = _page(
        "<nav>Cart $0 items. Free shipping over $590</nav><h1>Carrying Sink Set</h1>"
        '<img class="product-image" src="/sink.jpg" width="600" height="600">'
        "<p>Suggested price $3200</p><p>Special 72% <b>2320</b> 元</p><p>Or 3 x $806</p>",
        '<meta property="og:title" content="Carrying Sink Set">'
        '<meta property="og:image" content="https://sinks.example.com.tw/sink.jpg">',
    )

    product = extract_product(html, "https://sinks.example.com.tw/M14876706.htm")

    assert product.price == Decimal("2320")
    assert product.currency == "TWD"


def test_title_with_the_shop_name_still_anchors_the_displayed_price() -> None:
    html = (
        "<html><head><title>FreshMart - Lamb Pate Tray</title>"
        '<meta property="og:title" content="FreshMart - Lamb Pate Tray">'
        '<meta property="og:image" content="https://freshmart.example/lamb.jpg"></head><body>'
        "<p>$15 delivery</p><div>Lamb Pate Tray</div><p>Lowest $ 29 per can</p></body></html>"
    )

    product = extract_product(html, "https://freshmart.example/cheap_1131.html")

    assert product.price == Decimal("29.00")


def test_when_structured_prices_disagree_the_one_shown_first_after_the_title_wins() -> None:
    head = _ld(
        {
            "@type": "Product",
            "name": "Vintage Flap Bag",
            "offers": {"@type": "Offer", "price": 90, "priceCurrency": "USD"},
        }
    )
    head += '<meta property="product:price:amount" content="400">'
    head += '<meta property="product:price:currency" content="USD">'
    html = _page(
        "<h1>Vintage Flap Bag</h1><p>Estimate $600 - $1,600</p><p>$400 5 bids</p>"
        "<p>Starting price $90</p>",
        head,
    )

    product = extract_product(html, "https://auctions.example/item/94_vintage-flap-bag")

    assert product.price == Decimal("400")


def test_picture_source_srcset_gives_the_largest_image() -> None:
    head = _ld(
        {"@type": "Product", "name": "Oak Board", "offers": {"price": "20", "priceCurrency": "EUR"}}
    )
    html = _page(
        '<h1>Oak Board</h1><div class="product-gallery"><picture>'
        '<source type="image/avif" srcset="/img/board-800.avif 800w, /img/board-1600.avif 1600w">'
        '<source type="image/webp" srcset="/img/board-800.webp 800w">'
        '<img src="/img/board-400.jpg" width="400" alt="Oak board"></picture></div>',
        head,
    )

    product = extract_product(html, "https://boards.example/oak-board")

    assert product.main_image_url == "https://boards.example/img/board-1600.avif"
    assert product.images[0].alt_text == "Oak board"


def test_product_page_with_a_recommendation_grid_is_extracted_with_low_confidence() -> None:
    cards = "".join(
        f'<div class="product-card"><img src="/c{i}.jpg"><span class="price">€{i}9.00</span></div>'
        for i in range(1, 7)
    )
    html = _page(
        '<h1>Rain Jacket</h1><div class="buy-box"><span class="price">€89.00</span></div>'
        f"<section><h2>You may also like</h2>{cards}</section>"
    )

    product = extract_product(html, "https://coats.example/rain-jacket")

    assert product.price == Decimal("89.00")
    assert product.metadata["extraction"]["confidence"] == "low"


def test_page_of_product_cards_only_is_still_a_listing() -> None:
    cards = "".join(
        f'<div class="product-card"><h3>Coat {i}</h3><span class="price">€{i}9.00</span></div>'
        for i in range(1, 7)
    )
    html = _page(f"<h1>Coats</h1>{cards}")

    with pytest.raises(NotAProductPage):
        extract_product(html, "https://coats.example/c/coats")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Visit the Acme Store", "Acme"),
        ("Brand: Acme", "Acme"),
        ("Marque : Acme", "Acme"),
        ("Besuchen Sie den Acme-Store", "Acme"),
        ("Visita lo Store di Acme", "Acme"),
        ("Acme", "Acme"),
        ("$metabrand", None),
        ("{{ product.brand }}", None),
        ("Acme Kettle 1.7 l | Example Shop", None),
    ],
)
def test_brand_wrappers_and_template_placeholders_are_cleaned(raw: str, expected: str | None):
    assert clean_brand(raw) == expected


def test_importing_scraping_errors_does_not_load_the_extractor_or_http_client() -> None:
    code = (
        "import sys\n"
        "import ecomvideo.scraping\n"
        "from ecomvideo.scraping.errors import FetchError\n"
        "heavy = [m for m in ('httpx', 'selectolax', 'pydantic', 'ecomvideo.scraping.extract')"
        " if m in sys.modules]\n"
        "from ecomvideo.scraping import extract_product, SafeFetcher\n"
        "print(heavy, callable(extract_product), SafeFetcher.__name__)\n"
    )
    layer = Path(__file__).resolve().parents[3] / "layers" / "core" / "python"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(layer)},
    ).stdout.strip()

    assert out == "[] True SafeFetcher"


def test_of_several_offers_the_one_shown_after_the_title_is_the_price() -> None:
    offers = [
        {"@type": "Offer", "price": "30.00", "priceCurrency": "EUR", "name": "Large"},
        {"@type": "Offer", "price": "25.00", "priceCurrency": "EUR", "name": "Medium"},
    ]
    head = _ld({"@type": "Product", "name": "Linen Shirt", "offers": offers})
    html = _page("<h1>Linen Shirt</h1><p>Size M selected</p><p>€25.00</p>", head)

    product = extract_product(html, "https://shirts.example/linen-shirt")

    assert product.price == Decimal("25.00")
