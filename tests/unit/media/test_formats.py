"""Aspect ratio + resolution -> frame size."""

from __future__ import annotations

import pytest

from ecomvideo.media.formats import frame_size, resolution_tier


@pytest.mark.parametrize(
    ("ratio", "resolution", "size"),
    [
        ("9:16", "1080p", (1080, 1920)),
        ("9:16", "1080x1920", (1080, 1920)),
        ("1:1", "1080x1920", (1080, 1080)),
        ("16:9", "1080p", (1920, 1080)),
        ("4:5", "1080p", (1080, 1350)),
        ("9:16", "720p", (720, 1280)),
        ("1:1", "720p", (720, 720)),
        ("16:9", "720p", (1280, 720)),
        ("4:5", "720p", (720, 900)),
    ],
)
def test_frame_sizes(ratio, resolution, size):
    assert frame_size(ratio, resolution) == size
    assert resolution_tier(*size) == resolution_tier(*frame_size(ratio, resolution))


@pytest.mark.parametrize(
    ("ratio", "resolution"), [("3:2", "1080p"), ("9:16", "big"), ("9:16", "99999p")]
)
def test_bad_inputs_are_refused(ratio, resolution):
    with pytest.raises(ValueError):
        frame_size(ratio, resolution)
