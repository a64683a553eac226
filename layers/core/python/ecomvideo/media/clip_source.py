"""A generated clip as the media of a storyboard scene: its decoded frames, fitted to a length.

A provider's image-to-video clip (Freepik's Kling) becomes the hero scene of the storyboard
(``media.storyboard``: ``media == "generated_clip"``); the storyboard renderer asks this module
which clip frame each output frame shows and for that frame's picture.

Fitting rule (docs/decisions.md, "A generated clip in a storyboard scene"): the scene plays the
clip from its first frame at its own speed. A clip longer than the scene is *trimmed* (its end
is not shown); a clip shorter than the scene *holds its last frame* for the rest of the scene.
Output frame ``i`` (at ``i / fps`` seconds into the scene) shows the last clip frame whose
timestamp is at or before that time, so clip and output frame rates may differ (24 -> 30 fps
repeats some frames). Never slowed down (judder) nor played backwards (ping-pong: reversed
motion of people, liquids or fabric looks wrong).

``ClipSource.open`` decodes the whole clip once to check it (a clip that does not decode is
refused there, with ``ClipError``, before any scene is rendered: the renderer then falls back to
the scene's photo) and keeps only the encoded bytes, the frame times and the first frame; a
``ClipReader`` decodes forward on demand, so memory stays at a frame or two whatever the length.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ecomvideo.media.images import MediaError

MAX_FRAMES = 3600  # 60 s at 60 fps: more is not a provider clip
MAX_SIDE = 4096


class ClipError(MediaError):
    """The clip cannot be used (not a video, no frames, too large)."""


@dataclass(frozen=True, eq=False)
class ClipSource:
    """A decoded-once, checked clip: its bytes, frame times (seconds) and first frame."""

    data: bytes = field(repr=False)
    times: tuple[float, ...]
    width: int
    height: int
    poster: Image.Image = field(repr=False)
    digest: str
    # What the scene shows: the provider's clip, or (``still``) the image it was made from.
    kind: str = "generated_clip"

    @classmethod
    def still(cls, data: bytes) -> ClipSource:
        """A one-frame "clip" of the still the clip was made from: the clip scene's stand-in
        when the clip is unusable and the scene has no photo (a Text video's generated image).
        Raises ``ClipError`` when it is not a readable image."""
        from ecomvideo.media.images import load_image

        try:
            image = load_image(data).image.convert("RGB")
        except MediaError as exc:
            raise ClipError(f"the still cannot be read: {exc}") from exc
        return cls(
            data=data,
            times=(0.0,),
            width=image.width,
            height=image.height,
            poster=image,
            digest=hashlib.blake2b(data, digest_size=16).hexdigest(),
            kind="generated_image",
        )

    @classmethod
    def open(cls, data: bytes) -> ClipSource:
        """Check ``data`` by decoding every frame; raises ``ClipError`` when unusable."""
        import av  # heavy: only where a clip is rendered

        if not data:
            raise ClipError("the clip is empty")
        times: list[float] = []
        poster: Image.Image | None = None
        try:
            with av.open(io.BytesIO(data), "r") as container:
                if not container.streams.video:
                    raise ClipError("the clip has no video stream")
                stream = container.streams.video[0]
                rate = float(stream.average_rate or stream.guessed_rate or 24)
                for frame in container.decode(stream):
                    if len(times) >= MAX_FRAMES:
                        raise ClipError(f"the clip has more than {MAX_FRAMES} frames")
                    if frame.width > MAX_SIDE or frame.height > MAX_SIDE:
                        raise ClipError(f"the clip is {frame.width}x{frame.height}")
                    at = frame.time
                    times.append(float(at) if at is not None else len(times) / rate)
                    if poster is None:
                        poster = frame.to_image().convert("RGB")
        except ClipError:
            raise
        except Exception as exc:  # PyAV raises many types (InvalidDataError, ValueError, ...)
            raise ClipError(f"the clip cannot be decoded: {type(exc).__name__}") from exc
        if poster is None:
            raise ClipError("the clip has no frames")
        start = times[0]
        relative = tuple(max(0.0, t - start) for t in times)
        if any(b < a for a, b in itertools.pairwise(relative)):
            relative = tuple(i / rate for i in range(len(relative)))  # pts out of order: by rate
        return cls(
            data=data,
            times=relative,
            width=poster.width,
            height=poster.height,
            poster=poster,
            digest=hashlib.blake2b(data, digest_size=16).hexdigest(),
        )

    @property
    def frame_seconds(self) -> float:
        """The length of one frame (the median gap between frame times; 1/24 s for one)."""
        gaps = sorted(b - a for a, b in itertools.pairwise(self.times))
        return gaps[len(gaps) // 2] if gaps and gaps[len(gaps) // 2] > 0 else 1 / 24

    @property
    def duration(self) -> float:
        return round(self.times[-1] + self.frame_seconds, 6)

    def fit(self, n: int, fps: int) -> list[int]:
        """The clip frame shown by each of ``n`` output frames at ``fps`` (the module's rule:
        from the start at the clip's speed, trimmed when longer, last frame held when shorter).
        """
        # A hair of tolerance: 30 fps output times and 24 fps clip times are both rounded.
        return [max(0, bisect.bisect_right(self.times, i / fps + 1e-6) - 1) for i in range(n)]

    def reader(self) -> ClipReader:
        return ClipReader(self)

    def fitted(
        self, n: int, fps: int, size: tuple[int, int], center: tuple[float, float]
    ) -> FittedClip:
        """The clip as the ``n`` frames of a scene at ``fps`` in an area of ``size``."""
        return FittedClip(self, n, fps, size, center)


class FittedClip:
    """A scene's pictures from a clip: output frame ``i`` shows clip frame ``fit(n, fps)[i]``,
    covering ``size`` cropped around ``center`` (fractions of the frame: the subject of the
    clip's first frame, so one crop holds for the whole scene and nothing jitters). Scaled
    bilinearly per clip frame (a new picture every frame, unlike a photo scaled once)."""

    def __init__(
        self,
        clip: ClipSource,
        n: int,
        fps: int,
        size: tuple[int, int],
        center: tuple[float, float],
    ) -> None:
        self.indexes = clip.fit(n, fps)
        self.reader = clip.reader()
        self.size = size
        w, h = size
        scale = max(w / clip.width, h / clip.height)
        cw, ch = w / scale, h / scale
        left = max(0.0, min(center[0] * clip.width - cw / 2, clip.width - cw))
        top = max(0.0, min(center[1] * clip.height - ch / 2, clip.height - ch))
        self.crop = (left, top, left + cw, top + ch)
        self._last: tuple[int, Image.Image] | None = None
        self._lock = threading.Lock()

    def picture(self, i: int) -> Image.Image:
        """Output frame ``i``'s picture; the same object while the clip frame repeats (do not
        modify it). Thread-safe (see ``ClipReader``)."""
        index = self.indexes[max(0, min(i, len(self.indexes) - 1))]
        with self._lock:
            if self._last is None or self._last[0] != index:
                frame = self.reader.frame(index)
                picture = frame.resize(self.size, Image.Resampling.BILINEAR, box=self.crop)
                self._last = (index, picture)
            return self._last[1]


class ClipReader:
    """The pictures of a clip's frames, decoded forward; an earlier frame re-opens the clip.

    A scene's frames are asked in order, but with per-scene segments the next scene's encoder
    (another thread) also asks this scene for its last frame, so every call holds a lock: the
    decoder is never read and closed at once (PyAV would crash), and a jump back re-opens it.
    """

    def __init__(self, clip: ClipSource) -> None:
        self._lock = threading.Lock()
        self.clip = clip
        self._container: Any = None
        self._frames: Any = None
        self._index = -1
        self._frame: Any = None
        self._image: tuple[int, Image.Image] | None = None

    def _restart(self) -> None:
        import av  # heavy: only where a clip is rendered

        self.close()
        self._container = av.open(io.BytesIO(self.clip.data), "r")
        self._frames = self._container.decode(self._container.streams.video[0])
        self._index = -1

    def frame(self, index: int) -> Image.Image:
        """The picture of clip frame ``index`` (RGB, the clip's size); do not modify it."""
        with self._lock:
            return self._frame_at(index)

    def _frame_at(self, index: int) -> Image.Image:
        index = max(0, min(index, len(self.clip.times) - 1))
        if self._image is not None and self._image[0] == index:
            return self._image[1]
        if index == 0:
            return self.clip.poster
        if self._frames is None or index < self._index:
            self._restart()
        while self._index < index:
            self._frame = next(self._frames)
            self._index += 1
        image = self._frame.to_image().convert("RGB")
        self._image = (index, image)
        if index == len(self.clip.times) - 1:
            self.close()  # the last frame stays cached; nothing more to decode
        return image

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = self._frames = None
        self._index = -1
