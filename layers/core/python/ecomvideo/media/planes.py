"""YUV 4:2:0 frames as three Pillow "L" planes: what moves is composed in the encoder's format.

libx264 encodes yuv420p. A frame composed in RGB costs a swscale conversion (~6 ms at
1080x1920) and every RGB resize moves 3 samples per pixel where 4:2:0 has 1.5. So the moving
scenes (Ken Burns) are composed straight in YUV: luma full size, chroma half size, each plane
resized from a source converted once. Colours are converted by swscale (BT.601, limited range)
as for a frame converted from RGB, so planes composed either way match; resizing, blending and
alpha pasting are linear, so doing them per plane gives the RGB result up to rounding.

Positions and sizes are even (a chroma sample covers 2x2 pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

# Limited-range black: fades go towards it, not towards 0.
BLACK_Y, MID_CHROMA = 16, 128


def _plane_image(plane: Any, size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("L", size, bytes(plane), "raw", "L", plane.line_size)


def _even(v: int) -> int:
    return v - (v & 1)


def yuv444(img: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """``img`` (RGB) as full-size Y, U and V planes (swscale: BT.601, limited range)."""
    import av  # heavy: only when a video is actually rendered

    frame = av.VideoFrame.from_image(img.convert("RGB")).reformat(format="yuv444p")
    y, u, v = (_plane_image(plane, img.size) for plane in frame.planes)
    return y, u, v


@dataclass(frozen=True, slots=True)
class Planes:
    """One yuv420p picture: ``y`` (w x h), ``u`` and ``v`` (w/2 x h/2), each an "L" image."""

    y: Image.Image
    u: Image.Image
    v: Image.Image

    @property
    def size(self) -> tuple[int, int]:
        return self.y.size

    @classmethod
    def from_rgb(cls, img: Image.Image) -> Planes:
        """``img`` (RGB, even size) converted by swscale, as the encoder would."""
        import av  # heavy: only when a video is actually rendered

        frame = av.VideoFrame.from_image(img.convert("RGB")).reformat(format="yuv420p")
        w, h = img.size
        return cls(
            _plane_image(frame.planes[0], (w, h)),
            _plane_image(frame.planes[1], (w // 2, h // 2)),
            _plane_image(frame.planes[2], (w // 2, h // 2)),
        )

    @classmethod
    def resized(
        cls,
        source: tuple[Image.Image, Image.Image, Image.Image],
        size: tuple[int, int],
        box: tuple[float, float, float, float],
    ) -> Planes:
        """``box`` (fractional) of a ``yuv444`` source resized to ``size`` (BOX filter).

        Chroma is resized from the full-size planes straight to half size: one filter pass
        over 2.2 source pixels per sample, as close to the RGB path (resize, then 2x2 chroma)
        as luma is. Resizing a half-size chroma source instead costs less but aliases the
        chroma of busy photos (~40 dB against the RGB path, ~56 dB this way).
        """
        w, h = size
        box_filter = Image.Resampling.BOX
        y, u, v = source
        return cls(
            y.resize((w, h), box_filter, box=box),
            u.resize((w // 2, h // 2), box_filter, box=box),
            v.resize((w // 2, h // 2), box_filter, box=box),
        )

    def to_frame(self) -> Any:
        """An ``av.VideoFrame`` (yuv420p) holding these planes."""
        import av

        w, h = self.size
        frame = av.VideoFrame(w, h, "yuv420p")
        for plane, img in zip(frame.planes, (self.y, self.u, self.v), strict=True):
            plane.update(img.tobytes("raw", "L", plane.line_size))
        return frame

    def to_rgb(self) -> Image.Image:
        image: Image.Image = self.to_frame().to_image()
        return image

    def copy(self) -> Planes:
        return Planes(self.y.copy(), self.u.copy(), self.v.copy())

    def crop(self, box: tuple[int, int, int, int]) -> Planes:
        """The part inside ``box`` (even coordinates)."""
        half = (box[0] // 2, box[1] // 2, box[2] // 2, box[3] // 2)
        return Planes(self.y.crop(box), self.u.crop(half), self.v.crop(half))

    def paste(self, other: Planes, xy: tuple[int, int]) -> None:
        """``other`` drawn over this picture at ``xy`` (even), in place."""
        x, y = xy
        self.y.paste(other.y, (x, y))
        self.u.paste(other.u, (x // 2, y // 2))
        self.v.paste(other.v, (x // 2, y // 2))

    def draw(self, layer: Layer, xy: tuple[int, int]) -> None:
        """``layer`` alpha-blended over this picture at ``xy`` (even), in place."""
        x, y = xy
        self.y.paste(layer.planes.y, (x, y), layer.alpha)
        self.u.paste(layer.planes.u, (x // 2, y // 2), layer.chroma_alpha)
        self.v.paste(layer.planes.v, (x // 2, y // 2), layer.chroma_alpha)

    def blend(self, other: Planes, alpha: float) -> Planes:
        """``self`` * (1 - alpha) + ``other`` * alpha (a cross-fade)."""
        return Planes(
            Image.blend(self.y, other.y, alpha),
            Image.blend(self.u, other.u, alpha),
            Image.blend(self.v, other.v, alpha),
        )

    def faded(self, level: float) -> Planes:
        """Towards black by ``level`` (1 = unchanged, 0 = black)."""
        luma = [min(255, round(BLACK_Y + (v - BLACK_Y) * level)) for v in range(256)]
        chroma = [round(MID_CHROMA + (v - MID_CHROMA) * level) for v in range(256)]
        return Planes(self.y.point(luma), self.u.point(chroma), self.v.point(chroma))


@dataclass(frozen=True, slots=True)
class Layer:
    """An RGBA layer converted once for ``Planes.draw``: colour planes and alpha per size."""

    planes: Planes
    alpha: Image.Image  # full size
    chroma_alpha: Image.Image  # half size

    @classmethod
    def from_rgba(cls, img: Image.Image, xy: tuple[int, int]) -> tuple[Layer, tuple[int, int]]:
        """The layer of ``img`` (RGBA) drawn at ``xy``, and where to draw it: padded with
        transparent pixels to an even position and size."""
        import av

        x, y = xy
        x0, y0 = _even(x), _even(y)
        w = img.width + (x - x0)
        h = img.height + (y - y0)
        padded = Image.new("RGBA", (w + (w & 1), h + (h & 1)), (0, 0, 0, 0))
        padded.paste(img, (x - x0, y - y0))
        luma = Planes.from_rgb(padded.convert("RGB")).y
        # Chroma from the half-size layer: Pillow resizes RGBA premultiplied, so the colour of
        # a half-covered 2x2 block is the colour of its covered part, not darkened.
        half = padded.resize((padded.width // 2, padded.height // 2), Image.Resampling.BOX)
        yuv = av.VideoFrame.from_image(half.convert("RGB")).reformat(format="yuv444p")
        u = _plane_image(yuv.planes[1], half.size)
        v = _plane_image(yuv.planes[2], half.size)
        layer = cls(Planes(luma, u, v), padded.getchannel("A"), half.getchannel("A"))
        return layer, (x0, y0)

    def faded(self, step: int, steps: int) -> Layer:
        """The layer at ``step`` of ``steps`` of a fade-in (its alpha scaled)."""

        def scale(a: int) -> int:
            return a * step // steps

        return Layer(self.planes, self.alpha.point(scale), self.chroma_alpha.point(scale))
