"""Text in every script: real glyphs (never the .notdef box), Arabic joined and right to left,
with Raqm and with Pillow's basic layout (what Lambda has without FriBiDi)."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat, features

from ecomvideo.media import text as tx
from tests.unit.media.fixtures_storyboard import LONG_NAMES

ENGINES = [tx.BASIC] + ([tx.RAQM] if features.check_feature("raqm") else [])


def _ink(face: tx.Face, line: str, *, raw: bool = False) -> Image.Image:
    """``line`` drawn by the face, or (``raw``) by its first font as is, without any shaping
    or reordering: the reference for presentation forms given in visual order."""
    width = int(face.length(line)) + 20
    img = Image.new("L", (width, face.line_height + 20))
    draw = ImageDraw.Draw(img)
    if raw:
        draw.text((10, 10), line, font=face.fonts[0], fill=255)
    else:
        face.draw(draw, (10, 10), line, (255,))
    return img.crop(img.getbbox())


def _glyph(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    img = Image.new("L", (2 * font.size, 2 * font.size))
    ImageDraw.Draw(img).text((font.size // 2, 0), ch, font=font, fill=255)
    return img.tobytes()


def _difference(a: Image.Image, b: Image.Image) -> float:
    b = b.resize(a.size)
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("script", sorted(LONG_NAMES))
def test_every_character_of_every_script_is_drawn_with_a_real_glyph_not_tofu(script, engine):
    face = tx.load_face(64, True, engine)
    for ch in sorted(set(LONG_NAMES[script]) - {" "}):
        (run,) = face.runs(ch)
        notdef = _glyph(run.font, "\U0010ffff")
        assert _glyph(run.font, run.text) != notdef, (script, ch, run.font.getname())


def test_the_tofu_check_sees_the_notdef_box_of_a_font_without_the_glyph():
    dejavu = tx.load_face(64).fonts[0]
    assert _glyph(dejavu, "调") == _glyph(dejavu, "\U0010ffff")  # DejaVu has no CJK
    assert _glyph(dejavu, "Ж") != _glyph(dejavu, "\U0010ffff")
    assert not tx.has_glyph("DejaVuSans.ttf", 0, "램")
    assert tx.has_glyph("wqy-microhei.ttc", 0, "램")


def test_latin_stays_in_the_primary_font_and_cjk_falls_back_per_character():
    face = tx.load_face(48, True, tx.BASIC)
    runs = face.runs("Lumen 调光台灯 Pro")
    assert [r.text for r in runs] == ["Lumen ", "调光台灯 ", "Pro"]
    assert runs[0].font is runs[2].font is face.fonts[0]
    assert runs[1].font is face.fonts[1]


@pytest.mark.parametrize("engine", ENGINES)
def test_arabic_is_joined_and_drawn_right_to_left(engine):
    face = tx.load_face(72, True, engine)
    # "مصباح" as a reader sees it: initial meem, medial sad and beh, final alef, isolated hah,
    # laid out right to left (presentation forms drawn left to right without any shaping).
    basic = tx.load_face(72, True, tx.BASIC)
    expected = _ink(basic, "\ufea1\ufe8e\ufe92\ufebc\ufee3", raw=True)
    unshaped = _ink(basic, "\ufee1\ufeba\ufe8f\ufe8d\ufea1", raw=True)
    drawn = _ink(face, "مصباح")
    assert _difference(drawn, expected) < 6
    assert _difference(unshaped, expected) > 3 * max(1.0, _difference(drawn, expected))


@pytest.mark.parametrize("engine", ENGINES)
def test_runs_of_a_right_to_left_line_are_placed_right_to_left(engine):
    face = tx.load_face(48, True, engine)
    runs = face.runs("مصباح 台灯")
    assert runs[0].text.strip() == "台灯"  # the CJK word ends the RTL line: on the left
    assert face.runs("台灯 Lumen")[0].text.strip() == "台灯"


def test_cjk_without_spaces_wraps_by_character_within_the_width():
    face, lines = tx.fit_face(
        LONG_NAMES["cjk"].replace(" ", ""), max_width=300, max_lines=3, start_size=60, min_size=20
    )
    assert len(lines) <= 3
    assert all(face.length(line) <= 300 for line in lines)
