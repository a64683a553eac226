"""Aspect ratios, frame sizes and the stored video's metadata. Pure Python: safe to import
from any handler.

``videos.resolution`` holds either an explicit size (``"1080x1920"``, the spec's default) or a
tier (``"1080p"``, ``"720p"``: the plan's ``max_resolution`` vocabulary). ``frame_size`` turns
either, plus the aspect ratio, into the pixel size the renderer and the providers use.
"""

from __future__ import annotations

import re
from typing import Literal, NotRequired, TypedDict

# width:height of each aspect ratio the API accepts.
ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "9:16": (9, 16),
    "1:1": (1, 1),
    "16:9": (16, 9),
    "4:5": (4, 5),
}

# Tier -> length of the SHORT side (1080p 9:16 is 1080x1920, 1080p 16:9 is 1920x1080).
RESOLUTION_TIERS: dict[str, int] = {"480p": 480, "720p": 720, "1080p": 1080, "1440p": 1440}
# The plans' resolution classes (``max_resolution``, the credit price) -> their LONG side.
CLASS_LONG_SIDE: dict[str, int] = {"720p": 1280, "1080p": 1920, "4k": 3840}


# The one definition of ``videos.metadata`` once a video is Completed: ``media.probe`` reads
# these keys from the file, the pipeline stores exactly them, the API answers with them.
class VideoMetadata(TypedDict):
    """The spec's VideoMetadata JSON."""

    width: int
    height: int
    frameRate: float
    format: str
    codec: str
    bitrate: int
    duration: float
    fileSize: int


VIDEO_METADATA_KEYS: tuple[str, ...] = tuple(VideoMetadata.__annotations__)


class SceneTiming(TypedDict):
    """A rendered scene of a storyboard: where it starts and how long it lasts in the file."""

    id: str
    kind: str
    start: float
    duration: float
    frames: int
    # What the scene showed: product_image, design, generated_clip or generated_image (the
    # clip's still, when the clip was unusable); renders since the clip became a scene.
    media: NotRequired[Literal["product_image", "design", "generated_clip", "generated_image"]]


class FormatMetadata(TypedDict):
    """One rendered format of a video: its file and the scenes' timings in it."""

    aspectRatio: str
    width: int
    height: int
    duration: float
    fileSize: int
    scenes: list[SceneTiming]


class MusicMetadata(TypedDict):
    """The music bed of a video: the bundled track's id or ``upload``, and its integrated
    loudness (LUFS, EBU R128) as measured after normalisation and before it."""

    track: str
    loudness: float
    sourceLoudness: float


class RenderedVideoMetadata(VideoMetadata, total=False):
    """``videos.metadata`` as the API shows it: the spec's keys (of the main format) plus a
    storyboard's scenes, the music bed when there is one and, when several formats were asked
    for, every format."""

    scenes: list[SceneTiming]
    music: MusicMetadata
    formats: list[FormatMetadata]


MAX_SIDE = 3840
MIN_SIDE = 64

_SIZE_RE = re.compile(r"^\s*(\d{2,5})\s*[xX\u00d7]\s*(\d{2,5})\s*$")


def _even(value: float) -> int:
    # H.264 with yuv420p needs even sizes.
    return max(2, round(value / 2) * 2)


def frame_size(aspect_ratio: str, resolution: str = "1080p") -> tuple[int, int]:
    """Pixel ``(width, height)`` for an aspect ratio and a resolution.

    ``resolution`` is a tier (``"720p"``, ``"1080p"``) or ``"WxH"``. An explicit size whose
    orientation disagrees with the aspect ratio (``"1080x1920"`` for 16:9) is read as a tier
    given by its short side, so a user default of ``1080x1920`` still works for a 1:1 video.
    Raises ``ValueError`` for an unknown aspect ratio or an unreadable resolution.
    """
    if aspect_ratio not in ASPECT_RATIOS:
        raise ValueError(f"unsupported aspect ratio {aspect_ratio!r}")
    aw, ah = ASPECT_RATIOS[aspect_ratio]
    res = (resolution or "1080p").strip().lower()
    match = _SIZE_RE.match(res)
    if match:
        width, height = int(match.group(1)), int(match.group(2))
        if abs(width / height - aw / ah) < 0.02:
            return _check(_even(width), _even(height))
        short = min(width, height)
    elif res in RESOLUTION_TIERS:
        short = RESOLUTION_TIERS[res]
    elif res.endswith("p") and res[:-1].isdigit():
        short = int(res[:-1])
    else:
        raise ValueError(f"unreadable resolution {resolution!r}")
    if aw <= ah:
        return _check(_even(short), _even(short * ah / aw))
    return _check(_even(short * aw / ah), _even(short))


def _check(width: int, height: int) -> tuple[int, int]:
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValueError(f"frame size {width}x{height} out of range")
    return width, height


def resolution_tier(width: int, height: int) -> str:
    """The tier name of a frame size (its short side), e.g. ``1080x1920 -> "1080p"``."""
    return f"{min(width, height)}p"


# Share of the frame the networks' own UI covers (captions, buttons, progress bar, profile):
# (left, top, right, bottom) fractions. Vertical players (TikTok, Reels, Shorts) cover the
# bottom fifth and a column of buttons on the right; square and landscape feeds little.
SAFE_MARGINS: dict[str, tuple[float, float, float, float]] = {
    "portrait": (0.06, 0.13, 0.15, 0.22),
    "square": (0.06, 0.06, 0.06, 0.08),
    "landscape": (0.05, 0.08, 0.05, 0.12),
}


def safe_zone(width: int, height: int) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` pixels of the area text must stay in for this size."""
    ratio = width / height
    kind = "portrait" if ratio < 0.9 else ("square" if ratio <= 1.1 else "landscape")
    left, top, right, bottom = SAFE_MARGINS[kind]
    return (
        round(width * left),
        round(height * top),
        round(width * (1 - right)),
        round(height * (1 - bottom)),
    )
