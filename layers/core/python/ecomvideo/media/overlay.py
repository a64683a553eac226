"""The lower-third text overlay drawn over a product video: title, price badge, CTA.

Rendered once per video as an RGBA band (only the bottom part of the frame), then pasted onto
every frame with its alpha as mask: a paste of a band is ~1 ms, far cheaper than compositing a
full-frame RGBA image per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from ecomvideo.media.design import Palette, rounded_box
from ecomvideo.media.text import Face, fit_face, load_face


@dataclass(frozen=True, slots=True)
class Overlay:
    """An RGBA ``image`` to paste at ``(0, top)`` of a frame."""

    image: Image.Image
    top: int

    def faded(self, opacity: float) -> Image.Image:
        """The overlay with its alpha scaled by ``opacity`` (0..1), for the fade-in frames."""
        if opacity >= 1:
            return self.image
        alpha = self.image.getchannel("A").point(lambda a: int(a * max(0.0, opacity)))
        out = self.image.copy()
        out.putalpha(alpha)
        return out


def render_overlay(
    size: tuple[int, int],
    *,
    title: str | None,
    price: str | None,
    call_to_action: str | None,
    palette: Palette,
) -> Overlay | None:
    """The lower-third overlay for a frame of ``size``, or ``None`` when there is no text."""
    if not (title or price or call_to_action):
        return None
    w, h = size
    unit = min(w, h) / 1080
    portrait = h >= w
    margin = w * 0.07

    title_font: Face | None = None
    title_lines: list[str] = []
    if title:
        title_font, title_lines = fit_face(
            title,
            max_width=w - 2 * margin,
            max_lines=2,
            start_size=int((78 if portrait else 64) * unit),
            min_size=int(40 * unit),
        )
    title_lh = int(title_font.line_height * 1.08) if title_font else 0
    price_font = load_face(int(60 * unit))
    badge_h = int(price_font.line_height * 1.4) if price else 0
    cta_font = load_face(int(38 * unit))
    cta_h = int(cta_font.line_height * 1.8) if call_to_action else 0
    row_h = max(badge_h, cta_h)
    gap = int(28 * unit)
    content = len(title_lines) * title_lh + (gap + row_h if row_h else 0)
    bottom_pad = int(h * (0.1 if portrait else 0.08))  # clear of app UI on vertical players
    band_h = min(h, int(content + bottom_pad + h * 0.12))
    top = h - band_h

    band = Image.new("RGBA", (w, band_h), (0, 0, 0, 0))
    # Scrim: transparent at the top of the band to ~70 % black at the bottom, for legibility
    # on any picture.
    scrim = Image.linear_gradient("L").resize((w, band_h)).point(lambda v: int(v * 0.7))
    band.putalpha(scrim)
    draw = ImageDraw.Draw(band)
    y = band_h - bottom_pad - content
    for line in title_lines:
        assert title_font is not None
        title_font.draw(draw, (margin + 3 * unit, y + 3 * unit), line, (0, 0, 0, 140))
        title_font.draw(draw, (margin, y), line, (255, 255, 255, 255))
        y += title_lh
    if row_h:
        y += gap
        x = margin
        if price:
            tw = price_font.length(price)
            pad = badge_h * 0.5
            by = y + (row_h - badge_h) / 2
            rounded_box(draw, (x, by, x + tw + 2 * pad, by + badge_h), (*palette.accent, 255))
            price_font.draw(
                draw, (x + pad + tw / 2, by + badge_h / 2), price, (*palette.accent_text, 255), "mm"
            )
            x += tw + 2 * pad + gap
        if call_to_action:
            label = f"{call_to_action}  →"
            tw = cta_font.length(label)
            pad = cta_h * 0.6
            cy = y + (row_h - cta_h) / 2
            if x + tw + 2 * pad <= w - margin:
                rounded_box(draw, (x, cy, x + tw + 2 * pad, cy + cta_h), (255, 255, 255, 235))
                cta_font.draw(
                    draw, (x + pad + tw / 2, cy + cta_h / 2), label, (17, 24, 39, 255), "mm"
                )
    return Overlay(image=band, top=top)
