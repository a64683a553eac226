"""YUV 4:2:0 frames as three Pillow "L" planes: what moves is composed in the encoder's format.

libx264 encodes yuv420p. A frame composed in RGB costs a swscale conversion (~6 ms at
1080x1920) and every RGB resize moves 3 samples per pixel where 4:2:0 has 1.5. So the moving
scenes (Ken Burns) are composed straight in YUV: luma full size, chroma half size, the window
scaled by swscale from a source converted once (``media.window``), the canvas and text layers
converted once and drawn per plane. Colours are converted by swscale (BT.601, limited range)
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


def plane_image(plane: Any, box: tuple[int, int, int, int]) -> Image.Image:
    """The part inside ``box`` of a frame's plane, as an "L" image (a copy)."""
    rows = plane.buffer_size // plane.line_size
    view = Image.frombuffer("L", (plane.line_size, rows), plane, "raw", "L", 0, 1)
    return view.crop(box)


def _even(v: int) -> int:
    return v - (v & 1)


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

        return cls.from_frame(
            av.VideoFrame.from_image(img.convert("RGB")).reformat(format="yuv420p")
        )

    @classmethod
    def from_frame(cls, frame: Any, keep: tuple[int, int, int, int] | None = None) -> Planes:
        """The planes of a yuv420p ``av.VideoFrame`` (copied: the result can be drawn on), or
        of its part inside ``keep`` (even coordinates)."""
        w, h = frame.width, frame.height
        if keep is None:
            keep = (0, 0, w, h)
        half = (keep[0] // 2, keep[1] // 2, keep[2] // 2, keep[3] // 2)
        y, u, v = frame.planes
        return cls(plane_image(y, keep), plane_image(u, half), plane_image(v, half))

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
        u = plane_image(yuv.planes[1], (0, 0, *half.size))
        v = plane_image(yuv.planes[2], (0, 0, *half.size))
        layer = cls(Planes(luma, u, v), padded.getchannel("A"), half.getchannel("A"))
        return layer, (x0, y0)

    def faded(self, step: int, steps: int) -> Layer:
        """The layer at ``step`` of ``steps`` of a fade-in (its alpha scaled)."""

        def scale(a: int) -> int:
            return a * step // steps

        return Layer(self.planes, self.alpha.point(scale), self.chroma_alpha.point(scale))
