"""Image sizes and gallery items on the paths whose typing was tightened (no type: ignore)."""

from __future__ import annotations

import pytest

from ecomvideo.scraping import extract_product
from ecomvideo.scraping.images import size_score

ETSY = "https://i.etsystatic.com/1234/r/il/ab12cd/5678/"


@pytest.mark.parametrize(("token", "score"), [("il_570xN", 570), ("il_794xN", 794)])
def test_an_etsy_variant_scores_its_width(token: str, score: int) -> None:
    assert size_score(f"{ETSY}{token}.5678_abcd.jpg") == score


def test_the_etsy_original_outscores_every_sized_variant() -> None:
    assert size_score(f"{ETSY}il_fullxfull.5678_abcd.jpg") > size_score(f"{ETSY}il_3000xN.5.jpg")


def test_woocommerce_gallery_items_with_large_image_a_link_only_or_an_image_only() -> None:
    html = b"""<html><head><link rel="stylesheet" href="/wp-content/plugins/woocommerce/a.css">
    </head><body class="woocommerce"><h1 class="product_title">Fig candle</h1>
    <div class="woocommerce-product-gallery">
     <div class="woocommerce-product-gallery__image"><a href="/big/fig.jpg"><img src="/f.jpg"
       alt="Lit fig candle" data-large_image="/big/fig.jpg" data-large_image_width="1800"
       data-large_image_height="1200"></a></div>
     <div class="woocommerce-product-gallery__image"><a href="/big/side.jpg">side</a></div>
     <div class="woocommerce-product-gallery__image"><img src="/only.jpg" alt="Only img"></div>
    </div></body></html>"""

    images = extract_product(html, "https://shop.example/p/fig").images

    assert [(i.url, i.alt_text, i.width, i.height) for i in images] == [
        ("https://shop.example/big/fig.jpg", "Lit fig candle", 1800, 1200),
        ("https://shop.example/big/side.jpg", None, None, None),
        ("https://shop.example/only.jpg", "Only img", None, None),
    ]
