"""Read an MP4's real properties (PyAV) into the spec's VideoMetadata JSON.

Values come from the container and stream as written, never from what was requested, so
``videos.metadata`` describes the file we actually store (also for provider-made videos).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from ecomvideo.media.formats import VideoMetadata
from ecomvideo.media.images import MediaError

_QUICKTIME_BRANDS = {"qt"}


def probe(source: bytes | str | os.PathLike[str]) -> VideoMetadata:
    """Metadata of an MP4 given as bytes or a path.

    ``duration`` is seconds (3 decimals) from the video stream, falling back to the container;
    ``bitrate`` is the container's overall bit rate in bit/s (computed from size and duration
    when the muxer did not record one); ``frameRate`` is the stream's average rate.
    Raises ``MediaError`` if the data is not a readable video.
    """
    import av  # heavy: imported only when a video is actually probed

    if isinstance(source, bytes | bytearray):
        size = len(source)
        handle: io.BytesIO | str = io.BytesIO(source)
    else:
        path = Path(source)
        size = path.stat().st_size
        handle = str(path)
    try:
        with av.open(handle, "r") as container:
            streams = container.streams.video
            if not streams:
                raise MediaError("the file has no video stream")
            stream = streams[0]
            ctx = stream.codec_context
            duration = 0.0
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            if duration <= 0 and container.duration is not None:
                duration = container.duration / 1_000_000
            rate = stream.average_rate or stream.base_rate or stream.guessed_rate
            bitrate = int(container.bit_rate or 0)
            if not bitrate and duration > 0:
                bitrate = int(size * 8 / duration)
            brand = str(container.metadata.get("major_brand", "")).strip().lower()
            fmt = container.format.name
            if "mp4" in fmt.split(","):
                fmt = "mov" if brand in _QUICKTIME_BRANDS else "mp4"
            return {
                "width": int(ctx.width),
                "height": int(ctx.height),
                "frameRate": round(float(rate), 3) if rate else 0.0,
                "format": fmt,
                "codec": ctx.name,
                "bitrate": bitrate,
                "duration": round(duration, 3),
                "fileSize": size,
            }
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError("the file is not a readable video") from exc
