"""Image dimensions from the header alone (uploads are checked before credits are held)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ecomvideo.image_size import image_size


def _encode(fmt: str, size: tuple[int, int], **kw) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 90, 30)).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "kw"),
    [("PNG", {}), ("JPEG", {}), ("JPEG", {"progressive": True}), ("WEBP", {}),
     ("WEBP", {"lossless": True})],
)  # fmt: skip
@pytest.mark.parametrize("size", [(1, 1), (301, 777), (1080, 1920), (4000, 300)])
def test_width_and_height_come_from_the_header(fmt, kw, size):
    assert image_size(_encode(fmt, size, **kw)) == size


def test_a_jpeg_with_a_large_exif_block_is_still_read():
    exif = Image.Exif()
    exif[0x010E] = "x" * 30000  # ImageDescription
    buf = io.BytesIO()
    Image.new("RGB", (640, 480)).save(buf, format="JPEG", exif=exif.tobytes())
    assert image_size(buf.getvalue()[:65536]) == (640, 480)


@pytest.mark.parametrize("data", [b"", b"GIF89a....", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"])
def test_unknown_or_cut_headers_give_none(data):
    assert image_size(data) is None
