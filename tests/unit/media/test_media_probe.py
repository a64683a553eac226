"""Probing reads the real file into exactly the spec's VideoMetadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ecomvideo.media.images import MediaError
from ecomvideo.media.probe import probe
from ecomvideo.media.render import RenderSpec, render_video
from ecomvideo.media.thumbnail import thumbnail_from_video

SPEC_KEYS = {"width", "height", "frameRate", "format", "codec", "bitrate", "duration", "fileSize"}


@pytest.fixture(scope="module")
def mp4() -> bytes:
    picture = Image.linear_gradient("L").resize((300, 400)).convert("RGB")
    return render_video(picture, RenderSpec(180, 320, 1.5, fps=24)).mp4


def test_probe_returns_exactly_the_spec_keys_with_json_types(mp4, tmp_path):
    meta = probe(mp4)

    assert set(meta) == SPEC_KEYS
    assert meta["width"] == 180 and meta["height"] == 320
    assert meta["frameRate"] == 24.0 and isinstance(meta["frameRate"], float)
    assert meta["format"] == "mp4"
    assert meta["codec"] == "h264"
    assert abs(meta["duration"] - 1.5) < 0.1 and isinstance(meta["duration"], float)
    assert meta["fileSize"] == len(mp4)
    assert isinstance(meta["bitrate"], int) and meta["bitrate"] > 0
    path = tmp_path / "v.mp4"
    path.write_bytes(mp4)
    assert probe(path) == meta


def test_probe_rejects_a_file_that_is_not_a_video():
    with pytest.raises(MediaError, match="not a readable video"):
        probe(b"definitely not an mp4" * 10)


def test_thumbnail_from_a_provider_video_keeps_its_aspect(mp4):
    thumb = Image.open(io.BytesIO(thumbnail_from_video(mp4)))
    assert thumb.format == "JPEG"
    assert thumb.size == (180, 320)  # never upscaled
