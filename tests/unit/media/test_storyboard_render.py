"""Rendering storyboards: every scene in one MP4, scene cuts, safe zones, contrast, palette."""

from __future__ import annotations

import io
from dataclasses import replace
from itertools import pairwise

import av
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from ecomvideo.media import storyboard as sb
from ecomvideo.media import text as tx
from ecomvideo.media.design import pick_palette
from ecomvideo.media.formats import frame_size, safe_zone
from ecomvideo.media.images import load_image
from ecomvideo.media.render import RenderSpec
from ecomvideo.media.segments import MemorySegments
from ecomvideo.media.storyboard_render import (
    MIN_CONTRAST,
    WHITE,
    _Composer,
    _scrim_for,
    contrast_ratio,
    palette_from_image,
    readable_on,
    render_storyboard,
    subject_center,
)
from tests.unit.media.fixtures_storyboard import LONG_NAMES, STORY
from tests.unit.media.fixtures_storyboard import pictures as _pictures
from tests.unit.media.helpers_media import decode, photo_bytes


def _mid_frames(mp4: bytes, scenes: list[dict]) -> list[Image.Image]:
    keep = tuple(int(s["start"] * 30) + s["frames"] // 2 for s in scenes)
    return decode(mp4, keep=keep).frames


def test_every_scene_is_rendered_into_one_h264_aac_mp4_with_detectable_cuts():
    board = sb.build(STORY, 8)
    video = render_storyboard(board, _pictures(), RenderSpec(180, 320, board.duration))

    out = decode(video.mp4)
    assert (out.width, out.height, out.codec) == (180, 320, "h264")
    assert out.frame_count == video.frame_count == 240
    with av.open(io.BytesIO(video.mp4)) as container:
        audio = container.streams.audio
        assert len(audio) == 1 and audio[0].codec_context.name == "aac"
        assert float(audio[0].duration * audio[0].time_base) == pytest.approx(8, abs=0.1)
    assert len(video.scenes) == len(board.scenes) >= 5
    # Timings are contiguous and add up to the video.
    assert [s["start"] for s in video.scenes] == pytest.approx(
        [sum(x["duration"] for x in video.scenes[:i]) for i in range(len(video.scenes))]
    )
    # Consecutive scenes differ visibly (a scene cut detectable by frame difference).
    frames = _mid_frames(video.mp4, video.scenes)
    for a, b in pairwise(frames):
        diff = ImageStat.Stat(ImageChops.difference(a, b).convert("L")).mean[0]
        assert diff > 6, diff
    assert video.thumbnail[:3] == b"\xff\xd8\xff"


def test_the_product_photos_appear_in_the_scenes():
    board = sb.build(STORY, 8)
    video = render_storyboard(board, _pictures(), RenderSpec(180, 320, board.duration))

    frames = _mid_frames(video.mp4, video.scenes)
    hero = frames[[s.kind for s in board.scenes].index("hero")]
    r, g, b = ImageStat.Stat(hero.crop((60, 100, 120, 180))).mean
    assert r > 120 and g < 110 and b < 110  # the red product of photo 0, mid-frame


def test_static_scenes_cost_no_composition_and_the_encode_reuses_their_frames():
    board = sb.build(STORY, 6)
    composer = _Composer(board, _pictures(), (180, 320), 30, pick_palette("ocean"))
    price = next(i for i, s in enumerate(board.scenes) if s.kind == "price")
    frames = composer.scene(price, board.scenes[price], 30)

    assert frames.frame(20) is frames.frame(21) is frames.frame(29)


def _assert_every_scene_text_inside_the_safe_zone(script: str, ratio: str) -> None:
    size = frame_size(ratio, "480p")
    story = replace(STORY, title=LONG_NAMES[script], brand=LONG_NAMES[script][:30])
    board = sb.build(story, 15)
    composer = _Composer(board, _pictures(), size, 30, pick_palette("midnight"))
    left, top, right, bottom = safe_zone(*size)

    for i, scene in enumerate(board.scenes):
        layer = composer.scene(i, scene, 10).text
        boxes = composer.text_boxes[scene.id]
        assert layer is not None and boxes, scene
        rl, rt, rr, rb = layer.region
        assert left <= rl and rr <= right and top <= rt and rb <= bottom, scene.kind
        for x0, y0, x1, y1 in boxes:
            # Inside the region the text was drawn on: no glyph cut at the layer's edge...
            assert rl <= x0 and x1 <= rr and rt <= y0 and y1 <= rb, (scene.kind, layer.region)
            # ...which lies inside the format's safe zone.
            assert left <= x0 and x1 <= right, (scene.kind, (x0, x1), (left, right))
            assert top <= y0 and y1 <= bottom, (scene.kind, (y0, y1), (top, bottom))


@pytest.mark.parametrize("ratio", ["9:16", "1:1", "16:9"])
@pytest.mark.parametrize("script", sorted(LONG_NAMES))
def test_text_stays_inside_the_safe_zone_in_every_format_and_script(ratio, script):
    _assert_every_scene_text_inside_the_safe_zone(script, ratio)


@pytest.mark.parametrize("script", ["arabic", "cjk"])
def test_text_stays_inside_the_safe_zone_with_pillows_basic_layout(script, monkeypatch):
    # Lambda's image has no FriBiDi, so Pillow has no Raqm there: Arabic is reshaped and
    # reordered before the basic layout draws it.
    monkeypatch.setattr(tx, "default_engine", lambda: tx.BASIC)
    tx.load_face.cache_clear()
    try:
        for ratio in ("9:16", "16:9"):
            _assert_every_scene_text_inside_the_safe_zone(script, ratio)
    finally:
        tx.load_face.cache_clear()


def test_the_whole_title_is_drawn_when_it_fits_never_clipped_mid_glyph():
    board = sb.build(sb.StoryInput(title=LONG_NAMES["cyrillic"]), 5)
    composer = _Composer(board, {}, (540, 960), 30, pick_palette("midnight"))
    composer.scene(0, board.scenes[0], 10)

    # Every word of the title is on some line (nothing ellipsised at the sizes we allow).
    layer = composer.scene(0, board.scenes[0], 10).text
    assert layer is not None and len(layer.boxes) >= 2


def test_safe_zones_keep_clear_of_the_vertical_players_ui():
    left, top, right, bottom = safe_zone(1080, 1920)
    assert left >= 1080 * 0.05

    assert bottom <= 1920 * 0.8 and right <= 1080 * 0.86 and top >= 1920 * 0.1
    assert safe_zone(1080, 1080)[3] < 1080 and safe_zone(1920, 1080)[2] < 1920


def test_text_on_photos_gets_a_scrim_dark_enough_for_aa_contrast():
    bright = Image.new("RGB", (200, 200), (250, 250, 250))
    dark = Image.new("RGB", (200, 200), (10, 10, 10))

    alpha = _scrim_for(bright, (0, 0, 200, 200))
    k = 1 - alpha / 255
    assert contrast_ratio(WHITE, (250 * k, 250 * k, 250 * k)) >= MIN_CONTRAST
    assert _scrim_for(dark, (0, 0, 200, 200)) == 0


def test_text_colour_is_the_one_that_contrasts_with_its_background():
    assert readable_on((250, 240, 200)) != WHITE
    assert readable_on((20, 20, 60)) == WHITE
    for bg in [(250, 204, 21), (34, 211, 238), (190, 24, 93), (20, 83, 45)]:
        assert contrast_ratio(readable_on(bg), bg) >= MIN_CONTRAST


def test_the_palette_comes_from_the_product_photo():
    photo = Image.new("RGB", (200, 200), (240, 240, 240))
    ImageDraw.Draw(photo).rectangle((50, 50, 150, 150), fill=(220, 30, 30))

    palette = palette_from_image(photo)

    r, g, b = palette.accent
    assert r > 150 and g < 80 and b < 80
    assert contrast_ratio(palette.text, palette.top) >= MIN_CONTRAST


def test_the_crop_follows_the_subject_of_the_photo():
    photo = Image.new("RGB", (400, 200), (245, 245, 245))
    ImageDraw.Draw(photo).ellipse((300, 60, 380, 140), fill=(20, 20, 200))

    cx, cy = subject_center(photo)

    assert 0.8 < cx < 0.92 and 0.4 < cy < 0.6
    assert subject_center(Image.new("RGB", (50, 50), (9, 9, 9))) == (0.5, 0.5)


def test_an_uploaded_photo_renders_in_square_and_landscape_from_the_same_storyboard():
    board = sb.build(sb.StoryInput(title="Red bag", images=("upload",)), 4)
    pictures = {0: load_image(photo_bytes((640, 480))).image}

    for ratio in ("1:1", "16:9"):
        width, height = frame_size(ratio, "180p")
        video = render_storyboard(board, pictures, RenderSpec(width, height, board.duration))
        out = decode(video.mp4)
        assert (out.width, out.height) == (width, height)
        assert out.frame_count == 120


def test_editing_one_scenes_text_changes_only_that_scene():
    board = sb.build(STORY, 6)
    edited_index = [s.kind for s in board.scenes].index("price")
    scenes = list(board.scenes)
    scenes[edited_index] = replace(scenes[edited_index], text="$39.99")
    edited = replace(board, scenes=tuple(scenes), edited=True)
    spec = RenderSpec(180, 320, board.duration)

    before = render_storyboard(board, _pictures(), spec)
    after = render_storyboard(edited, _pictures(), spec)

    assert before.scenes == after.scenes
    # Pixels that changed clearly (beyond encoder noise), per scene.
    changes = [
        sum(ImageChops.difference(a, b).convert("L").histogram()[49:])
        for a, b in zip(
            _mid_frames(before.mp4, before.scenes),
            _mid_frames(after.mp4, after.scenes),
            strict=True,
        )
    ]
    assert changes[edited_index] > 40, changes
    assert all(c == 0 for i, c in enumerate(changes) if i != edited_index), changes


class _CountingStore(MemorySegments):
    """A segment store that records which keys were written."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    def put(self, key: str, data: bytes) -> None:
        self.written.append(key)
        super().put(key, data)


def test_scenes_encoded_as_segments_join_into_the_same_video():
    board = sb.build(STORY, 8)
    spec = RenderSpec(180, 320, board.duration)
    store = _CountingStore()

    whole = render_storyboard(board, _pictures(), spec)
    joined = render_storyboard(board, _pictures(), spec, segments=store)

    assert len(store.written) == len(set(store.written)) == len(board.scenes)
    out = decode(joined.mp4)
    assert out.frame_count == whole.frame_count == 240 and out.duration == pytest.approx(8)
    with av.open(io.BytesIO(joined.mp4)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        audio = container.streams.audio[0]
        assert float(audio.duration * audio.time_base) == pytest.approx(8, abs=0.1)
    for a, b in zip(
        _mid_frames(whole.mp4, whole.scenes), _mid_frames(joined.mp4, joined.scenes), strict=True
    ):
        assert ImageStat.Stat(ImageChops.difference(a, b).convert("L")).mean[0] < 2
    assert joined.scenes == whole.scenes and joined.thumbnail[:3] == b"\xff\xd8\xff"


def test_a_failed_scene_is_retried_alone(monkeypatch):
    board = sb.build(STORY, 8)
    spec = RenderSpec(180, 320, board.duration)
    store = _CountingStore()
    real_scene = _Composer.scene

    def failing_scene(self, index, scene, n):
        if index == 3:
            raise RuntimeError("scene 3 failed")
        return real_scene(self, index, scene, n)

    monkeypatch.setattr(_Composer, "scene", failing_scene)
    with pytest.raises(RuntimeError, match="scene 3"):
        render_storyboard(board, _pictures(), spec, segments=store)
    first_try = list(store.written)
    assert len(first_try) >= 3  # scenes 0-2 (and any encoded beside scene 3) are kept

    monkeypatch.setattr(_Composer, "scene", real_scene)
    video = render_storyboard(board, _pictures(), spec, segments=store)

    # The retry encoded only what the first try had not: every scene once in all.
    assert store.written[: len(first_try)] == first_try
    assert len(store.written) == len(set(store.written)) == len(board.scenes)
    assert decode(video.mp4).frame_count == 240


def test_editing_one_scene_re_encodes_it_and_the_scene_that_blends_from_it_only():
    board = sb.build(STORY, 8)
    spec = RenderSpec(180, 320, board.duration)
    store = _CountingStore()
    render_storyboard(board, _pictures(), spec, segments=store)
    k = [s.kind for s in board.scenes].index("price")
    scenes = list(board.scenes)
    scenes[k] = replace(scenes[k], text="$39.99")
    store.written.clear()

    render_storyboard(replace(board, scenes=tuple(scenes)), _pictures(), spec, segments=store)

    assert len(store.written) == (2 if k + 1 < len(scenes) else 1)
