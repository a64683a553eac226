"""media.conform: a provider's video is scaled down to the plan's cap and watermarked, with its
timing and audio kept; a file that already fits is left alone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from ecomvideo.media.conform import OutputLimits, conform, target_size, watermark
from ecomvideo.media.probe import probe
from tests.unit.media.helpers_media import decode, mean_luma

FPS = 12


def _mp4(path: Path, width: int, height: int, *, seconds: float = 1.0, audio: bool = True) -> Path:
    """A small H.264 MP4 of a flat dark colour, with a silent AAC track when ``audio``."""
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=44100) if audio else None
        for i in range(int(seconds * FPS)):
            frame = av.VideoFrame.from_image(Image.new("RGB", (width, height), (20, 30, 40)))
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            silence = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
            for plane in silence.planes:
                plane.update(bytes(plane.buffer_size))
            silence.sample_rate = 44100
            for i in range(int(seconds * 44100 / 1024)):
                silence.pts = i * 1024
                container.mux(sound.encode(silence))
            container.mux(sound.encode(None))
    return path


@pytest.mark.parametrize(
    ("size", "cap", "expected"),
    [
        ((1080, 1920), 1280, (720, 1280)),  # 9:16 1080p -> 720p
        ((1920, 1080), 1280, (1280, 720)),  # landscape: the long side is the width
        ((1080, 1080), 1280, (1080, 1080)),  # fits
        ((1000, 1776), 1280, (720, 1280)),  # odd results are made even for yuv420p
        ((720, 1280), None, (720, 1280)),  # no cap
    ],
)
def test_the_frame_is_scaled_down_to_the_cap_keeping_its_shape(size, cap, expected):
    assert target_size(*size, cap) == expected


def test_a_larger_video_is_scaled_down_with_its_duration_and_audio(tmp_path):
    source = _mp4(tmp_path / "in.mp4", 1080, 1920)

    assert conform(source, tmp_path / "out.mp4", OutputLimits(max_long_side=1280))

    out = probe(tmp_path / "out.mp4")
    assert (out["width"], out["height"], out["codec"]) == (720, 1280, "h264")
    assert out["duration"] == pytest.approx(probe(source)["duration"], abs=0.1)
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.video[0].frames == FPS


def test_the_watermark_is_drawn_where_the_networks_ui_leaves_room(tmp_path):
    source = _mp4(tmp_path / "in.mp4", 360, 640, audio=False)

    assert conform(source, tmp_path / "out.mp4", OutputLimits(watermark="EcomVideo"))

    mark, (x, y) = watermark(360, 640, "EcomVideo")
    box = (x, y, x + mark.width, y + mark.height)
    before = decode(source.read_bytes(), keep=(0,)).frames[0]
    after = decode((tmp_path / "out.mp4").read_bytes(), keep=(0, -1))
    assert (after.width, after.height) == (360, 640)
    for frame in after.frames:  # every frame, not just the first
        assert mean_luma(frame.crop(box)) > mean_luma(before.crop(box)) + 10
        # the rest of the frame is the video as it was
        rest = (0, 400, 360, 640)
        assert abs(mean_luma(frame.crop(rest)) - mean_luma(before.crop(rest))) < 3
    assert x + mark.width <= 360 and y >= 0


def test_a_video_that_already_fits_is_not_re_encoded(tmp_path):
    source = _mp4(tmp_path / "in.mp4", 720, 1280, audio=False)

    assert not conform(source, tmp_path / "out.mp4", OutputLimits(max_long_side=1280))
    assert not (tmp_path / "out.mp4").exists()
