"""Reading untrusted images and writing JPEGs (Pillow).

Input images come from users and scraped pages: we cap the pixel count before decoding
(decompression bombs), honour EXIF orientation (phone photos), and let the JPEG decoder
downscale while decoding (``draft``) when the picture is much larger than the frame.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import cast

from PIL import Image, ImageOps, UnidentifiedImageError

# JPEG comment written into Local title cards, so the video step knows the picture already
# carries its text and does not draw the overlay a second time.
TITLE_CARD_MARK = b"ecomvideo:title-card"
MAX_INPUT_PIXELS = 40_000_000
MAX_INPUT_BYTES = 25 * 1024 * 1024


class MediaError(ValueError):
    """A media file we cannot use. The message is safe to show to the user."""


@dataclass(frozen=True, slots=True)
class LoadedImage:
    """A decoded picture: ``RGB``, or ``RGBA`` when it has real transparency (cut-outs)."""

    image: Image.Image
    is_title_card: bool = False

    @property
    def has_alpha(self) -> bool:
        return self.image.mode == "RGBA"


def load_image(data: bytes, *, target: tuple[int, int] | None = None) -> LoadedImage:
    """Decode ``data`` (JPEG, PNG, WebP, GIF first frame...) into an upright RGB/RGBA image.

    ``target`` is the frame size the picture will fill; large JPEGs are decoded at a reduced
    scale that still covers it. Raises ``MediaError`` for empty, oversized, corrupt or
    unsupported files.
    """
    if not data:
        raise MediaError("the image is empty")
    if len(data) > MAX_INPUT_BYTES:
        raise MediaError("the image is larger than 25 MB")
    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_INPUT_PIXELS:
            raise MediaError(f"the image is too large ({img.width}x{img.height} pixels)")
        is_card = TITLE_CARD_MARK in _comment(img)
        if target and img.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 scale when that still covers the frame: much faster.
            img.draft("RGB", (target[0], target[1]))
        img.load()
        img = ImageOps.exif_transpose(img) or img
    except MediaError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise MediaError("the file is not a supported image (use JPEG, PNG or WebP)") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError("the image file is damaged or truncated") from exc
    if img.width < 16 or img.height < 16:
        raise MediaError(f"the image is too small ({img.width}x{img.height} pixels)")
    return LoadedImage(_normalise_mode(img), is_title_card=is_card)


def _comment(img: Image.Image) -> bytes:
    value = img.info.get("comment", b"")
    return value.encode() if isinstance(value, str) else bytes(value or b"")


def _normalise_mode(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        # One band: (min, max); Pillow types getextrema for multi-band images too.
        lo, _hi = cast("tuple[int, int]", rgba.getchannel("A").getextrema())
        # Fully opaque "RGBA" files are common; treat them as plain photos.
        return rgba if lo < 250 else rgba.convert("RGB")
    return img.convert("RGB")


def encode_jpeg(
    img: Image.Image,
    *,
    quality: int = 88,
    max_size: tuple[int, int] | None = None,
    comment: bytes | None = None,
) -> bytes:
    """JPEG bytes of ``img`` (downscaled to fit ``max_size`` if given), progressive."""
    if max_size and (img.width > max_size[0] or img.height > max_size[1]):
        img = img.copy()
        img.thumbnail(max_size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    params: dict[str, object] = {"quality": quality, "optimize": True, "progressive": True}
    if comment:
        params["comment"] = comment
    img.convert("RGB").save(out, "JPEG", **params)
    return out.getvalue()
