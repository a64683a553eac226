"""Text that draws in every script: per-character font fallback, shaping and direction.

Fonts, in order: DejaVu Sans (Latin, Greek, Cyrillic, Arabic, Hebrew...) then WenQuanYi Micro
Hei (CJK ideographs, kana, Hangul; Apache-2.0, see ``fonts/LICENSE-WenQuanYi.txt``). The font
files (6.4 MB) ship with the pipeline worker, the only function that draws text, not with the
core layer every function carries: see ``font_dir`` for where they are looked up. Each
letter is drawn with the first font of the chain that has a glyph for it; a glyph is missing
when the character renders exactly like the font's ``.notdef`` box (Pillow has no cmap API, and
this is what a reader would see: tofu). Spaces, digits, punctuation and combining marks stay in
the current run's font when it has them, so a CJK phrase is not cut into runs at every space.
The CJK font has one weight: bold CJK text is drawn regular.

Shaping and direction: with Pillow's Raqm layout (HarfBuzz shaping + FriBiDi reordering) each
run is shaped and reordered by Raqm, and the runs of a line are placed in the paragraph's
direction (its first strong character). Pillow's wheels load FriBiDi from the system at run
time; where it is missing (Lambda's base image has no libfribidi) Pillow falls back to its basic
layout, which neither joins Arabic letters nor reverses right-to-left text. Then a line with
right-to-left characters is reshaped into Arabic presentation forms (``arabic-reshaper``) and
reordered visually (``python-bidi``, the Unicode Bidirectional Algorithm) before it is drawn
left to right. Both paths are tested (``tests/unit/media/test_text.py``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from ecomvideo.media.design import fit
from ecomvideo.media.worker_files import worker_dir

FONT_DIR_ENV = "ECOMVIDEO_FONT_DIR"
# (file, face index in a collection) per weight; the last entry is the CJK fallback.
_CHAIN: dict[bool, tuple[tuple[str, int], ...]] = {
    True: (("DejaVuSans-Bold.ttf", 0), ("wqy-microhei.ttc", 0)),
    False: (("DejaVuSans.ttf", 0), ("wqy-microhei.ttc", 0)),
}
RAQM = ImageFont.Layout.RAQM
BASIC = ImageFont.Layout.BASIC
_RTL_CLASSES = frozenset({"R", "AL"})
Box = tuple[int, int, int, int]


class FontsMissing(RuntimeError):
    """The font files are not where this function looks for them (see ``font_dir``)."""


def font_dir() -> Path:
    """The directory holding the chain's font files, first match of:

    1. ``$ECOMVIDEO_FONT_DIR`` when set (an explicit choice: it must hold the fonts);
    2. ``$LAMBDA_TASK_ROOT/fonts``: the pipeline worker's package, in Lambda and in the local
       stack (which sets LAMBDA_TASK_ROOT to the function's code directory);
    3. ``functions/pipeline_worker/fonts`` of this checkout (tests, benches, scripts).

    A function without the fonts raises ``FontsMissing`` when it first draws text, never at
    import (other functions import ``media`` modules for their pure helpers).
    """
    files = {name for chain in _CHAIN.values() for name, _index in chain}
    found, candidates = worker_dir("fonts", FONT_DIR_ENV, files)
    if found is not None:
        return found
    raise FontsMissing(
        f"font files {sorted(files)} not found in {', '.join(map(str, candidates))}: only the "
        f"pipeline worker ships them (functions/pipeline_worker/fonts); set {FONT_DIR_ENV} to "
        "a directory holding them to draw text elsewhere"
    )


def default_engine() -> ImageFont.Layout:
    """Raqm when Pillow could load it (HarfBuzz + FriBiDi), else the basic layout."""
    return RAQM if features.check_feature("raqm") else BASIC


def _is_rtl(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in _RTL_CLASSES


def paragraph_is_rtl(text: str) -> bool:
    """Direction of a paragraph: that of its first strong character (UAX #9, P2-P3)."""
    for ch in text:
        klass = unicodedata.bidirectional(ch)
        if klass in _RTL_CLASSES:
            return True
        if klass == "L":
            return False
    return False


@lru_cache(maxsize=8)
def _probe_font(name: str, index: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_dir() / name), 24, index=index, layout_engine=BASIC)


def _fingerprint(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    img = Image.new("L", (48, 48))
    ImageDraw.Draw(img).text((8, 4), ch, font=font, fill=255)
    return img.tobytes()


@lru_cache(maxsize=8)
def _notdef(name: str, index: int) -> bytes:
    # U+10FFFF is a noncharacter: no font maps it, every font draws its .notdef glyph.
    return _fingerprint(_probe_font(name, index), "\U0010ffff")


@lru_cache(maxsize=16384)
def has_glyph(name: str, index: int, ch: str) -> bool:
    """Whether the font file ``name`` draws ``ch`` as something other than its .notdef box."""
    if ch.isspace():
        return True
    return _fingerprint(_probe_font(name, index), ch) != _notdef(name, index)


def _sticky(ch: str) -> bool:
    """Characters that may stay in the current run's font (not letters of a script)."""
    return ch.isspace() or unicodedata.category(ch)[0] in "MNPSZC"


@dataclass(frozen=True, slots=True)
class Run:
    font: ImageFont.FreeTypeFont
    text: str


class Face:
    """A text style (size, weight) over the font chain: measures and draws any script."""

    def __init__(self, size: int, bold: bool, engine: ImageFont.Layout) -> None:
        self.size = size
        self.bold = bold
        self.engine = engine
        self.chain = _CHAIN[bold]
        directory = font_dir()
        self.fonts = [
            ImageFont.truetype(str(directory / name), size, index=index, layout_engine=engine)
            for name, index in self.chain
        ]
        metrics = [f.getmetrics() for f in self.fonts]
        self.ascent = max(a for a, _d in metrics)
        self.descent = max(d for _a, d in metrics)

    @property
    def line_height(self) -> int:
        """Height of one line (the tallest ascent + the deepest descent in the chain)."""
        return self.ascent + self.descent

    def _font_index(self, ch: str, current: int | None) -> int:
        if current is not None and _sticky(ch) and has_glyph(*self.chain[current], ch):
            return current
        for k, (name, index) in enumerate(self.chain):
            if has_glyph(name, index, ch):
                return k
        return current if current is not None else 0

    def visual(self, text: str) -> str:
        """The line as the basic layout must receive it: Arabic joined, right-to-left
        reordered. Unchanged with Raqm, or when the line has no right-to-left character."""
        if self.engine == RAQM or not any(_is_rtl(ch) for ch in text):
            return text
        return _reshape_and_reorder(text)

    def runs(self, text: str) -> list[Run]:
        """Runs of one font each, in the order they are drawn left to right."""
        line = self.visual(text)
        runs: list[Run] = []
        current: int | None = None
        start = 0
        for pos, ch in enumerate(line):
            k = self._font_index(ch, current)
            if current is not None and k != current:
                runs.append(Run(self.fonts[current], line[start:pos]))
                start = pos
            current = k
        if current is not None:
            runs.append(Run(self.fonts[current], line[start:]))
        if self.engine == RAQM and len(runs) > 1 and paragraph_is_rtl(text):
            runs.reverse()  # Raqm orders inside a run; the runs follow the paragraph
        return runs

    def length(self, text: str) -> float:
        """Advance width of ``text`` in pixels."""
        return sum(run.font.getlength(run.text) for run in self.runs(text))

    def ink(self, text: str) -> tuple[int, int]:
        """Top and bottom of the glyphs of ``text`` relative to its line box's top: below 0 or
        beyond ``line_height`` when marks (Arabic hamza, Vietnamese stacks) overshoot."""
        top, bottom = 0, self.line_height
        for run in self.runs(text):
            bb = run.font.getbbox(run.text, anchor="ls")
            top = min(top, self.ascent + int(bb[1]))
            bottom = max(bottom, self.ascent + int(bb[3]))
        return top, bottom

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        text: str,
        fill: tuple[int, ...],
        anchor: str = "la",
    ) -> Box:
        """Draw ``text`` at ``xy``; returns the bounding box of what was drawn. ``anchor`` as
        in Pillow, for the line box: ``l``/``m``/``r`` (left, middle, right) then ``a``/``m``
        (``xy`` is the top or the vertical middle of the line)."""
        x = xy[0] - {"l": 0.0, "m": 0.5, "r": 1.0}[anchor[0]] * self.length(text)
        y = xy[1] - {"a": 0.0, "m": 0.5}[anchor[1]] * self.line_height
        baseline = y + self.ascent
        box: Box | None = None
        for run in self.runs(text):
            draw.text((x, baseline), run.text, font=run.font, fill=fill, anchor="ls")
            bb = draw.textbbox((x, baseline), run.text, font=run.font, anchor="ls")
            x += run.font.getlength(run.text)
            if bb[2] > bb[0]:
                edges = (int(bb[0]), int(bb[1]), int(bb[2]), int(bb[3]))
                box = edges if box is None else _union(box, edges)
        return box or (int(x), int(y), int(x), int(y))


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _reshape_and_reorder(text: str) -> str:
    try:
        import arabic_reshaper
        from bidi import get_display
    except ImportError:  # pragma: no cover - both are in the worker's requirements
        return text
    return get_display(arabic_reshaper.reshape(text))


@lru_cache(maxsize=128)
def load_face(size: int, bold: bool = True, engine: ImageFont.Layout | None = None) -> Face:
    """The face at ``size`` px (cached); ``engine`` defaults to Raqm when available."""
    return Face(max(6, int(size)), bold, default_engine() if engine is None else engine)


def fit_face(
    text: str,
    *,
    max_width: float,
    max_lines: int,
    start_size: int,
    min_size: int,
    bold: bool = True,
    engine: ImageFont.Layout | None = None,
) -> tuple[Face, list[str]]:
    """The largest face at which ``text`` wraps into ``max_lines`` (see ``design.fit``)."""
    return fit(
        text,
        lambda size: load_face(size, bold, engine),
        Face.length,
        max_width=max_width,
        max_lines=max_lines,
        start_size=start_size,
        min_size=min_size,
    )
