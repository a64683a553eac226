"""A designed title card for Text input: gradient, glow, product name, price badge, CTA.

The Local provider's image step. Deterministic: the same text and style give the same card
(the palette and decoration come from a stable hash), which keeps tests and retries stable.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

from ecomvideo.media.design import (
    Palette,
    pick_palette,
    rounded_box,
    stable_hash,
    vertical_gradient,
    wrap,
)
from ecomvideo.media.text import Face, fit_face, load_face

# "$49.99", "49,99 €", "EUR 12", "£1,299.00", "¥3000"
_PRICE_RE = re.compile(
    r"(?:[$€£¥₹]\s?\d[\d.,]*\d?|\d[\d.,]*\d?\s?(?:€|EUR|USD|GBP|\$)|(?:USD|EUR|GBP)\s?\d[\d.,]*)",
    re.IGNORECASE,
)
_LEAD_RE = re.compile(
    r"^(?:please\s+)?(?:create|make|generate|produce|design)\s+(?:an?\s+|the\s+)?"
    r"(?:short\s+|quick\s+|vertical\s+|fun\s+|modern\s+)*(?:promo(?:tional)?\s+|marketing\s+|ad\s+)?"
    r"(?:video|clip|ad|reel|story)?\s*(?:for|about|of|showing|featuring)?\s*(?:our|my|the|a|an)?\s*",
    re.IGNORECASE,
)


def price_from_prompt(prompt: str) -> str | None:
    """The first price-looking token in a prompt (``"only $49.99!"`` -> ``"$49.99"``)."""
    match = _PRICE_RE.search(prompt or "")
    return match.group(0).strip().rstrip(".,") if match else None


def title_from_prompt(prompt: str, max_chars: int = 60) -> str:
    """A product-name-like title from a free prompt: lead-in words, price and the part after
    the first clause break dropped (``"Create a video for our Aurora Lamp, only $49"`` ->
    ``"Aurora Lamp"``)."""
    text = " ".join((prompt or "").split())
    text = _LEAD_RE.sub("", text, count=1)
    text = _PRICE_RE.sub("", text)
    text = re.split(r"[.,;:!?\n]| [-\u2013\u2014] | with | for only | only ", text, maxsplit=1)[0]
    text = text.strip(" -\u2013\u2014\"'")
    if not text:
        text = " ".join((prompt or "").split()) or "New arrival"
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] + "…"
    return text[:1].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class CardText:
    """What the card says. ``title`` is required; the rest is drawn when present."""

    title: str
    price: str | None = None
    original_price: str | None = None
    brand: str | None = None
    tagline: str | None = None
    call_to_action: str | None = "Shop now"


def _decorate(card: Image.Image, palette: Palette, rng: random.Random) -> Image.Image:
    """Soft glow and translucent shapes, drawn at quarter size and blurred (cheap)."""
    w, h = card.size
    small = (max(16, w // 4), max(16, h // 4))
    layer = Image.new("RGBA", small, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    sw, sh = small
    unit = min(sw, sh)
    # One big glow behind the title, then a few floating circles and rings.
    cx, cy = sw * rng.uniform(0.55, 0.8), sh * rng.uniform(0.2, 0.35)
    r = unit * 0.55
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*palette.glow, 120))
    for _ in range(5):
        r = unit * rng.uniform(0.06, 0.2)
        x, y = sw * rng.uniform(0, 1), sh * rng.uniform(0, 1)
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*palette.glow, rng.randint(30, 70)))
        else:
            draw.ellipse(
                (x - r, y - r, x + r, y + r),
                outline=(*palette.accent, 90),
                width=max(1, int(unit * 0.012)),
            )
    layer = layer.filter(ImageFilter.GaussianBlur(unit * 0.04))
    layer = layer.resize((w, h), Image.Resampling.BILINEAR)
    return Image.alpha_composite(card.convert("RGBA"), layer)


def render_title_card(
    size: tuple[int, int], text: CardText, *, style: str | None = None
) -> Image.Image:
    """An RGB title card of ``size`` for ``text`` in the palette ``style`` picks."""
    w, h = size
    palette = pick_palette(style, text.title)
    rng = random.Random(stable_hash(text.title, style))
    card = _decorate(vertical_gradient(size, palette.top, palette.bottom), palette, rng)
    draw = ImageDraw.Draw(card)
    unit = min(w, h) / 1080
    margin = w * 0.08
    content_w = w - 2 * margin
    portrait = h >= w

    # Measure the stack, shrinking everything until it fits between the brand line and the
    # bottom margin (square and landscape cards have little height), then centre it.
    top_band = h * (0.16 if portrait else 0.2)
    available = h * (0.92 if portrait else 0.95) - top_band
    base_unit = unit
    for scale in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.42):
        unit = base_unit * scale
        title_font, title_lines = fit_face(
            text.title,
            max_width=content_w,
            max_lines=4 if portrait else 3,
            start_size=int(130 * unit),
            min_size=int(48 * unit),
        )
        title_lh = int(title_font.line_height * 1.05)
        tag_font = load_face(int(44 * unit), bold=False)
        tag_lines = wrap(text.tagline, tag_font.length, content_w, 2) if text.tagline else []
        tag_lh = int(tag_font.line_height * 1.15)
        price_font = load_face(int(84 * unit))
        badge_h = int(price_font.line_height * 1.45) if text.price else 0
        cta_font = load_face(int(46 * unit))
        cta_h = int(cta_font.line_height * 1.9) if text.call_to_action else 0
        gap = int(56 * unit)
        blocks = [len(title_lines) * title_lh, len(tag_lines) * tag_lh, badge_h, cta_h]
        stack = sum(blocks) + gap * (sum(1 for b in blocks if b) - 1)
        if stack <= available:
            break
    y = top_band + max(0.0, (available - stack) / 2)

    if text.brand:
        brand_font = load_face(int(38 * base_unit))
        brand = " ".join(text.brand.upper())[:60]
        brand_font.draw(draw, (w / 2, top_band * 0.55), brand, palette.text, anchor="mm")

    shadow = (0, 0, 0, 90) if palette.name != "minimal" else (255, 255, 255, 0)
    offset = max(2, int(4 * unit))
    for line in title_lines:
        title_font.draw(draw, (w / 2 + offset, y + offset), line, shadow, anchor="ma")
        title_font.draw(draw, (w / 2, y), line, palette.text, anchor="ma")
        y += title_lh
    if tag_lines:
        y += gap
        for line in tag_lines:
            tag_font.draw(draw, (w / 2, y), line, palette.text, anchor="ma")
            y += tag_lh
    if text.price:
        y += gap
        _price_badge(
            draw, (w / 2, y), text.price, text.original_price, price_font, palette, badge_h
        )
        y += badge_h
    if text.call_to_action:
        y += gap
        label = f"{text.call_to_action}  →"
        tw = cta_font.length(label)
        pad = cta_h * 0.7
        box = (w / 2 - tw / 2 - pad, y, w / 2 + tw / 2 + pad, y + cta_h)
        draw.rounded_rectangle(
            box, radius=cta_h / 2, outline=palette.text, width=max(2, int(4 * unit))
        )
        cta_font.draw(draw, (w / 2, y + cta_h / 2), label, palette.text, anchor="mm")
    return card.convert("RGB")


def _price_badge(
    draw: ImageDraw.ImageDraw,
    top_center: tuple[float, float],
    price: str,
    original: str | None,
    font: Face,
    palette: Palette,
    badge_h: int,
) -> None:
    cx, y = top_center
    tw = font.length(price)
    pad = badge_h * 0.6
    old_w = 0.0
    old_font = None
    if original:
        old_font = load_face(int(badge_h * 0.38), bold=False)
        old_w = old_font.length(original) + badge_h * 0.35
    total = tw + 2 * pad + old_w
    left = cx - total / 2
    if original and old_font is not None:
        oy = y + badge_h / 2
        old_font.draw(draw, (left, oy), original, palette.text, anchor="lm")
        ow = old_font.length(original)
        draw.line((left, oy, left + ow, oy), fill=palette.text, width=max(2, badge_h // 24))
        left += old_w
    rounded_box(draw, (left, y, left + tw + 2 * pad, y + badge_h), palette.accent)
    font.draw(draw, (left + pad + tw / 2, y + badge_h / 2), price, palette.accent_text, anchor="mm")
