"""Table-driven extraction tests over the saved-page corpus in ``pages/``.

Every page's expected fields are asserted exactly (prices as Decimal, image URLs in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from ecomvideo.scraping import NotAProductPage, extract_product

PAGES = Path(__file__).parent / "pages"


@dataclass(frozen=True)
class Case:
    page: str
    url: str
    name: str
    price: str | None
    currency: str | None
    original_price: str | None
    discount_percent: int | None
    brand: str | None
    sku: str | None
    product_id: str | None
    availability: str
    rating: str | None
    review_count: int | None
    platform: str
    categories: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


CASES = [
    Case(
        "jsonld_simple.html",
        "https://northwindgoods.com/products/aurora-dripper",
        name="Aurora Ceramic Pour-Over Coffee Dripper",
        price="34.00",
        currency="USD",
        original_price=None,
        discount_percent=None,
        brand="Northwind",
        sku="NW-AUR-001",
        product_id=None,
        availability="InStock",
        rating="4.70",
        review_count=128,
        platform="Generic",
        categories=["Coffee", "Pour-Over"],
        images=[
            "https://northwindgoods.com/media/aurora-dripper-front.jpg",
            "https://northwindgoods.com/media/aurora-dripper-side.jpg",
            "https://northwindgoods.com/media/aurora-dripper-social.jpg",
        ],
    ),
    Case(
        "jsonld_graph.html",
        "https://fellside.co.uk/shop/merino-crew/",
        name="Merino Crew Jumper",
        price="89.00",
        currency="GBP",
        original_price="110.00",
        discount_percent=19,
        brand="Fellside",
        sku="FK-MC-NAVY",
        product_id=None,
        availability="LimitedAvailability",
        rating="4.60",
        review_count=41,
        platform="Generic",
        categories=["Men", "Knitwear"],
        images=["https://fellside.co.uk/wp-content/uploads/2024/01/merino-crew-navy.jpg"],
    ),
    Case(
        "jsonld_array_aggregate.html",
        "https://summit-outfitters.com/tents/trailhead-2",
        name="Trailhead 2-Person Backpacking Tent",
        price="249.95",
        currency="USD",
        original_price=None,
        discount_percent=None,
        brand="Summit",
        sku="SO-TH2",
        product_id="88213",
        availability="InStock",
        rating="4.40",
        review_count=1045,
        platform="Generic",
        categories=[],
        images=[
            "https://cdn.summit-outfitters.com/img/th2-pitched.jpg?width=1200",
            "https://cdn.summit-outfitters.com/img/th2-packed.jpg",
        ],
    ),
    Case(
        "productgroup_variants.html",
        "https://mapleandpine.ca/rain-jacket",
        name="Harbour Rain Jacket",
        price="179.00",
        currency="CAD",
        original_price=None,
        discount_percent=None,
        brand="Maple & Pine",
        sku="HRJ-2024-S-YEL",
        product_id="HRJ-2024",
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=[
            "https://mapleandpine.ca/img/hrj-yellow.jpg",
            "https://mapleandpine.ca/img/hrj-navy.jpg",
        ],
    ),
    Case(
        "microdata_only.html",
        "https://oakline.example.com/p/walnut-organizer",
        name="Walnut Desk Organizer",
        price="59.50",
        currency="USD",
        original_price=None,
        discount_percent=None,
        brand="Oakline",
        sku="OL-DO-77",
        product_id=None,
        availability="InStock",
        rating="4.80",
        review_count=56,
        platform="Generic",
        categories=["Office", "Desk Accessories"],
        images=[
            "https://oakline.example.com/images/organizer-main.jpg",
            "https://oakline.example.com/images/organizer-detail.jpg",
        ],
    ),
    Case(
        "opengraph_only.html",
        "https://loomhouse.example/p/linen-pillow",
        name="Linen Throw Pillow Cover",
        price="33.60",
        currency="USD",
        original_price="42.00",
        discount_percent=20,
        brand="Loom House",
        sku="LH-PIL-OAT",
        product_id=None,
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=[
            "https://loomhouse.example/img/linen-pillow-oat.jpg",
            "https://loomhouse.example/img/linen-pillow-detail.jpg",
        ],
    ),
    Case(
        "shopify_product.js.json",
        "https://hearthandhollow.com/products/cloud-knit-beanie.js",
        name="Cloud Knit Beanie",
        price="28.00",
        currency=None,
        original_price="35.00",
        discount_percent=20,
        brand="Hearth & Hollow",
        sku="HH-BEAN-OAT",
        product_id="7423981234567",
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Shopify",
        categories=["Hats"],
        images=[
            "https://cdn.shopify.com/s/files/1/0555/2222/products/beanie-oat.jpg?v=1706800000",
            "https://cdn.shopify.com/s/files/1/0555/2222/products/beanie-charcoal.jpg?v=1706800001",
        ],
    ),
    Case(
        "shopify_page.html",
        "https://kuechenliebe.de/products/leinen-schuerze",
        name="Leinen-Schürze Salbei",
        price="39.90",
        currency="EUR",
        original_price="49.90",
        discount_percent=20,
        brand="Küchenliebe",
        sku="KL-SCH-SAL",
        product_id="8800001",
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Shopify",
        categories=["Küche"],
        images=[
            "https://kuechenliebe.de/cdn/shop/products/schuerze-salbei.jpg?v=1701",
            "https://kuechenliebe.de/cdn/shop/products/schuerze-tasche.jpg?v=1701",
        ],
    ),
    Case(
        "amazon_like.html",
        "https://www.amazon.com/Lumen-Programmable-Coffee-Maker/dp/B0LUMEN123/ref=sr_1_1",
        name="Lumen 12-Cup Programmable Coffee Maker, Stainless Steel, Auto Shut-Off",
        price="79.99",
        currency="USD",
        original_price="99.99",
        discount_percent=20,
        brand="Lumen",
        sku="B0LUMEN123",  # the ASIN is the item code
        product_id="B0LUMEN123",
        availability="InStock",
        rating="4.30",
        review_count=2417,
        platform="Amazon",
        categories=["Home & Kitchen", "Kitchen & Dining", "Coffee Machines"],
        images=[
            "https://m.media-amazon.com/images/I/71LuMenAAAL.jpg",
            "https://m.media-amazon.com/images/I/61LuMenBBBL.jpg",
        ],
    ),
    Case(
        "etsy_like.html",
        "https://www.etsy.com/listing/1234567890/personalized-leather-keychain",
        name="Personalized Leather Keychain, Hand Stamped Initials",
        price="18.00",
        currency="USD",
        original_price="24.00",
        discount_percent=25,
        brand="CraftyHideStudio",
        sku="1234567890",
        product_id="1234567890",
        availability="InStock",
        rating="4.90",
        review_count=3812,
        platform="Etsy",
        categories=["Accessories", "Keychains & Lanyards"],
        images=[
            "https://i.etsystatic.com/111/r/il/aa11/5550001/il_fullxfull.5550001_abcd.jpg",
            "https://i.etsystatic.com/111/r/il/bb22/5550002/il_fullxfull.5550002_efgh.jpg",
        ],
    ),
    Case(
        "woocommerce.html",
        "https://atelier-lumiere.fr/produit/bougie-figuier/",
        name="Bougie parfumée Figuier",
        price="1039.20",
        currency="EUR",
        original_price="1299.00",
        discount_percent=20,
        brand=None,
        sku="AL-FIG-300",
        product_id="311",
        availability="InStock",
        rating="4.67",
        review_count=12,
        platform="WooCommerce",
        categories=["Bougies"],
        images=[
            "https://atelier-lumiere.fr/wp-content/uploads/2024/03/figuier.jpg",
            "https://atelier-lumiere.fr/wp-content/uploads/2024/03/figuier-pot.jpg",
        ],
    ),
    Case(
        "magento.html",
        "https://peaksupply.com/atlas-hiking-backpack-30l.html",
        name="Atlas Hiking Backpack 30L",
        price="119.00",
        currency="USD",
        original_price="149.00",
        discount_percent=20,
        brand=None,
        sku="PS-ATLAS-30",
        product_id="1842",
        availability="InStock",
        rating="4.50",
        review_count=7,
        platform="Magento",
        categories=["Gear", "Bags"],
        images=[
            "https://peaksupply.com/media/catalog/product/cache/926507dc7f93631a094422215b778fe0/a/t/atlas-30-front.jpg",
            "https://peaksupply.com/media/catalog/product/cache/926507dc7f93631a094422215b778fe0/a/t/atlas-30-side.jpg",
        ],
    ),
    Case(
        "bigcommerce.html",
        "https://barware.co/copper-moscow-mule-mug-set/",
        name="Copper Moscow Mule Mug Set",
        price="49.95",
        currency="USD",
        original_price="64.00",
        discount_percent=22,
        brand="CopperCraft",
        sku="BW-MULE-4",
        product_id="112",
        availability="InStock",
        rating=None,
        review_count=23,
        platform="BigCommerce",
        categories=["Drinkware"],
        images=[
            "https://cdn11.bigcommerce.com/s-abc123/images/stencil/original/products/112/401/mule-set__10001.1700000000.jpg?c=2",
            "https://cdn11.bigcommerce.com/s-abc123/images/stencil/original/products/112/402/mule-handle__20002.1700000000.jpg?c=2",
        ],
    ),
    Case(
        "eur_price.html",
        "https://kaffeewelt.de/maschinen/espresso/barista-pro",
        name="Espressomaschine Barista Pro",
        price="1299.00",
        currency="EUR",
        original_price="1499.00",
        discount_percent=13,
        brand=None,
        sku=None,
        product_id=None,
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=["Maschinen", "Espresso"],
        images=["https://kaffeewelt.de/bilder/barista-pro.jpg"],
    ),
    Case(
        "jpy_price.html",
        "https://yamada-touki.jp/items/yunomi-ai",
        name="有田焼 湯呑み 藍",
        price="1299",
        currency="JPY",
        original_price=None,
        discount_percent=None,
        brand=None,
        sku=None,
        product_id=None,
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=["https://yamada-touki.jp/img/yunomi-ai.jpg"],
    ),
    Case(
        "gbp_price.html",
        "https://hebden-outdoor.co.uk/p/enamel-mug",
        name="Enamel Camping Mug",
        price="12.50",
        currency="GBP",
        original_price=None,
        discount_percent=None,
        brand="Hebden",
        sku=None,
        product_id=None,
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=["https://hebden-outdoor.co.uk/p/mug.jpg"],
    ),
    Case(
        "lazy_images.html",
        "https://koalakitchen.com.au/products/bamboo-board-set",
        name="Bamboo Cutting Board Set",
        price="59.95",
        currency="AUD",
        original_price=None,
        discount_percent=None,
        brand=None,
        sku=None,
        product_id=None,
        availability="Unknown",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=[
            "https://koalakitchen.com.au/media/boards-1600.jpg",
            "https://cdn.koalakitchen.com.au/media/boards-stacked.jpg",
            "https://koalakitchen.com.au/media/boards-juice-groove@2x.webp",  # picture source
        ],
    ),
    Case(
        "base_href_relative.html",
        "https://pottery-barn-ish.com/p/speckled-bowl",
        name="Speckled Stoneware Bowl",
        price="24.00",
        currency="USD",
        original_price=None,
        discount_percent=None,
        brand=None,
        sku="SB-12",
        product_id=None,
        availability="OutOfStock",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=[
            "https://static.pottery-barn-ish.com/catalog/v2/images/bowl-top.jpg",
            "https://static.pottery-barn-ish.com/catalog/shared/bowl-side.jpg",
            "https://static.pottery-barn-ish.com/abs/bowl-stack.jpg",
            "https://img.pottery-barn-ish.com/bowl-glaze.jpg",
        ],
    ),
    Case(
        "windows1252.html",
        "https://oldtownpottery.example.fr/shop/cafe-creme",
        name="Café Crème Mug \u2013 \u201cClásico\u201d",
        price="18.50",
        currency="EUR",
        original_price=None,
        discount_percent=None,
        brand="Old Town Pottery",
        sku=None,
        product_id=None,
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=["https://oldtownpottery.example.fr/shop/img/cafe-creme-mug.jpg"],
    ),
    Case(
        "shift_jis.html",
        "https://tekki.jp/item/kyusu-06",
        name="南部鉄器 急須 0.6L",
        price="8800",
        currency="JPY",
        original_price=None,
        discount_percent=None,
        brand="岩鋳",
        sku="IC-KY-06",
        product_id=None,
        availability="InStock",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=["https://tekki.jp/img/kyusu-06.jpg"],
    ),
    Case(
        "malformed.html",
        "https://relic-lighting.example/lamps/brass",
        name="Vintage Brass Desk Lamp",
        price="145.00",
        currency="USD",
        original_price=None,
        discount_percent=None,
        brand=None,
        sku=None,
        product_id=None,
        availability="Unknown",
        rating=None,
        review_count=None,
        platform="Generic",
        categories=[],
        images=[
            "https://relic-lighting.example/img/lamp.jpg",
            "https://relic-lighting.example/img/lamp-lit.jpg",
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.page for c in CASES])
def test_saved_page_yields_exactly_the_expected_product(case: Case) -> None:
    content_type = "application/json" if case.page.endswith(".json") else None
    product = extract_product((PAGES / case.page).read_bytes(), case.url, content_type=content_type)

    assert product.name == case.name
    assert product.price == _dec(case.price)
    assert str(product.price) == str(case.price) if case.price else product.price is None
    assert product.currency == case.currency
    assert product.original_price == _dec(case.original_price)
    assert product.discount_percent == case.discount_percent
    assert product.brand == case.brand
    assert product.sku == case.sku
    assert product.product_id == case.product_id
    assert product.availability.value == case.availability
    assert product.rating == _dec(case.rating)
    assert product.review_count == case.review_count
    assert product.platform.value == case.platform
    assert product.categories == case.categories
    assert [image.url for image in product.images] == case.images
    assert product.main_image_url == (case.images[0] if case.images else None)
    assert [image.sort_order for image in product.images] == list(range(len(case.images)))
    assert [image.is_primary for image in product.images] == [
        i == 0 for i in range(len(case.images))
    ]


NON_PRODUCT_PAGES = [
    ("captcha.html", "https://www.amazon.com/dp/B0LUMEN123", "captcha"),
    ("login_wall.html", "https://wholesalehub.example/products/123", "login"),
    ("not_found.html", "https://brightside.example/products/gone", "not-found"),
    ("category_listing.html", "https://stride.example/c/womens-running", "listing"),
    ("category_cards_only.html", "https://tinyplantshop.example/sale", "listing"),
]


@pytest.mark.parametrize(("page", "url", "reason"), NON_PRODUCT_PAGES)
def test_non_product_page_is_refused_with_a_clear_reason(page: str, url: str, reason: str):
    with pytest.raises(NotAProductPage) as caught:
        extract_product((PAGES / page).read_bytes(), url, content_type="text/html")

    assert caught.value.reason == reason
    assert caught.value.message  # a sentence for the user, stored as error_message
    assert "Traceback" not in caught.value.message


def test_corpus_has_at_least_eighteen_pages() -> None:
    assert len(list(PAGES.iterdir())) >= 18
    assert len(CASES) + len(NON_PRODUCT_PAGES) == len(list(PAGES.iterdir()))
