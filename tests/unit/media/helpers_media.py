"""Shared helpers for the media/provider tests: decode MP4s with PyAV, make test pictures."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
from PIL import Image, ImageDraw, ImageStat


@dataclass
class Decoded:
    width: int
    height: int
    codec: str
    pix_fmt: str
    frame_count: int
    duration: float
    frames: list[Image.Image]


def decode(mp4: bytes, keep: tuple[int, ...] = ()) -> Decoded:
    """Decode every frame; keep the images at the indexes in ``keep`` (negative = from end)."""
    images: list[Image.Image] = []
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        duration = float(stream.duration * stream.time_base)
        all_frames = [f.to_image() for f in container.decode(stream)]
        for k in keep:
            images.append(all_frames[k])
        return Decoded(
            ctx.width, ctx.height, ctx.name, ctx.pix_fmt, len(all_frames), duration, images
        )


def mean_luma(img: Image.Image) -> float:
    return ImageStat.Stat(img.convert("L")).mean[0]


def luma_stddev(img: Image.Image) -> float:
    return ImageStat.Stat(img.convert("L")).stddev[0]


def photo_bytes(size: tuple[int, int] = (800, 800), fmt: str = "JPEG") -> bytes:
    """A product-photo-like picture: gradient, a red disc and a blue bar."""
    w, h = size
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((w * 0.25, h * 0.25, w * 0.75, h * 0.75), fill=(200, 40, 40))
    draw.rectangle((w * 0.05, h * 0.1, w * 0.15, h * 0.9), fill=(30, 90, 200))
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()
