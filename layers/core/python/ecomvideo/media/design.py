"""Shared drawing pieces: palettes, text wrapping and fitting, gradients (Pillow only, no
numpy). Fonts and drawing text in every script: ``media.text``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PIL import Image, ImageDraw

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of one look: background gradient, accent (badges, buttons) and text."""

    name: str
    top: RGB
    bottom: RGB
    glow: RGB
    accent: RGB
    accent_text: RGB
    text: RGB


PALETTES: dict[str, Palette] = {
    p.name: p
    for p in (
        Palette(
            "midnight",
            (24, 20, 64),
            (88, 28, 135),
            (168, 85, 247),
            (250, 204, 21),
            (24, 20, 64),
            (255, 255, 255),
        ),
        Palette(
            "sunset",
            (244, 63, 94),
            (251, 146, 60),
            (254, 215, 170),
            (17, 24, 39),
            (255, 255, 255),
            (255, 255, 255),
        ),
        Palette(
            "ocean",
            (8, 47, 73),
            (14, 116, 144),
            (103, 232, 249),
            (34, 211, 238),
            (8, 47, 73),
            (255, 255, 255),
        ),
        Palette(
            "forest",
            (20, 83, 45),
            (21, 128, 61),
            (187, 247, 208),
            (250, 250, 249),
            (20, 83, 45),
            (255, 255, 255),
        ),
        Palette(
            "luxury",
            (12, 10, 9),
            (41, 37, 36),
            (202, 138, 4),
            (234, 179, 8),
            (12, 10, 9),
            (250, 250, 249),
        ),
        Palette(
            "minimal",
            (250, 250, 249),
            (231, 229, 228),
            (255, 255, 255),
            (17, 24, 39),
            (255, 255, 255),
            (17, 24, 39),
        ),
        Palette(
            "candy",
            (236, 72, 153),
            (139, 92, 246),
            (251, 207, 232),
            (255, 255, 255),
            (190, 24, 93),
            (255, 255, 255),
        ),
    )
}

# Words in a free-text ``style`` -> palette. First match wins.
_STYLE_WORDS: tuple[tuple[str, str], ...] = (
    ("lux", "luxury"),
    ("elegan", "luxury"),
    ("premium", "luxury"),
    ("gold", "luxury"),
    ("minimal", "minimal"),
    ("clean", "minimal"),
    ("white", "minimal"),
    ("simple", "minimal"),
    ("nature", "forest"),
    ("eco", "forest"),
    ("green", "forest"),
    ("organic", "forest"),
    ("ocean", "ocean"),
    ("tech", "ocean"),
    ("cool", "ocean"),
    ("blue", "ocean"),
    ("warm", "sunset"),
    ("summer", "sunset"),
    ("energetic", "sunset"),
    ("sport", "sunset"),
    ("playful", "candy"),
    ("fun", "candy"),
    ("kids", "candy"),
    ("pink", "candy"),
    ("dark", "midnight"),
    ("night", "midnight"),
    ("bold", "midnight"),
    ("modern", "midnight"),
)


def stable_hash(*parts: str | None) -> int:
    """A hash that is the same in every process (``hash()`` is salted per process)."""
    digest = hashlib.blake2b("\x1f".join(p or "" for p in parts).encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


def pick_palette(style: str | None, seed_text: str | None = None) -> Palette:
    """Palette for a style word (``"luxury"``, ``"minimal modern"``...), else one chosen by a
    stable hash of ``seed_text`` so the same product always gets the same look."""
    wanted = (style or "").lower()
    if wanted in PALETTES:
        return PALETTES[wanted]
    for word, palette in _STYLE_WORDS:
        if word in wanted:
            return PALETTES[palette]
    # "minimal" is near-white and reads as blank when nobody asked for it: explicit only.
    names = sorted(n for n in PALETTES if n != "minimal")
    return PALETTES[names[stable_hash(seed_text, style) % len(names)]]


def wrap(text: str, measure: Callable[[str], float], max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap into at most ``max_lines``; the last line is ellipsised if needed.

    Words longer than a line (and scripts written without spaces, like Chinese or Japanese)
    are cut by characters, so nothing ever overflows ``max_width``.
    """
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if measure(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while measure(current) > max_width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and measure(current[:cut]) > max_width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        kept = lines[:max_lines]
        last = kept[-1]
        while last and measure(last + "…") > max_width:
            last = last[:-1].rstrip()
        kept[-1] = last + "…"
        return kept
    return lines


def fit[F](
    text: str,
    load: Callable[[int], F],
    measure: Callable[[F, str], float],
    *,
    max_width: float,
    max_lines: int,
    start_size: int,
    min_size: int,
) -> tuple[F, list[str]]:
    """Largest size (from ``start_size`` down to ``min_size``, ``load(size)`` gives the font)
    at which ``text`` wraps into ``max_lines`` without ellipsis; at ``min_size`` the text is
    ellipsised instead."""
    size = start_size
    while size > min_size:
        font = load(size)
        lines = wrap(text, partial(measure, font), max_width, max_lines + 1)
        if len(lines) <= max_lines:
            return font, lines
        size = int(size * 0.9)
    font = load(min_size)
    return font, wrap(text, lambda s: measure(font, s), max_width, max_lines)


def vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """RGB image fading from ``top`` to ``bottom`` (Pillow's 256-step gradient, resized)."""
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def rounded_box(
    draw: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    fill: RGB | tuple[int, int, int, int],
    radius: float | None = None,
) -> None:
    """A pill / rounded rectangle (radius defaults to half the height: a pill)."""
    r = radius if radius is not None else (box[3] - box[1]) / 2
    draw.rounded_rectangle(box, radius=r, fill=fill)
