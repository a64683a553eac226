"""Scene segments: each scene of a storyboard encoded on its own, kept, and joined.

A segment is a video-only H.264 MP4 of one scene. Its key is a hash of everything its frames
depend on: the scene, the scene before it (transitions blend from its last frame), the photos
and the generated clip both show (by content), the frame size, rate and encoder settings, the
palette, the scene's frame count and the fade-out of the last scene, and ``VERSION`` (bumped
when drawing changes).
So a stored segment is only ever reused for identical frames: after a failure the scenes
already encoded are not rendered again, and after a text edit only the edited scene (and the
one after it, which blends from it) is.

``concat`` joins segments by copying their packets with shifted timestamps (no re-encoding;
every segment starts with a keyframe and has the same encoder settings) and writes one AAC
track for the whole length: silence, or the music bed (``media.audio``), so the sound runs on
across scene joins.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PIL import Image

    from ecomvideo.media.audio import MusicBed
    from ecomvideo.media.design import Palette
    from ecomvideo.media.render import RenderSpec
    from ecomvideo.media.storyboard import Storyboard

VERSION = "3"  # 2: moving scenes composed in YUV; 3: Ken Burns windows scaled by swscale


class SegmentStore(Protocol):
    """Where encoded scenes are kept between tries (S3 in the pipeline, a dict in tests)."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


class MemorySegments(dict[str, bytes]):
    """A ``SegmentStore`` in memory (tests, benchmarks)."""

    def put(self, key: str, data: bytes) -> None:
        self[key] = data


def picture_digest(img: Image.Image) -> str:
    """A digest of a photo's pixels (what the scene draws from it)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{img.mode}{img.size}".encode())
    digest.update(img.tobytes())
    return digest.hexdigest()


def scene_key(
    board: Storyboard,
    k: int,
    counts: list[int],
    spec: RenderSpec,
    palette: Palette,
    digests: dict[int, str],
    *,
    fade: int,
    clip: str | None = None,
) -> str:
    """The key of scene ``k``'s segment (see the module's docstring); ``clip`` is the digest
    of the generated clip a ``generated_clip`` scene shows (``None``: it shows its photo)."""

    def scene(i: int) -> dict[str, Any] | None:
        if i < 0:
            return None
        data = dataclasses.asdict(board.scenes[i])
        data["picture"] = digests.get(data["image"]) if data["image"] is not None else None
        if data.get("media") == "generated_clip":
            data["clip"] = clip
        data["frames"] = counts[i]
        return data

    parts = {
        "version": VERSION,
        "scene": scene(k),
        "previous": scene(k - 1),
        "size": [spec.width, spec.height],
        "fps": spec.fps,
        "encoder": [spec.preset, spec.crf, spec.x264_params],
        "palette": dataclasses.asdict(palette),
        "fade": fade,
    }
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=20).hexdigest()


def concat(parts: list[bytes], fps: int, *, audio: bool | MusicBed = True) -> bytes:
    """One MP4 of the segments ``parts`` in order (their packets copied, not re-encoded),
    with a stereo AAC track of the same length: the music bed given, silence for ``True``."""
    import io

    import av

    from ecomvideo.media.audio import audio_track

    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = None
            sound = None
            offset = 0  # frames written so far
            for data in parts:
                with av.open(io.BytesIO(data), "r") as part:
                    source = part.streams.video[0]
                    if stream is None:
                        stream = out.add_stream_from_template(source)
                        sound = audio_track(out, audio)
                    frames = 0
                    for packet in part.demux(source):
                        if packet.dts is None:  # the demuxer's flush packet
                            continue
                        shift = int(offset / fps / source.time_base)
                        packet.pts = (packet.pts or 0) + shift
                        packet.dts = packet.dts + shift
                        packet.stream = stream
                        out.mux(packet)
                        frames += 1
                offset += frames
                if sound is not None:
                    sound.until(offset / fps)
            if sound is not None:
                sound.flush()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)
