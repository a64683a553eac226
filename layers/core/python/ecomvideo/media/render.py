"""Render a still picture into an H.264 MP4: Ken Burns motion, text overlay, fades.

Per frame: one Pillow ``resize`` with a fractional ``box`` (sub-pixel smooth pan/zoom, no
jitter), one masked paste of the overlay band, a LUT for fade frames, then PyAV converts
RGB -> yuv420p (swscale) and libx264 encodes. No per-pixel Python and no numpy. Encoding runs
on the calling thread while a helper thread composes the next frames: Pillow and libx264 both
release the GIL, so a second vCPU (Lambda >= 1.8 GB) is used without extra processes.

``movflags=+faststart`` (moov atom first, so browsers start playing before the download ends)
needs a seekable real file, hence the temporary file under ``/tmp``.
"""

from __future__ import annotations

import math
import os
import queue
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from PIL import Image, ImageFilter

from ecomvideo.media.images import encode_jpeg
from ecomvideo.media.overlay import Overlay
from ecomvideo.media.planes import Planes

if TYPE_CHECKING:
    from ecomvideo.media.audio import MusicBed

Motion = Literal["auto", "zoom_in", "zoom_out", "pan"]
Fit = Literal["auto", "cover", "contain"]

MAX_ZOOM = 1.12
CONTAIN_ZOOM = 1.08
# Picture/frame aspect mismatch beyond which "auto" stops cropping and letterboxes the picture
# over a blurred copy of itself (a square product photo cropped to 9:16 loses 44 % of its
# width: usually the product).
MAX_COVER_MISMATCH = 1.3
THUMBNAIL_MAX = (540, 960)
# On top of the veryfast preset: the cheapest sub-pixel refinement (subme 1 instead of 2: most
# of the CPU saved), paid back in compression by 5 B-frames instead of 3 (slow camera moves and
# still cards predict well from both sides), 2 reference frames instead of 1 and trellis
# quantisation on the final encode. Measured on the 15 s storyboard (docs/benchmarks.md,
# `bench/storyboard_bench.py --sweep`): ~25 % less encoder CPU than plain veryfast, same size
# and SSIM, luma PSNR on or above plain veryfast's size/quality curve. Since the swscale Ken
# Burns windows (softer frames), the 8x8 transform no longer pays: without it ~9 % less
# encoder CPU, 0.5 % smaller, luma PSNR +0.02 dB, SSIM equal (2026-12-04 third session).
X264_PARAMS = "subme=1:bframes=5:ref=2:trellis=1:8x8dct=0"
# Frames composed ahead of the encoder: a storyboard's composer is ~3x faster than libx264 and
# pauses 30-150 ms to prepare each scene; 16 frames (~0.25 s of encoding at 1080x1920, ~50 MB)
# carry the encoder over those pauses. Repeated (static) frames are one object, no memory.
FRAME_QUEUE = 16
# Every per-frame resize is a slight downscale (sources are prepared at the largest zoom), where
# BOX (area averaging, fractional edges) looks like BILINEAR and costs ~30 % less in Pillow.
_MOTION_FILTER = Image.Resampling.BOX


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """What to render. ``duration_seconds * fps`` is rounded to whole frames."""

    width: int
    height: int
    duration_seconds: float
    fps: int = 30
    motion: Motion = "auto"
    fit: Fit = "auto"
    fade_seconds: float = 0.5
    overlay_delay_seconds: float = 0.4
    crf: int = 23
    preset: str = "veryfast"
    seed: int = 0
    threads: int = 0  # libx264 threads; 0 = libx264's default for the vCPUs
    # Extra libx264 options ("key=value:..."), on top of ``preset`` (docs/benchmarks.md).
    x264_params: str = X264_PARAMS

    @property
    def frame_count(self) -> int:
        return max(1, round(self.duration_seconds * self.fps))


@dataclass(frozen=True, slots=True)
class RenderedVideo:
    """The MP4 bytes, a JPEG thumbnail (a composed frame, text included) and timings."""

    mp4: bytes
    thumbnail: bytes
    width: int
    height: int
    fps: int
    frame_count: int
    render_seconds: float
    # Storyboard renders: the scenes as rendered (id, kind, start, duration, frames) and the
    # bounding box of every text line per scene id (frame coordinates).
    scenes: list[dict[str, Any]] = field(default_factory=list)
    text_boxes: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    # ``metadata.music`` of a video with a music bed (``media.audio.MusicBed.describe``).
    music: dict[str, Any] | None = None


def _ease(t: float) -> float:
    # Sine ease-in-out: starts and stops gently, like a camera move.
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, t)))


def _cover(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``img`` scaled to cover ``size`` and centre-cropped to it."""
    w, h = size
    scale = max(w / img.width, h / img.height)
    cw, ch = w / scale, h / scale
    left, top = (img.width - cw) / 2, (img.height - ch) / 2
    return img.resize(size, Image.Resampling.LANCZOS, box=(left, top, left + cw, top + ch))


class _FrameSource:
    """Makes frame ``i`` as an RGB image of the output size."""

    def __init__(
        self,
        picture: Image.Image,
        spec: RenderSpec,
        overlay: Overlay | None,
        fit: Fit,
        motion: Motion,
    ) -> None:
        self.spec = spec
        self.size = (spec.width, spec.height)
        self.overlay = overlay
        self.fit = fit
        self.motion = motion
        self._overlay_cache: dict[int, Image.Image] = {}
        n = spec.frame_count
        fade_frames = round(min(spec.fade_seconds, spec.duration_seconds / 4) * spec.fps)
        self.fade_frames = max(0, fade_frames)
        self.overlay_start = round(spec.overlay_delay_seconds * spec.fps)
        self.overlay_ramp = max(1, round(0.5 * spec.fps))
        self.n = n
        if fit == "cover":
            self._prepare_cover(picture)
        else:
            self._prepare_contain(picture)

    # -- layouts ----------------------------------------------------------------------------

    def _prepare_cover(self, picture: Image.Image) -> None:
        w, h = self.size
        src_size = (round(w * MAX_ZOOM), round(h * MAX_ZOOM))
        flat = picture
        if picture.mode == "RGBA":
            flat = Image.new("RGB", picture.size, (255, 255, 255))
            flat.paste(picture, mask=picture.getchannel("A"))
        self.source = _cover(flat, src_size)

    def _prepare_contain(self, picture: Image.Image) -> None:
        w, h = self.size
        # Background: the picture blurred and darkened, computed small then upscaled (cheap).
        small = _cover(picture.convert("RGB"), (max(8, w // 8), max(8, h // 8)))
        small = small.filter(ImageFilter.GaussianBlur(max(2, min(w, h) // 80)))
        small = small.point(lambda v: int(v * 0.55))
        self.background = small.resize(self.size, Image.Resampling.BILINEAR)
        # Foreground: the whole picture inside 88 % x 70 % of the frame, pre-scaled for the
        # largest zoom so every frame is a downscale (sharp).
        box_w, box_h = w * 0.88, h * (0.70 if h >= w else 0.80)
        scale = min(box_w / picture.width, box_h / picture.height) * CONTAIN_ZOOM
        fg_size = (max(2, round(picture.width * scale)), max(2, round(picture.height * scale)))
        self.foreground = picture.resize(fg_size, Image.Resampling.LANCZOS)
        # Centre it slightly above the middle: the overlay takes the bottom.
        self.fg_center = (w / 2, h * (0.42 if self.overlay is not None else 0.5))
        if self.foreground.mode != "RGBA":
            # A soft shadow under the photo lifts it off the background.
            sw, sh = self.foreground.size
            pad = max(4, min(w, h) // 40)
            shadow = Image.new("L", (sw // 4 + pad, sh // 4 + pad), 0)
            shadow.paste(170, (pad // 2, pad // 2, pad // 2 + sw // 4, pad // 2 + sh // 4))
            shadow = shadow.filter(ImageFilter.GaussianBlur(pad / 4))
            shadow = shadow.resize(
                (round(sw / CONTAIN_ZOOM) + 4 * pad, round(sh / CONTAIN_ZOOM) + 4 * pad)
            )
            cx, cy = self.fg_center
            self.background.paste(
                (0, 0, 0),
                (round(cx - shadow.width / 2), round(cy - shadow.height / 2 + pad)),
                shadow,
            )

    # -- motion -----------------------------------------------------------------------------

    def _zoom_and_drift(self, i: int) -> tuple[float, float, float]:
        """Zoom factor in [1, max] and a drift in [-1, 1] x [-1, 1] for frame ``i``."""
        t = _ease(i / max(1, self.n - 1))
        motion = self.motion
        if motion == "zoom_in":
            return 1 + (MAX_ZOOM - 1) * t, 0.0, 0.0
        if motion == "zoom_out":
            return MAX_ZOOM - (MAX_ZOOM - 1) * t, 0.0, 0.0
        # pan: a mid zoom leaves room to move; direction picked by the seed.
        direction = self.spec.seed % 4
        d = 2 * t - 1
        dx, dy = [(d, 0.0), (-d, 0.0), (0.0, d), (0.0, -d)][direction]
        return 1 + (MAX_ZOOM - 1) * 0.75, dx, dy

    def _base(self, i: int) -> Image.Image:
        if self.fit == "cover":
            zoom, dx, dy = self._zoom_and_drift(i)
            src = self.source
            bw, bh = src.width / zoom, src.height / zoom
            left = (src.width - bw) / 2 * (1 + dx)
            top = (src.height - bh) / 2 * (1 + dy)
            return src.resize(self.size, _MOTION_FILTER, box=(left, top, left + bw, top + bh))
        t = _ease(i / max(1, self.n - 1))
        zoom = 1 + (CONTAIN_ZOOM - 1) * (t if self.motion != "zoom_out" else 1 - t)
        fg = self.foreground
        fw, fh = fg.width / CONTAIN_ZOOM * zoom, fg.height / CONTAIN_ZOOM * zoom
        frame = self.background.copy()
        # Resize to the rounded size but keep the fractional scale in the box, so the image
        # grows smoothly instead of in 1-pixel steps.
        size = (max(2, math.ceil(fw)), max(2, math.ceil(fh)))
        sx, sy = fg.width / fw, fg.height / fh
        box = (0.0, 0.0, min(fg.width, size[0] * sx), min(fg.height, size[1] * sy))
        scaled = fg.resize(size, _MOTION_FILTER, box=box)
        cx, cy = self.fg_center
        pos = (round(cx - fw / 2), round(cy - fh / 2))
        if scaled.mode == "RGBA":
            frame.paste(scaled, pos, scaled)
        else:
            frame.paste(scaled, pos)
        return frame

    def frame(self, i: int) -> Image.Image:
        img = self._base(i)
        if self.overlay is not None and i >= self.overlay_start:
            step = min(self.overlay_ramp, i - self.overlay_start + 1)
            band = self._overlay_cache.get(step)
            if band is None:
                band = self._overlay_cache[step] = self.overlay.faded(step / self.overlay_ramp)
            img.paste(band, (0, self.overlay.top), band)
        level = 1.0
        if self.fade_frames:
            if i < self.fade_frames:
                level = (i + 1) / (self.fade_frames + 1)
            elif i >= self.n - self.fade_frames:
                level = (self.n - i) / (self.fade_frames + 1)
        if level < 1.0:
            img = img.point(lambda v, k=level: int(v * k))
        return img


def choose_fit(picture: Image.Image, size: tuple[int, int], fit: Fit = "auto") -> Fit:
    """``cover`` when the picture's aspect is close to the frame's, else ``contain``.

    Cut-outs (transparent PNGs) are always contained: cropping a cut-out looks broken.
    """
    if fit != "auto":
        return fit
    if picture.mode == "RGBA":
        return "contain"
    pa = picture.width / picture.height
    fa = size[0] / size[1]
    return "cover" if max(pa, fa) / min(pa, fa) <= MAX_COVER_MISMATCH else "contain"


def render_video(
    picture: Image.Image, spec: RenderSpec, overlay: Overlay | None = None
) -> RenderedVideo:
    """Encode ``picture`` (RGB or RGBA) into an MP4 according to ``spec``.

    Output: H.264 (libx264, ``spec.preset``/``spec.crf``), yuv420p, constant ``spec.fps``,
    exactly ``spec.frame_count`` frames, ``+faststart``. The thumbnail is the frame at ~40 %
    of the duration (after the overlay has faded in), as JPEG of at most 540x960.
    """
    started = time.perf_counter()
    fit = choose_fit(picture, (spec.width, spec.height), spec.fit)
    motion: Motion = spec.motion
    if motion == "auto":
        motion = ("zoom_in", "pan", "zoom_out")[spec.seed % 3] if fit == "cover" else "zoom_in"
    frames = _FrameSource(picture, spec, overlay, fit, motion)
    thumb_index = min(
        spec.frame_count - 1,
        max(frames.overlay_start + frames.overlay_ramp, round(spec.frame_count * 0.4)),
    )
    thumbnails: list[bytes] = []

    def composed() -> Iterator[Image.Image]:
        for i in range(spec.frame_count):
            img = frames.frame(i)
            if i == thumb_index:
                thumbnails.append(encode_jpeg(img, quality=85, max_size=_thumb_box(img.size)))
            yield img

    data = encode_mp4(composed(), spec)
    return RenderedVideo(
        mp4=data,
        thumbnail=thumbnails[0],  # thumb_index is always < frame_count
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        frame_count=spec.frame_count,
        render_seconds=time.perf_counter() - started,
    )


def encode_mp4(
    frames: Iterator[Image.Image | Planes], spec: RenderSpec, *, audio: bool | MusicBed = False
) -> bytes:
    """H.264 MP4 bytes of ``frames`` (RGB images or yuv420p ``Planes`` of ``spec``'s size),
    encoded while composed.

    A helper thread runs the ``frames`` iterator (composition) and converts each image to
    yuv420p while this thread encodes: Pillow, swscale and libx264 release the GIL, so two vCPUs
    work at once. Yielding the *same* image object again (a static frame) reuses its converted
    frame: no conversion at all. ``audio`` adds a stereo AAC track of the same length: the
    music bed given (``media.audio.music_bed``), or silence for ``True`` (players and networks
    that expect an audio stream get one).
    """
    import av  # heavy: only when a video is actually rendered

    from ecomvideo.media.audio import audio_track

    ready: queue.Queue[Any] = queue.Queue(maxsize=FRAME_QUEUE)
    stop = threading.Event()

    def produce() -> None:
        try:
            # The last image and its frame: the image is held, so its identity stays its own.
            last: tuple[Image.Image | Planes, Any] | None = None
            for img in frames:
                if stop.is_set():
                    return
                if last is not None and last[0] is img:
                    frame = last[1]
                else:
                    frame = (
                        img.to_frame()
                        if isinstance(img, Planes)
                        else av.VideoFrame.from_image(img).reformat(format="yuv420p")
                    )
                    last = (img, frame)
                ready.put(frame)
            ready.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            ready.put(exc)

    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    worker = threading.Thread(target=produce, name="frame-composer", daemon=True)
    try:
        with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream(
                "libx264",
                rate=spec.fps,
                options=x264_options(spec),
            )
            stream.width = spec.width
            stream.height = spec.height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = Fraction(1, spec.fps)
            stream.codec_context.thread_count = spec.threads
            sound = audio_track(container, audio)
            worker.start()
            index = 0
            while True:
                item = ready.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                # The same frame object may come again (static frames): pts is set here, on
                # the encoding thread, just before it is encoded.
                item.pts = index
                item.time_base = Fraction(1, spec.fps)
                container.mux(stream.encode(item))
                index += 1
                if sound is not None:
                    sound.until(index / spec.fps)
            container.mux(stream.encode(None))
            if sound is not None:
                sound.flush()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        stop.set()
        # Unblock the producer if we stopped early (an exception while encoding).
        while worker.is_alive():
            try:
                ready.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
        os.unlink(path)


def x264_options(spec: RenderSpec) -> dict[str, str]:
    """The libx264 options of ``spec`` (also used by ``bench/storyboard_bench.py``)."""
    options = {"preset": spec.preset, "crf": str(spec.crf), "profile": "high"}
    if spec.x264_params:
        options["x264-params"] = spec.x264_params
    return options


def _thumb_box(size: tuple[int, int]) -> tuple[int, int]:
    # Same aspect as the video, at most 540 px on the short side / 960 on the long side.
    w, h = size
    return THUMBNAIL_MAX if h >= w else (THUMBNAIL_MAX[1], THUMBNAIL_MAX[0])
