"""JPEG thumbnails of videos we did not render ourselves (provider MP4s)."""

from __future__ import annotations

import io

from ecomvideo.media.images import MediaError, encode_jpeg

THUMBNAIL_MAX = (540, 960)


def thumbnail_from_video(mp4: bytes, *, at_fraction: float = 0.4) -> bytes:
    """JPEG of the frame at ``at_fraction`` of the video's duration, at most 540x960 (or
    960x540 for landscape), same aspect as the video. Raises ``MediaError`` if no frame
    can be decoded."""
    import av  # heavy: only when a thumbnail is actually made

    try:
        with av.open(io.BytesIO(mp4), "r") as container:
            if not container.streams.video:
                raise MediaError("the file has no video stream")
            stream = container.streams.video[0]
            target = None
            if stream.duration and stream.time_base:
                target = int(stream.duration * at_fraction)
                container.seek(target, stream=stream, backward=True, any_frame=False)
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
                if target is None or frame.pts is None or frame.pts >= target:
                    break
            if chosen is None:
                raise MediaError("the video has no decodable frame")
            img = chosen.to_image()
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError("the file is not a readable video") from exc
    box = THUMBNAIL_MAX if img.height >= img.width else (THUMBNAIL_MAX[1], THUMBNAIL_MAX[0])
    return encode_jpeg(img, quality=85, max_size=box)
