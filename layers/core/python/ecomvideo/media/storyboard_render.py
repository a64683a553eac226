"""Render a storyboard into one H.264/AAC MP4: every scene composed, cut or blended in turn.

Per scene the static parts are drawn once (blurred backgrounds, cards, text layers, the end
card); only what moves is drawn per frame (the Ken Burns window of a photo, a text fade-in,
the frames of a transition). A scene that stops moving yields the *same* image object, and the
encoder reuses its converted frame (``render.encode_mp4``), so static frames cost nothing but
the encode. Composition runs on a helper thread while libx264 encodes. The encoder gets
yuv420p planes (``planes(i)``): moving scenes are composed straight in YUV from a source
converted once (``media.planes``, the Ken Burns window scaled by swscale: ``media.window``);
``frame(i)`` draws the same picture in RGB with the same scaler (thumbnails, checks).

Looks: the palette comes from the product photo (its most saturated frequent colour as accent,
a dark tint of it as background) unless the storyboard names one; product photos are cropped
around the subject (the region that differs most from the photo's border colour); text is
fitted into the format's safe zone (``formats.safe_zone``) at the largest size that wraps
without clipping, and drawn on a scrim dark enough for a 4.5:1 contrast (WCAG AA).
"""

from __future__ import annotations

import colorsys
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from ecomvideo.media.audio import MusicSource, bed_for
from ecomvideo.media.clip_source import ClipSource
from ecomvideo.media.design import Palette, pick_palette, rounded_box, vertical_gradient
from ecomvideo.media.formats import safe_zone
from ecomvideo.media.images import encode_jpeg
from ecomvideo.media.planes import Layer, Planes
from ecomvideo.media.render import MAX_ZOOM, RenderedVideo, RenderSpec, encode_mp4
from ecomvideo.media.segments import SegmentStore
from ecomvideo.media.storyboard import GENERATED_CLIP, Scene, Storyboard
from ecomvideo.media.text import Face, fit_face, load_face
from ecomvideo.media.window import SOURCE_MARGIN, PixelFormat, WindowScaler

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]
TRANSITION_SECONDS = 0.3
TEXT_IN_SECONDS = 0.3
SEGMENT_WORKERS = 2
MIN_CONTRAST = 4.5
WHITE: RGB = (255, 255, 255)
INK: RGB = (17, 24, 39)


# ---------------------------------------------------------------------------- colour


def _luminance(rgb: Sequence[float]) -> float:
    def channel(v: float) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def readable_on(background: Sequence[float]) -> RGB:
    """White or ink, whichever contrasts more with ``background``."""
    return WHITE if contrast_ratio(WHITE, background) >= contrast_ratio(INK, background) else INK


def _shade(rgb: RGB, factor: float) -> RGB:
    return (int(rgb[0] * factor), int(rgb[1] * factor), int(rgb[2] * factor))


def _from_hls(hue: float, light: float, sat: float) -> RGB:
    red, green, blue = colorsys.hls_to_rgb(hue, light, sat)
    return (int(red * 255), int(green * 255), int(blue * 255))


def palette_from_image(img: Image.Image) -> Palette:
    """A palette taken from the photo: accent = its most saturated frequent colour."""
    small = img.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR)
    quant = small.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    colours = quant.getpalette() or []
    best: tuple[float, RGB] | None = None
    for count, index in quant.getcolors() or []:
        if not isinstance(index, int):  # a "P" image's colours are palette indexes
            continue
        rgb: RGB = (colours[index * 3], colours[index * 3 + 1], colours[index * 3 + 2])
        _h, light, sat = colorsys.rgb_to_hls(*(v / 255 for v in rgb))
        score = sat * (1 - abs(light - 0.5)) * math.sqrt(count)
        if best is None or score > best[0]:
            best = (score, rgb)
    accent: RGB = best[1] if best and best[0] > 0.5 else (250, 204, 21)
    hue, _light, sat = colorsys.rgb_to_hls(*(v / 255 for v in accent))
    top = _from_hls(hue, 0.10, min(0.6, sat))
    bottom = _from_hls(hue, 0.22, min(0.7, sat))
    return Palette(
        "photo",
        top,
        bottom,
        accent,
        accent,
        readable_on(accent),
        WHITE,
    )


def _pixel(img: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """The channels of a multi-band image's pixel (Pillow types ``getpixel`` for every mode)."""
    value = img.getpixel(xy)
    if not isinstance(value, tuple):
        raise TypeError(f"expected a multi-band pixel, got {value!r}")
    return value


def subject_center(img: Image.Image) -> tuple[float, float]:
    """Centre (0..1, 0..1) of what differs from the photo's border colour: the product on a
    studio background, the subject of a lifestyle shot. Centre of the frame when uniform."""
    small = img.convert("RGB").resize((48, 48), Image.Resampling.BILINEAR)
    border = [_pixel(small, (x, 0)) for x in range(48)] + [
        _pixel(small, (x, 47)) for x in range(48)
    ]
    border += [_pixel(small, (0, y)) for y in range(48)]
    border += [_pixel(small, (47, y)) for y in range(48)]
    mean = tuple(sum(p[i] for p in border) // len(border) for i in range(3))
    diff = ImageChops.difference(small, Image.new("RGB", small.size, mean)).convert("L")
    data = diff.tobytes()
    total = sx = sy = 0.0
    for k, v in enumerate(data):
        if v > 24:
            total += v
            sx += v * (k % 48)
            sy += v * (k // 48)
    if total == 0:
        return 0.5, 0.5
    return (sx / total + 0.5) / 48, (sy / total + 0.5) / 48


# ---------------------------------------------------------------------------- pieces


def _cover_at(img: Image.Image, size: tuple[int, int], center: tuple[float, float]) -> Image.Image:
    """``img`` scaled to cover ``size`` and cropped around ``center`` (fractions)."""
    w, h = size
    scale = max(w / img.width, h / img.height)
    cw, ch = w / scale, h / scale
    left = max(0.0, min(center[0] * img.width - cw / 2, img.width - cw))
    top = max(0.0, min(center[1] * img.height - ch / 2, img.height - ch))
    return img.resize(size, Image.Resampling.LANCZOS, box=(left, top, left + cw, top + ch))


def _flat(img: Image.Image) -> Image.Image:
    if img.mode == "RGBA":
        flat = Image.new("RGB", img.size, WHITE)
        flat.paste(img, mask=img.getchannel("A"))
        return flat
    return img.convert("RGB")


@dataclass
class _TextLayer:
    image: Image.Image  # RGBA, the size of ``box``
    box: Box
    boxes: list[Box]  # every drawn line's glyph box (frame coordinates)
    region: Box  # where the text was laid out: a line box outside it would be clipped


# FreeType faces are not thread-safe and the faces are cached (shared): scenes encoded side by
# side (``SEGMENT_WORKERS``) lay out their text one at a time. Once per scene: cheap.
_TEXT_LOCK = threading.Lock()


def _text_layer(*args: Any, **kwargs: Any) -> _TextLayer:
    with _TEXT_LOCK:
        return _laid_out_text(*args, **kwargs)


def _laid_out_text(
    region: Box,
    text: str,
    subtext: str | None,
    *,
    colour: RGB,
    unit: float,
    align: str = "center",
    big: bool = True,
    pill: RGB | None = None,
) -> _TextLayer:
    """Text fitted into ``region`` (already inside the safe zone): the largest size at which
    every line fits the width and the block fits the height. Returns the layer and the
    bounding box of every drawn line (frame coordinates) for the checks."""
    left, top, right, bottom = region
    width, height = right - left, bottom - top
    for scale in (1.0, 0.85, 0.72, 0.6, 0.5, 0.42, 0.35, 0.3, 0.25):
        u = unit * scale
        pad = int(28 * u) if pill else 0
        face, lines = fit_face(
            text,
            max_width=width - 2 * pad,
            max_lines=3,
            start_size=int((120 if big else 86) * u),
            min_size=max(8, int(34 * u)),
        )
        lh = int(face.line_height * 1.08)
        sub_face = load_face(max(8, int(46 * u)), bold=False)
        sub_lines: list[str] = []
        if subtext:
            _f, sub_lines = fit_face(
                subtext,
                max_width=width,
                max_lines=2,
                start_size=sub_face.size,
                min_size=sub_face.size,
                bold=False,
            )
        sub_lh = int(sub_face.line_height * 1.1)
        gap = int(18 * u)
        block = len(lines) * lh + 2 * pad + (gap + len(sub_lines) * sub_lh if sub_lines else 0)
        # Glyphs reaching above the first line box or below the last one need room too.
        drawn = [(face, line) for line in lines] + [(sub_face, line) for line in sub_lines]
        above = below = 0
        if drawn:
            above = max(0, -drawn[0][0].ink(drawn[0][1])[0] - pad)
            end_face, end_line = drawn[-1]
            below = end_face.ink(end_line)[1] - end_face.line_height
            below = max(0, below - (0 if sub_lines else pad))
        if block + above + below <= height:
            break
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    y = (height - block - above - below) / 2 + above
    boxes: list[Box] = []

    def put(line: str, face: Face, fill: tuple[int, ...], y0: float) -> None:
        tw = face.length(line)
        x = (width - tw) / 2 if align == "center" else 0
        bb = face.draw(draw, (x, y0), line, fill)
        boxes.append((bb[0] + left, bb[1] + top, bb[2] + left, bb[3] + top))

    if pill is not None:
        widest = max(face.length(line) for line in lines)
        bw = min(width, widest + 2 * pad)
        x0 = (width - bw) / 2 if align == "center" else 0
        rounded_box(draw, (x0, y, x0 + bw, y + len(lines) * lh + 2 * pad), (*pill, 255))
        y += pad
    for line in lines:
        put(line, face, (*colour, 255), y)
        y += lh
    if pill is not None:
        y += pad
    if sub_lines:
        y += gap
        sub_colour = colour if pill is None else WHITE
        for line in sub_lines:
            put(line, sub_face, (*sub_colour, 235), y)
            y += sub_lh
    # Keep only the drawn part: every frame pastes this layer, and a smaller paste is cheaper.
    used = layer.getchannel("A").getbbox() or (0, 0, 1, 1)
    return _TextLayer(
        layer.crop(used),
        (left + used[0], top + used[1], left + used[2], top + used[3]),
        boxes,
        region,
    )


def _scrim_for(background: Image.Image, region: Box) -> int:
    """Alpha (0-255) of a black scrim under white text in ``region`` giving >= 4.5:1."""
    mean = ImageStat.Stat(background.crop(region).convert("RGB")).mean
    for alpha in range(0, 256, 16):
        k = 1 - alpha / 255
        if contrast_ratio(WHITE, tuple(v * k for v in mean)) >= MIN_CONTRAST:
            return alpha
    return 255


# ---------------------------------------------------------------------------- scenes


class _SceneFrames(ABC):
    """Frames of one scene; ``frame(i)`` returns the same object once nothing moves."""

    def __init__(self, n: int, fps: int) -> None:
        self.n = n
        self.text_in = max(1, round(TEXT_IN_SECONDS * fps))
        self.text: _TextLayer | None = None
        self._faded: dict[int, Image.Image] = {}
        self._static: Image.Image | None = None
        self._converted: tuple[Image.Image, Planes] | None = None
        self._layers: dict[int, tuple[Layer, tuple[int, int]]] = {}
        self.moves = False

    @abstractmethod
    def base(self, i: int) -> Image.Image:
        """The scene's picture at frame ``i`` before its text (Ken Burns or still)."""

    def _text_at(self, step: int) -> Image.Image:
        assert self.text is not None
        if step >= self.text_in:
            return self.text.image
        layer = self._faded.get(step)
        if layer is None:
            alpha = self.text.image.getchannel("A").point(lambda a: a * step // self.text_in)
            layer = self.text.image.copy()
            layer.putalpha(alpha)
            self._faded[step] = layer
        return layer

    def frame(self, i: int) -> Image.Image:
        if not self.moves and i >= self.text_in and self._static is not None:
            return self._static
        img = self.base(i)
        if not self.moves:
            img = img.copy()
        if self.text is not None:
            layer = self._text_at(i + 1)
            img.paste(layer, self.text.box[:2], layer)
        if not self.moves and i + 1 >= self.text_in:
            self._static = img
        return img

    def planes(self, i: int) -> Planes:
        """Frame ``i`` as the encoder takes it (yuv420p); the same object once nothing moves.
        Here: ``frame(i)`` converted (once per distinct image)."""
        img = self.frame(i)
        if self._converted is None or self._converted[0] is not img:
            self._converted = (img, Planes.from_rgb(img))
        return self._converted[1]

    def _text_planes(self, step: int) -> tuple[Layer, tuple[int, int]]:
        """The text layer for ``Planes.draw`` at ``step`` of its fade-in, and where it goes."""
        assert self.text is not None
        step = min(step, self.text_in)
        cached = self._layers.get(step)
        if cached is None:
            full = self._layers.get(self.text_in)
            if full is None:
                full = self._layers[self.text_in] = Layer.from_rgba(
                    self.text.image, self.text.box[:2]
                )
            cached = self._layers[step] = (full[0].faded(step, self.text_in), full[1])
        return cached


class _KenBurns(_SceneFrames):
    """A photo moving slowly (zoom in/out or drift) in ``area`` over a static ``canvas``."""

    def __init__(
        self,
        n: int,
        fps: int,
        canvas: Image.Image,
        photo: Image.Image,
        area: Box,
        seed: int,
    ) -> None:
        super().__init__(n, fps)
        self.moves = True
        self.canvas = canvas
        self.area = area
        aw, ah = area[2] - area[0], area[3] - area[1]
        self.size = (aw, ah)
        self.center = subject_center(photo)
        # Every window a slight downscale (``window.SOURCE_MARGIN``): placed to a fraction of
        # a pixel by swscale.
        scale = MAX_ZOOM * SOURCE_MARGIN
        self.source = _cover_at(_flat(photo), (round(aw * scale), round(ah * scale)), self.center)
        self.full = area == (0, 0, canvas.width, canvas.height)
        self.mode = seed % 3
        # Per pixel format, the source prepared once for scaling windows of it.
        self._scalers: dict[str, WindowScaler] = {}
        self._canvas: Planes | None = None

    def _scaler(self, pix_fmt: PixelFormat) -> WindowScaler:
        scaler = self._scalers.get(pix_fmt)
        if scaler is None:
            scaler = self._scalers[pix_fmt] = WindowScaler(self.source, self.size, pix_fmt)
        return scaler

    def _window(self, i: int) -> tuple[float, float, float, float]:
        """The part of ``source`` shown at frame ``i`` (fractional: sub-pixel smooth)."""
        t = 0.5 - 0.5 * math.cos(math.pi * i / max(1, self.n - 1))
        zoom = {0: 1 + (MAX_ZOOM - 1) * t, 1: MAX_ZOOM - (MAX_ZOOM - 1) * t}.get(
            self.mode, 1 + (MAX_ZOOM - 1) * 0.6
        )
        src = self.source
        bw, bh = src.width / zoom, src.height / zoom
        # Zoom towards the subject: the window slides from the centre to the subject.
        cx = src.width * (0.5 + (self.center[0] - 0.5) * (0.5 * t if self.mode != 2 else 0))
        cy = src.height * (0.5 + (self.center[1] - 0.5) * (0.5 * t if self.mode != 2 else 0))
        if self.mode == 2:  # drift sideways
            cx = src.width / 2 + (src.width - bw) / 2 * (2 * t - 1)
        left = max(0.0, min(cx - bw / 2, src.width - bw))
        top = max(0.0, min(cy - bh / 2, src.height - bh))
        return (left, top, left + bw, top + bh)

    def base(self, i: int) -> Image.Image:
        moved = self._scaler("rgb24").image(self._window(i))
        if self.full:
            return moved
        frame = self.canvas.copy()
        frame.paste(moved, self.area[:2])
        return frame

    def planes(self, i: int) -> Planes:
        """``frame(i)`` composed in YUV: the window scaled by swscale from the source
        converted once, over the canvas converted once, text drawn over it."""
        moved = self._scaler("yuv420p").planes(self._window(i))
        if self.full:
            frame = moved
        else:
            if self._canvas is None:
                self._canvas = Planes.from_rgb(self.canvas)
            frame = self._canvas.copy()
            frame.paste(moved, self.area[:2])
        if self.text is not None:
            layer, xy = self._text_planes(i + 1)
            frame.draw(layer, xy)
        return frame


class _Clip(_SceneFrames):
    """A generated clip in ``area`` over a static ``canvas``: each frame shows the clip frame
    ``ClipSource.fit`` picks (trimmed, or its last frame held), cropped around the subject of
    its first frame (one crop for the whole clip, so it does not jitter)."""

    def __init__(self, n: int, fps: int, canvas: Image.Image, clip: ClipSource, area: Box) -> None:
        super().__init__(n, fps)
        self.moves = True
        self.canvas, self.area = canvas, area
        self.full = area == (0, 0, canvas.width, canvas.height)
        size = (area[2] - area[0], area[3] - area[1])
        self.clip = clip.fitted(n, fps, size, subject_center(clip.poster))

    def base(self, i: int) -> Image.Image:
        picture = self.clip.picture(i)
        # A copy: ``frame`` draws the text on what it gets, and a clip frame may repeat.
        if self.full:
            return picture.copy()
        frame = self.canvas.copy()
        frame.paste(picture, self.area[:2])
        return frame


class _Still(_SceneFrames):
    def __init__(self, n: int, fps: int, canvas: Image.Image) -> None:
        super().__init__(n, fps)
        self.canvas = canvas

    def base(self, i: int) -> Image.Image:
        return self.canvas


def _blurred(photo: Image.Image, size: tuple[int, int], darken: float = 0.45) -> Image.Image:
    w, h = size
    small = _cover_at(_flat(photo), (max(8, w // 10), max(8, h // 10)), (0.5, 0.5))
    small = small.filter(ImageFilter.GaussianBlur(max(2, min(w, h) // 120)))
    small = small.point(lambda v: int(v * darken))
    return small.resize(size, Image.Resampling.BILINEAR)


def _contained(photo: Image.Image, box: Box) -> tuple[Image.Image, tuple[int, int]]:
    bw, bh = box[2] - box[0], box[3] - box[1]
    scale = min(bw / photo.width, bh / photo.height)
    size = (max(2, round(photo.width * scale)), max(2, round(photo.height * scale)))
    img = photo.resize(size, Image.Resampling.LANCZOS)
    return img, (box[0] + (bw - size[0]) // 2, box[1] + (bh - size[1]) // 2)


class _Composer:
    """Builds the frames of each scene of a storyboard for one output size."""

    def __init__(
        self,
        board: Storyboard,
        pictures: dict[int, Image.Image],
        size: tuple[int, int],
        fps: int,
        palette: Palette,
        clip: ClipSource | None = None,
    ) -> None:
        self.board = board
        self.pictures = pictures
        self.clip = clip
        self.size = size
        self.fps = fps
        self.palette = palette
        self.zone = safe_zone(*size)
        self.unit = min(size) / 1080
        self.portrait = size[1] > size[0] * 1.1
        self.landscape = size[0] > size[1] * 1.1
        self.text_boxes: dict[str, list[Box]] = {}

    def _gradient(self) -> Image.Image:
        return vertical_gradient(self.size, self.palette.top, self.palette.bottom)

    def scene(self, index: int, scene: Scene, n: int) -> _SceneFrames:
        photo = self.pictures.get(scene.image) if scene.image is not None else None
        layout = scene.layout
        clip = self.clip if scene.media == GENERATED_CLIP else None
        if clip is not None:  # the clip moves: full bleed, or in the split's picture area
            frames = (self._split if layout == "split" else self._full_bleed)(
                index, scene, n, photo, clip
            )
        elif layout == "end_card":
            frames = self._end_card(scene, n, photo)
        elif layout == "split" and photo is not None:
            frames = self._split(index, scene, n, photo)
        elif layout == "card" or photo is None:
            frames = self._card(scene, n, photo)
        else:
            frames = self._full_bleed(index, scene, n, photo)
        self.text_boxes[scene.id] = frames.text.boxes if frames.text else []
        return frames

    def _moving(
        self,
        n: int,
        canvas: Image.Image,
        photo: Image.Image | None,
        area: Box,
        index: int,
        clip: ClipSource | None,
    ) -> _SceneFrames:
        """The clip in ``area`` when there is one, else the photo's Ken Burns."""
        if clip is not None:
            return _Clip(n, self.fps, canvas, clip, area)
        assert photo is not None
        return _KenBurns(n, self.fps, canvas, photo, area, index)

    def _full_bleed(
        self,
        index: int,
        scene: Scene,
        n: int,
        photo: Image.Image | None,
        clip: ClipSource | None = None,
    ) -> _SceneFrames:
        w, h = self.size
        zl, zt, zr, zb = self.zone
        frames = self._moving(n, Image.new("RGB", self.size), photo, (0, 0, w, h), index, clip)
        # The lower half of the safe zone (lower two thirds in landscape: little height).
        region = (zl, zt + (zb - zt) // (3 if self.landscape else 2), zr, zb)
        text = _text_layer(region, scene.text, scene.subtext, colour=WHITE, unit=self.unit)
        if text.boxes:
            used = (
                region[0],
                min(b[1] for b in text.boxes),
                region[2],
                max(b[3] for b in text.boxes),
            )
            # A scrim band under the text, dark enough for the 4.5:1 check on the frame it
            # covers (checked on the first frame's picture).
            alpha = max(96, _scrim_for(frames.base(0), used))
            pad = int(40 * self.unit)
            # The layer grows by the scrim's padding (clamped to the text region).
            x0, y0 = region[0], max(region[1], used[1] - pad)
            x1, y1 = region[2], min(region[3], used[3] + pad)
            scrim = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
            ImageDraw.Draw(scrim).rounded_rectangle(
                (0, 0, x1 - x0, y1 - y0), radius=int(24 * self.unit), fill=(0, 0, 0, alpha)
            )
            scrim.alpha_composite(text.image, (text.box[0] - x0, text.box[1] - y0))
            text.image, text.box = scrim, (x0, y0, x1, y1)
        frames.text = text
        return frames

    def _split(
        self,
        index: int,
        scene: Scene,
        n: int,
        photo: Image.Image | None,
        clip: ClipSource | None = None,
    ) -> _SceneFrames:
        w, h = self.size
        zl, zt, zr, zb = self.zone
        canvas = self._gradient()
        if self.landscape:
            area = (0, 0, 2 * round(w * 0.275), h)
            region = (area[2] + zl, zt, zr, zb)
        else:
            split = 2 * round(h * 0.29)  # even: the YUV planes paste at even rows
            area = (0, 0, w, split)
            region = (zl, max(zt, split + int(24 * self.unit)), zr, zb)
        frames = self._moving(n, canvas, photo, area, index, clip)
        colour = readable_on(self.palette.top)
        frames.text = _text_layer(region, scene.text, scene.subtext, colour=colour, unit=self.unit)
        return frames

    def _card(self, scene: Scene, n: int, photo: Image.Image | None) -> _SceneFrames:
        canvas = _blurred(photo, self.size) if photo is not None else self._gradient()
        big = scene.kind in ("price", "hook")
        accent = self.palette.accent
        pill = accent if scene.kind == "price" else None
        colour = readable_on(accent) if pill else readable_on(ImageStat.Stat(canvas).mean)
        frames = _Still(n, self.fps, canvas)
        frames.text = _text_layer(
            self.zone, scene.text, scene.subtext, colour=colour, unit=self.unit, big=big, pill=pill
        )
        return frames

    def _end_card(self, scene: Scene, n: int, photo: Image.Image | None) -> _SceneFrames:
        canvas = self._gradient()
        zl, zt, zr, zb = self.zone
        if photo is not None:
            if self.landscape:
                box = (zl, zt, zl + (zr - zl) // 2, zb)
                region = (zl + (zr - zl) // 2, zt, zr, zb)
            else:
                box = (zl, zt, zr, zt + round((zb - zt) * 0.5))
                region = (zl, box[3] + int(24 * self.unit), zr, zb)
            img, pos = _contained(photo, box)
            if img.mode == "RGBA":
                canvas.paste(img, pos, img)
            else:
                canvas.paste(img, pos)
        else:
            region = self.zone
        frames = _Still(n, self.fps, canvas)
        frames.text = _text_layer(
            region,
            scene.text,
            scene.subtext,
            colour=readable_on(self.palette.accent),
            unit=self.unit,
            pill=self.palette.accent,
        )
        return frames


def _frame_counts(board: Storyboard, fps: int) -> list[int]:
    """Whole frames per scene; the cumulative rounding keeps the total exact."""
    counts, elapsed, done = [], 0.0, 0
    for scene in board.scenes:
        elapsed += scene.duration
        end = max(done + 1, round(elapsed * fps))
        counts.append(end - done)
        done = end
    return counts


def _shown(scene: Scene, pictures: dict[int, Image.Image], clip: ClipSource | None) -> str:
    """The media a scene shows: its clip (or the clip's still), else its photo, else a designed
    background."""
    if scene.media == GENERATED_CLIP and clip is not None:
        return clip.kind
    return "product_image" if scene.image is not None and scene.image in pictures else "design"


def board_palette(
    board: Storyboard,
    pictures: dict[int, Image.Image],
    *,
    style: str | None = None,
    seed_text: str | None = None,
) -> Palette:
    """The storyboard's palette, else the style's, else the first photo's."""
    if board.palette or style or not pictures:
        return pick_palette(board.palette or style, seed_text)
    return palette_from_image(pictures[min(pictures)])


def render_storyboard(
    board: Storyboard,
    pictures: dict[int, Image.Image],
    spec: RenderSpec,
    *,
    style: str | None = None,
    seed_text: str | None = None,
    segments: SegmentStore | None = None,
    clip: ClipSource | None = None,
    music: MusicSource | None = None,
) -> RenderedVideo:
    """Render ``board`` at ``spec``'s size; ``pictures`` maps image indexes to photos.

    ``clip`` is the provider's generated clip, shown by the ``generated_clip`` scene (fitted by
    ``ClipSource.fit``); without one that scene shows its photo (or a designed card). Each
    scene's timing records the media it actually showed.

    With ``segments`` every scene is encoded on its own and kept in the store under a key
    made of everything its frames depend on (``segments.scene_key``): a scene already there
    is not rendered again (a retry after a failed scene, a re-render after editing one scene),
    and the scenes are joined without re-encoding (``segments.concat``). Without it the
    scenes are encoded in one pass.

    ``music`` is laid under the whole video once (``media.audio.music_bed``: looped or cut to
    its length, faded, -14 LUFS), also across the joined segments; without it the AAC track is
    silent.
    """
    started = time.perf_counter()
    size = (spec.width, spec.height)
    palette = board_palette(board, pictures, style=style, seed_text=seed_text)
    composer = _Composer(board, pictures, size, spec.fps, palette, clip)
    counts = _frame_counts(board, spec.fps)
    timings: list[dict[str, object]] = []
    start = 0
    for scene, n in zip(board.scenes, counts, strict=True):
        timings.append(
            {
                "id": scene.id,
                "kind": scene.kind,
                "start": round(start / spec.fps, 3),
                "duration": round(n / spec.fps, 3),
                "frames": n,
                "media": _shown(scene, pictures, clip),
            }
        )
        start += n
    total = sum(counts)
    fade = max(0, round(min(0.4, spec.duration_seconds / 10) * spec.fps))
    starts = [sum(counts[:k]) for k in range(len(counts))]
    bed = bed_for(music, total, spec.fps)

    # Each scene is prepared once (its photo scaled and converted, its text laid out) and kept
    # until its last use: its own frames and, with segments, the blend of the scene after it
    # (from its last frame). Scenes encoded side by side share them; the lock makes one thread
    # prepare a scene. The thumbnail (the middle of the first photo scene, the hero, clear of
    # transitions) is drawn when that scene is prepared.
    prepared: dict[int, _SceneFrames] = {}
    uses = [1 + (segments is not None and k + 1 < len(counts)) for k in range(len(counts))]
    preparing = threading.Lock()
    # The thumbnail: the middle of the first photo or clip scene (the hero), clear of transitions.
    thumb_scene = (
        1 if len(board.scenes) > 1 and _shown(board.scenes[1], pictures, clip) != "design" else 0
    )
    thumbs: list[Image.Image] = []

    def scene_source(k: int) -> _SceneFrames:
        with preparing:
            if k not in prepared:
                prepared[k] = composer.scene(k, board.scenes[k], counts[k])
                if k == thumb_scene and not thumbs:
                    thumbs.append(prepared[k].frame(counts[k] // 2))
            return prepared[k]

    def used(k: int) -> None:
        with preparing:
            uses[k] -= 1
            if uses[k] <= 0:
                prepared.pop(k, None)

    def scene_frames(k: int, previous: Planes | None) -> Iterator[Planes]:
        """Scene ``k``'s frames: blended with ``previous`` (the last frame of scene k-1) at
        its start, faded out at the end of the video."""
        scene, n = board.scenes[k], counts[k]
        source = scene_source(k)
        blend = min(n // 2, round(TRANSITION_SECONDS * spec.fps))
        for i in range(n):
            img = source.planes(i)
            if previous is not None and i < blend and scene.transition != "cut":
                a = (i + 1) / (blend + 1)
                if scene.transition == "slide":
                    out = previous.copy()
                    dx = 2 * round(spec.width * (1 - a) / 2)
                    out.paste(img.crop((0, 0, spec.width - dx, spec.height)), (dx, 0))
                    img = out
                else:
                    img = previous.blend(img, a)
            index = starts[k] + i
            if index >= total - fade and fade:
                img = img.faded((total - index) / (fade + 1))
            yield img
        used(k)

    def last_frame(k: int) -> Planes:
        # Never blended (a blend covers at most half a scene) and, but for the last scene,
        # never faded: what scene k + 1 blends from.
        frame = scene_source(k).planes(counts[k] - 1)
        used(k)
        return frame

    if segments is None:

        def frames() -> Iterator[Planes]:
            previous: Planes | None = None
            for k in range(len(board.scenes)):
                img = None
                for img in scene_frames(k, previous):
                    yield img
                previous = img

        mp4 = encode_mp4(frames(), spec, audio=bed or True)
    else:
        from ecomvideo.media import segments as seg

        digests = {i: seg.picture_digest(img) for i, img in pictures.items()}

        def segment(k: int) -> bytes:
            key = seg.scene_key(
                board,
                k,
                counts,
                spec,
                palette,
                digests,
                fade=fade if k == len(counts) - 1 else 0,
                clip=clip.digest if clip is not None else None,
            )
            part = segments.get(key)
            if part is None:
                previous = last_frame(k - 1) if k else None
                part = encode_mp4(scene_frames(k, previous), spec, audio=False)
                segments.put(key, part)
            else:
                scene_source(k)  # its text boxes, for the checks
                used(k)
            return part

        # Two scenes at a time: while one encoder drains its last frames (lookahead) the other
        # starts, so both vCPUs stay busy across scene boundaries.
        with ThreadPoolExecutor(max_workers=SEGMENT_WORKERS) as pool:
            futures = [pool.submit(segment, k) for k in range(len(board.scenes))]
            try:
                parts = [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        mp4 = seg.concat(parts, spec.fps, audio=bed or True)
    thumb = thumbs[0] if thumbs else scene_source(thumb_scene).frame(counts[thumb_scene] // 2)
    box = (540, 960) if spec.height >= spec.width else (960, 540)
    return RenderedVideo(
        mp4=mp4,
        thumbnail=encode_jpeg(thumb, quality=85, max_size=box),
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        frame_count=total,
        render_seconds=time.perf_counter() - started,
        scenes=timings,
        text_boxes=composer.text_boxes,
        music=bed.describe() if bed is not None else None,
    )
