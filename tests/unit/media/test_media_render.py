"""Rendering: real H.264 MP4s of the right size, length and look."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageStat

from ecomvideo.media.design import pick_palette
from ecomvideo.media.images import load_image
from ecomvideo.media.overlay import render_overlay
from ecomvideo.media.render import RenderSpec, choose_fit, render_video
from tests.unit.media.helpers_media import decode, luma_stddev, mean_luma, photo_bytes


def _picture(size: tuple[int, int] = (640, 640)) -> Image.Image:
    return load_image(photo_bytes(size)).image


def _overlay(size: tuple[int, int]):
    return render_overlay(
        size,
        title="Red Ball Deluxe",
        price="$19.99",
        call_to_action="Shop now",
        palette=pick_palette("ocean"),
    )


@pytest.mark.parametrize(
    ("width", "height", "duration", "fps"),
    [(180, 320, 1.0, 30), (160, 160, 1.5, 30), (320, 180, 2.0, 24), (216, 270, 1.0, 30)],
)
def test_render_gives_h264_of_requested_size_and_exact_length(width, height, duration, fps):
    spec = RenderSpec(width, height, duration, fps=fps)
    video = render_video(_picture(), spec, _overlay((width, height)))

    out = decode(video.mp4)
    assert (out.width, out.height) == (width, height)
    assert out.codec == "h264"
    assert out.pix_fmt == "yuv420p"
    assert out.frame_count == round(duration * fps) == video.frame_count
    assert abs(out.duration - duration) < 0.1


def test_frames_are_not_blank_and_fade_in_and_out():
    spec = RenderSpec(180, 320, 2.0, fade_seconds=0.5)
    video = render_video(_picture(), spec, _overlay((180, 320)))

    first, middle, last = decode(video.mp4, keep=(0, 30, -1)).frames
    assert luma_stddev(middle) > 20  # a picture, not a flat colour
    assert mean_luma(first) < mean_luma(middle) * 0.3
    assert mean_luma(last) < mean_luma(middle) * 0.3


def _mean_diff(a: Image.Image, b: Image.Image) -> float:
    return ImageStat.Stat(ImageChops.difference(a.convert("L"), b.convert("L"))).mean[0]


def test_motion_changes_the_picture_between_frames():
    spec = RenderSpec(180, 320, 2.0, motion="zoom_in", fade_seconds=0.1)
    video = render_video(_picture(), spec)

    early, late = decode(video.mp4, keep=(10, 50)).frames
    assert _mean_diff(early, late) > 2


def test_overlay_draws_text_band_at_the_bottom_only():
    size = (180, 320)
    spec = RenderSpec(*size, 1.0, motion="zoom_in", fit="cover", seed=1)
    plain = render_video(_picture(), spec)
    texted = render_video(_picture(), spec, _overlay(size))

    a = decode(plain.mp4, keep=(20,)).frames[0]
    b = decode(texted.mp4, keep=(20,)).frames[0]
    top, bottom = (0, 0, 180, 80), (0, 240, 180, 320)
    assert _mean_diff(a.crop(top), b.crop(top)) < 2
    assert _mean_diff(a.crop(bottom), b.crop(bottom)) > 15


def test_thumbnail_is_a_jpeg_with_the_video_aspect():
    video = render_video(_picture(), RenderSpec(1080, 1920, 0.5, fps=10))

    thumb = Image.open(io.BytesIO(video.thumbnail))
    assert thumb.format == "JPEG"
    assert thumb.size == (540, 960)
    assert luma_stddev(thumb) > 10


def test_square_photo_in_vertical_frame_is_contained_not_cropped():
    picture = _picture((640, 640))
    assert choose_fit(picture, (1080, 1920)) == "contain"
    assert choose_fit(picture, (1080, 1080)) == "cover"
    assert choose_fit(_picture((1000, 1700)), (1080, 1920)) == "cover"


def test_transparent_cutout_renders_over_a_background():
    cutout = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    cutout.paste((220, 30, 30, 255), (75, 75, 225, 225))
    video = render_video(cutout, RenderSpec(160, 160, 1.0, fade_seconds=0.1))

    frame = decode(video.mp4, keep=(15,)).frames[0]
    r, g, b = frame.getpixel((80, 80))
    assert r > 150 and g < 100 and b < 100  # the red square is in the middle


@pytest.mark.slow
def test_full_hd_vertical_five_seconds():
    video = render_video(
        _picture((1200, 1200)), RenderSpec(1080, 1920, 5.0), _overlay((1080, 1920))
    )

    out = decode(video.mp4, keep=(75,))
    assert (out.width, out.height, out.codec) == (1080, 1920, "h264")
    assert out.frame_count == 150
    assert abs(out.duration - 5.0) < 0.1
    assert luma_stddev(out.frames[0]) > 20
    # faststart: the moov atom precedes the media data.
    assert video.mp4.find(b"moov") < video.mp4.find(b"mdat")
