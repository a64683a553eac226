"""YUV planes: moving scenes composed in the encoder's format look as they do drawn in RGB."""

from __future__ import annotations

from dataclasses import replace

from PIL import Image, ImageChops, ImageDraw, ImageStat

from ecomvideo.media import storyboard as sb
from ecomvideo.media.design import pick_palette
from ecomvideo.media.planes import Layer, Planes
from ecomvideo.media.render import X264_PARAMS, RenderSpec, encode_mp4
from ecomvideo.media.storyboard_render import _Composer, _KenBurns
from tests.unit.media.fixtures_storyboard import STORY, busy_photo
from tests.unit.media.helpers_media import decode


def _worst_plane_difference(a: Planes, b: Planes) -> float:
    """The largest mean absolute difference of the three planes."""
    return max(
        ImageStat.Stat(ImageChops.difference(x, y)).mean[0]
        for x, y in ((a.y, b.y), (a.u, b.u), (a.v, b.v))
    )


def _colour_chart(size: tuple[int, int]) -> Image.Image:
    img = Image.new("RGB", size, (240, 240, 240))
    draw = ImageDraw.Draw(img)
    w, h = size
    for i, colour in enumerate([(200, 30, 30), (30, 160, 60), (30, 80, 210), (250, 200, 20)]):
        draw.rectangle((i * w // 4, h // 3, (i + 1) * w // 4, 2 * h // 3), fill=colour)
    return img


def test_a_picture_converted_to_planes_and_back_keeps_its_colours():
    img = _colour_chart((64, 48))

    back = Planes.from_rgb(img).to_rgb()

    assert back.size == img.size
    assert ImageStat.Stat(ImageChops.difference(back, img)).mean[0] < 3


def test_moving_scenes_composed_in_yuv_match_the_frames_drawn_in_rgb():
    board = sb.build(STORY, 8)
    pictures = {i: busy_photo((400 + 40 * i, 400), i) for i in range(4)}
    composer = _Composer(board, pictures, (270, 480), 30, pick_palette("ocean"))
    moving = 0
    for k, scene in enumerate(board.scenes):
        frames = composer.scene(k, scene, 30)
        if not isinstance(frames, _KenBurns):
            continue
        moving += 1
        for i in (0, 5, 15, 29):  # text fading in, then drawn; the window moving
            drawn = Planes.from_rgb(frames.frame(i))
            assert _worst_plane_difference(frames.planes(i), drawn) < 1.5, (scene.kind, i)
    assert moving >= 3  # full-bleed and split layouts both covered


def test_a_layer_at_an_odd_position_is_drawn_where_it_is_in_rgb():
    background = _colour_chart((40, 30))
    text = Image.new("RGBA", (13, 7), (0, 0, 0, 0))
    ImageDraw.Draw(text).rectangle((2, 1, 10, 5), fill=(255, 255, 255, 200))
    expected = background.copy()
    expected.paste(text, (5, 9), text)

    layer, xy = Layer.from_rgba(text, (5, 9))
    planes = Planes.from_rgb(background)
    planes.draw(layer, xy)

    assert xy == (4, 8) and layer.alpha.size == (14, 8)
    assert _worst_plane_difference(planes, Planes.from_rgb(expected)) < 1.5


def test_a_fade_ends_in_black_and_a_blend_lies_between_its_pictures():
    white = Planes.from_rgb(Image.new("RGB", (8, 8), (255, 255, 255)))
    red = Planes.from_rgb(Image.new("RGB", (8, 8), (255, 0, 0)))

    black = white.faded(0).to_rgb()
    half = white.blend(red, 0.5).to_rgb()

    assert max(ImageStat.Stat(black).mean) < 2
    r, g, b = ImageStat.Stat(half).mean
    assert r > 245 and 115 < g < 140 and 115 < b < 140


def test_the_encoder_takes_planes_and_reuses_a_repeated_one():
    still = Planes.from_rgb(_colour_chart((64, 48)))
    spec = RenderSpec(64, 48, 0.5)

    mp4 = encode_mp4(iter([still] * spec.frame_count), spec)

    out = decode(mp4, keep=(-1,))
    assert out.frame_count == 15 and (out.width, out.height) == (64, 48)
    expected = _colour_chart((64, 48))
    assert ImageStat.Stat(ImageChops.difference(out.frames[0], expected)).mean[0] < 6


def test_the_encoder_applies_the_chosen_x264_options_on_top_of_the_preset():
    still = Planes.from_rgb(_colour_chart((64, 48)))
    spec = RenderSpec(64, 48, 0.2)

    default = encode_mp4(iter([still] * spec.frame_count), spec)
    plain = encode_mp4(iter([still] * spec.frame_count), replace(spec, x264_params=""))

    # libx264 writes its settings into the stream (an SEI message of the first frame).
    assert spec.x264_params == X264_PARAMS
    assert b"subme=1" in default and b"bframes=5" in default and b"ref=2" in default
    assert b"trellis=1" in default
    assert b"subme=2" in plain and b"bframes=3" in plain and b"ref=1" in plain
