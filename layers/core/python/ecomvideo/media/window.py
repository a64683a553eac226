"""Sub-pixel windows of a picture scaled by swscale: the Ken Burns resize, ~7x cheaper than Pillow.

A slow pan or zoom shows a window of its photo whose position and size are fractions of a
pixel; rounding them to whole pixels makes the motion step and jitter. Pillow's ``resize(box=)``
takes a fractional box but is scalar C (~12 ms for a 1080x1920 yuv420p frame); swscale is SIMD
(~1.5 ms) but scales whole frames: a window is a crop (whole pixels, zero-copy in a filter
graph). So the sub-pixel part goes into the scale itself: the crop (``Li``, ``Wi`` source
pixels) is scaled to slightly *more* than the output (``Wo`` >= ``N`` pixels) and the output is
cropped again at ``c``. Output pixel ``j`` then samples the source at ``Li + (j + c + 0.5) * Wi
/ Wo`` instead of the window's ``L + (j + 0.5) * S / N``; among the whole-pixel choices
(``Wo`` up to ``N + OVERSCAN``, every ``c``) the closest one over the whole row is taken, per
axis (``fit_axis``): typically ~0.04 source pixels off, at most ~0.2 when every window is a
downscale by >= ~1.05 (an exact 1:1 window cannot be moved by a fraction: keep the source a
little larger than the largest window). Filter: area averaging (``SWS_AREA``), what Pillow's
BOX does. The source is padded by repeating its edges, so windows at the border are placed as
precisely as in the middle.
"""

from __future__ import annotations

import threading
from fractions import Fraction
from typing import Any, Literal, NamedTuple

from PIL import Image

from ecomvideo.media.planes import Planes

# How much larger than its largest window a moving picture's source is prepared: every window
# is then a downscale by >= this, which the whole-pixel crops can place to ~0.1 px.
SOURCE_MARGIN = 1.06
# Extra output pixels the crop may be scaled to (even: yuv420p crops at even offsets).
OVERSCAN = 32
# Pixels of repeated edge around the source: room for the overscan at the largest window scale.
PAD = 48
# swscale's area averaging (Pillow's BOX does the same); bicubic or lanczos keep a little more
# detail for 2-3x the CPU (docs/benchmarks.md, ``bench/window_bench.py``).
SCALE_FLAGS = "area"
# A fit this close (source pixels) ends the search: far below what the eye or the encoder sees.
GOOD_ENOUGH = 0.05
PixelFormat = Literal["yuv420p", "rgb24"]
Box = tuple[int, int, int, int]


class AxisFit(NamedTuple):
    """Along one axis: crop ``start``/``length`` source pixels, scale to ``scaled``, keep from
    ``offset``; ``error`` is the largest distance (source pixels) from the ideal sampling."""

    start: int
    length: int
    scaled: int
    offset: int
    error: float


def fit_axis(left: float, span: float, n: int, limit: int, step: int = 2) -> AxisFit:
    """The whole-pixel crop/scale/crop closest to showing source ``[left, left + span)`` on
    ``n`` output pixels, within source pixels ``[0, limit)``. ``step`` (2 for yuv420p) keeps the
    output size and offset even."""
    s = span / n
    best: AxisFit | None = None
    for scaled in range(n, n + OVERSCAN + 1, step):
        ideal = scaled * s
        for length in {int(ideal), int(ideal) + 1}:
            r = length / scaled
            slope = (n - 1) * (r - s)
            if best is not None and abs(slope) / 2 >= best.error:
                continue  # the scale alone is further off than the best fit
            for offset in range(0, scaled - n + 1, step):
                start = round(left - offset * r)
                if start < 0 or start + length > limit:
                    continue
                e0 = start + (offset + 0.5) * r - left - 0.5 * s
                error = max(abs(e0), abs(e0 + slope))
                if best is None or error < best.error:
                    best = AxisFit(start, length, scaled, offset, error)
                    if error <= GOOD_ENOUGH:
                        return best
    if best is None:
        raise ValueError(f"window {left}+{span} does not fit {limit} source pixels")
    return best


def _padded(img: Image.Image, pad: int) -> Image.Image:
    """``img`` with ``pad`` pixels of its edges repeated around it (one more on the right and
    at the bottom when its size is odd: even sizes for yuv420p)."""
    w, h = img.size
    right, bottom = pad + (w & 1), pad + (h & 1)
    out = Image.new(img.mode, (w + pad + right, h + pad + bottom))
    out.paste(img, (pad, pad))
    nearest = Image.Resampling.NEAREST
    out.paste(img.crop((0, 0, 1, h)).resize((pad, h), nearest), (0, pad))
    out.paste(img.crop((w - 1, 0, w, h)).resize((right, h), nearest), (pad + w, pad))
    full = out.width
    out.paste(out.crop((0, pad, full, pad + 1)).resize((full, pad), nearest), (0, 0))
    last = out.crop((0, pad + h - 1, full, pad + h))
    out.paste(last.resize((full, bottom), nearest), (0, pad + h))
    return out


class WindowScaler:
    """Fractional windows of ``picture`` (RGB) scaled to ``size``: ``planes`` (yuv420p, for the
    encoder: scaled from a full-resolution YUV 4:4:4 source, so chroma is filtered from all its
    samples) when ``pix_fmt`` is yuv420p, ``image`` (RGB: thumbnails, checks) when rgb24.
    Thread-safe (scenes encoded side by side share a scene)."""

    def __init__(self, picture: Image.Image, size: tuple[int, int], pix_fmt: PixelFormat) -> None:
        import av  # heavy: only when a video is actually rendered
        import av.filter

        self.size = size
        self.step = 2 if pix_fmt == "yuv420p" else 1
        padded = _padded(picture.convert("RGB"), PAD)
        self.limit = padded.size
        source = av.VideoFrame.from_image(padded)
        if pix_fmt == "yuv420p":
            # Full-resolution chroma: scaled from a 4:2:0 source, chroma is resampled twice
            # (~36 dB against the RGB drawing on busy photos, ~47 dB this way; +1.4 ms a frame).
            source = source.reformat(format="yuv444p")  # swscale: BT.601, limited range
        source.time_base = Fraction(1, 30)
        self._source = source
        graph = av.filter.Graph()
        graph.threads = 1  # the encoder has the other vCPU; slice threads only add wake-ups
        w, h = size
        buffer = graph.add_buffer(template=source, time_base=Fraction(1, 30))
        self._crop = graph.add("crop", f"w={w}:h={h}:x=0:y=0:exact=1")
        self._scale = graph.add("scale", f"w={w}:h={h}:flags={SCALE_FLAGS}")
        convert = graph.add("format", f"pix_fmts={pix_fmt}")
        sink = graph.add("buffersink")
        buffer.link_to(self._crop)
        self._crop.link_to(self._scale)
        self._scale.link_to(convert)
        convert.link_to(sink)
        graph.configure()
        self._buffer, self._sink = buffer, sink
        self._count = 0
        self._lock = threading.Lock()

    def fit(self, box: tuple[float, float, float, float]) -> tuple[AxisFit, AxisFit]:
        """How ``box`` (source coordinates) is cropped and scaled, per axis."""
        left, top, right, bottom = box
        w, h = self.size
        x = fit_axis(left + PAD, right - left, w, self.limit[0], self.step)
        y = fit_axis(top + PAD, bottom - top, h, self.limit[1], self.step)
        return x, y

    def _scaled(self, box: tuple[float, float, float, float]) -> tuple[Any, Box]:
        """The scaled crop of ``box`` and the part of it to keep (the last crop is done when
        the frame is copied out: a crop filter after a size change clamps to the old size)."""
        x, y = self.fit(box)
        with self._lock:
            for node, values in (
                (self._crop, {"w": x.length, "h": y.length, "x": x.start, "y": y.start}),
                (self._scale, {"w": x.scaled, "h": y.scaled}),
            ):
                for name, value in values.items():
                    node.process_command(name, str(value))
            self._source.pts = self._count
            self._count += 1
            self._buffer.push(self._source)
            frame = self._sink.pull()
        w, h = self.size
        return frame, (x.offset, y.offset, x.offset + w, y.offset + h)

    def planes(self, box: tuple[float, float, float, float]) -> Planes:
        """``box`` of the picture (fractional source coordinates) scaled to ``size`` (yuv420p)."""
        frame, keep = self._scaled(box)
        return Planes.from_frame(frame, keep)

    def image(self, box: tuple[float, float, float, float]) -> Image.Image:
        """``box`` of the picture scaled to ``size``, as a Pillow image (RGB)."""
        frame, keep = self._scaled(box)
        picture: Image.Image = frame.to_image()
        return picture.crop(keep)
