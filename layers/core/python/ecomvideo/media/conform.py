"""Make a finished video fit the plan: at most the plan's resolution, watermarked if it says so.

Providers render what their model renders (Freepik's Kling answers 1080p whatever was asked),
so the pipeline's Finalize step conforms the file before it is stored: frames larger than the
cap are scaled down (aspect ratio kept, even sides for yuv420p), the watermark is drawn on
every frame, and the audio is copied as it is. A file that already fits is left untouched
(no re-encode, no quality loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

WATERMARK_TEXT = "EcomVideo"


@dataclass(frozen=True)
class OutputLimits:
    """``max_long_side``: the longest side allowed in pixels (None: any); ``watermark``: the
    text to draw (None: none)."""

    max_long_side: int | None = None
    watermark: str | None = None


def target_size(width: int, height: int, max_long_side: int | None) -> tuple[int, int]:
    """The frame size under the cap: unchanged when it fits, else scaled down to it."""
    longest = max(width, height)
    if not max_long_side or longest <= max_long_side:
        return width, height
    scale = max_long_side / longest
    return _even(width * scale), _even(height * scale)


def needs_conforming(width: int, height: int, limits: OutputLimits) -> bool:
    return bool(limits.watermark) or target_size(width, height, limits.max_long_side) != (
        width,
        height,
    )


def conform(
    source: Path, target: Path, limits: OutputLimits, *, crf: int = 21, preset: str = "veryfast"
) -> bool:
    """Write ``source`` conformed to ``limits`` as ``target`` (H.264, yuv420p, the source's
    frame timing and audio); returns False, writing nothing, when it already fits."""
    import av  # heavy: imported only when a video is actually conformed

    with av.open(str(source), "r") as src:
        video_in = src.streams.video[0]
        ctx = video_in.codec_context
        width, height = target_size(ctx.width, ctx.height, limits.max_long_side)
        if not needs_conforming(ctx.width, ctx.height, limits):
            return False
        mark = watermark(width, height, limits.watermark) if limits.watermark else None
        audio_in = src.streams.audio[0] if src.streams.audio else None
        rate = video_in.average_rate or video_in.guessed_rate or Fraction(30)
        with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            video_out = out.add_stream(
                "libx264", rate=rate, options={"preset": preset, "crf": str(crf)}
            )
            video_out.width, video_out.height, video_out.pix_fmt = width, height, "yuv420p"
            video_out.codec_context.time_base = video_in.time_base
            audio_out = out.add_stream_from_template(audio_in) if audio_in is not None else None
            streams = [video_in] + ([audio_in] if audio_in is not None else [])
            for packet in src.demux(streams):
                if audio_out is not None and packet.stream is audio_in:
                    if packet.dts is not None:
                        packet.stream = audio_out
                        out.mux(packet)
                    continue
                for frame in packet.decode():
                    out.mux(video_out.encode(_conformed(frame, width, height, mark)))
            out.mux(video_out.encode(None))
    return True


def _conformed(
    frame: Any, width: int, height: int, mark: tuple[Image.Image, tuple[int, int]] | None
) -> Any:
    import av

    if mark is None:
        scaled = frame.reformat(width=width, height=height, format="yuv420p")
    else:
        image = frame.reformat(width=width, height=height, format="rgb24").to_image()
        image.paste(mark[0], mark[1], mark[0])
        scaled = av.VideoFrame.from_image(image).reformat(format="yuv420p")
    scaled.pts, scaled.time_base = frame.pts, frame.time_base
    return scaled


@lru_cache(maxsize=8)
def watermark(width: int, height: int, text: str) -> tuple[Image.Image, tuple[int, int]]:
    """The RGBA watermark for a frame size and where to paste it: the text about 4.5% of the
    short side high, semi-opaque white on a soft shadow, in the top-right corner of the area
    the networks' own UI leaves free (``formats.safe_zone``)."""
    from ecomvideo.media.formats import safe_zone
    from ecomvideo.media.text import load_face

    face = load_face(max(12, round(min(width, height) * 0.045)))
    ink_top, ink_bottom = face.ink(text)
    pad = max(2, (ink_bottom - ink_top) // 6)
    width_px = int(face.length(text)) + 1
    image = Image.new("RGBA", (width_px + 2 * pad, ink_bottom - ink_top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    origin = (pad, pad - ink_top)
    shadow = (origin[0] + max(1, pad // 2), origin[1] + max(1, pad // 2))
    face.draw(draw, shadow, text, fill=(0, 0, 0, 110))
    face.draw(draw, origin, text, fill=(255, 255, 255, 190))
    _zone_left, zone_top, zone_right, _zone_bottom = safe_zone(width, height)
    x = max(0, min(zone_right, width) - image.width)
    return image, (x, min(zone_top, max(0, height - image.height)))


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
