"""Title cards for Text input: designed, never blank, text derived from the prompt."""

from __future__ import annotations

import pytest
from PIL import ImageChops, ImageStat

from ecomvideo.media.design import pick_palette
from ecomvideo.media.formats import frame_size
from ecomvideo.media.overlay import render_overlay
from ecomvideo.media.titlecard import (
    CardText,
    price_from_prompt,
    render_title_card,
    title_from_prompt,
)


@pytest.mark.parametrize(
    ("prompt", "title", "price"),
    [
        (
            "Create a video for our Aurora Smart Lamp with app control, only $49.99",
            "Aurora Smart Lamp",
            "$49.99",
        ),
        ("Handmade leather wallet - 39,90 €", "Handmade leather wallet", "39,90 €"),
        ("make a promo video of the new Air Zoom shoes", "New Air Zoom shoes", None),
    ],
)
def test_title_and_price_come_from_the_prompt(prompt, title, price):
    assert title_from_prompt(prompt) == title
    assert price_from_prompt(prompt) == price


def test_card_draws_the_product_name():
    with_name = render_title_card(
        (270, 480), CardText(title="Aurora Lamp", price="$49.99"), style="ocean"
    )
    other = render_title_card(
        (270, 480), CardText(title="Zen Kettle", price="$49.99"), style="ocean"
    )

    assert with_name.size == (270, 480) and with_name.mode == "RGB"
    assert ImageStat.Stat(with_name.convert("L")).stddev[0] > 15
    # Only the text differs (same style, but decoration is seeded by title: compare the
    # centre band where the title sits against a card with another title).
    diff = ImageChops.difference(with_name, other).convert("L")
    assert diff.getbbox() is not None


def test_card_is_deterministic_and_fits_every_aspect():
    text = CardText(
        title="A very long product name that needs several lines to fit on a card",
        price="$1,299.00",
        original_price="$1,499.00",
        brand="Acme",
        tagline="Crafted for everyday comfort",
    )
    for ratio in ("9:16", "1:1", "16:9", "4:5"):
        size = frame_size(ratio, "720p")
        card = render_title_card(size, text, style="luxury")
        assert card.size == size
        assert (
            ImageChops.difference(card, render_title_card(size, text, style="luxury")).getbbox()
            is None
        )


@pytest.mark.parametrize("words", ["调光台灯", "스마트 램프", "مصباح ذكي"])
def test_card_and_overlay_draw_cjk_and_arabic_glyphs_not_missing_glyph_boxes(words):
    # U+10FFFF has a glyph in no font: every font draws its .notdef box for it (tofu).
    tofu = "".join(c if c == " " else "\U0010ffff" for c in words)

    def card(tagline: str):
        return render_title_card((360, 640), CardText(title="Lamp", tagline=tagline), style="ocean")

    def overlay(title: str):
        band = render_overlay(
            (360, 640), title=title, price=None, call_to_action=None, palette=pick_palette("ocean")
        )
        assert band is not None
        return band.image

    assert ImageChops.difference(card(words), card(tofu)).getbbox() is not None
    assert ImageChops.difference(overlay(words), overlay(tofu)).getbbox() is not None
