"""Several formats per video: one storyboard, one render per aspect ratio.

A request lists ``formats`` (9:16, 1:1, 16:9, 4:5). The main one (``videos.aspect_ratio``) is
made by the video step like any video; every other one is composed from the same storyboard by
the Local storyboard renderer in the Finalize step, at the main format's short side
(1080x1920 -> 1080x1080 and 1920x1080), and stored beside the main file (``video-1x1.mp4``,
``thumbnail-1x1.jpg``). ``videos.metadata["formats"]`` then describes every format, the main
one first: size, duration, file size and the scenes' timings in that file.

Resumable per format: a rendered format's description is written last, as a work file
(``work/a<attempt>-format-1x1.json``); a retried Finalize step reuses every format whose
description exists and renders only the others.

Credits: the main format is quoted as before (duration, resolution, provider); each extra format
adds a Local render of the same duration at its own size. A provider's surcharge is paid once.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ecomvideo.clients import aws
from ecomvideo.enums import VideoStatus
from ecomvideo.media.formats import frame_size
from ecomvideo.models import Video
from ecomvideo.services import media_store, pricing
from ecomvideo.services.scene_segments import S3Segments, read_optional
from ecomvideo.settings import get_settings

if TYPE_CHECKING:
    from ecomvideo.schemas import videos as schemas

FORMATS_KEY = "formats"
URL_TTL = 3600


def wanted(main: str, formats: Iterable[str] | None) -> list[str]:
    """Every format of a request, the main one first, each once."""
    out = [main]
    out += [f for f in dict.fromkeys(formats or ()) if f != main]
    return out


def requested(video: Video) -> list[str]:
    """The formats a video was created with (the main one alone for most videos)."""
    request = (video.meta or {}).get("request") or {}
    return wanted(video.aspect_ratio, request.get(FORMATS_KEY))


def cost(
    session: Session, *, duration_seconds: int, resolution: str, provider: str, formats: list[str]
) -> int:
    """Credits for every format: the main one as quoted alone, plus a Local render of the same
    duration per extra format at its size."""
    total = pricing.quote(
        session, duration_seconds=duration_seconds, resolution=resolution, provider=provider
    )
    for ratio in formats[1:]:
        width, height = frame_size(ratio, resolution)
        size = f"{width}x{height}"
        total += pricing.quote(
            session, duration_seconds=duration_seconds, resolution=size, provider="Local"
        )
    return total


def video_cost(session: Session, video: Video) -> int:
    """What a new attempt of ``video`` costs (every format it was created with)."""
    return cost(
        session,
        duration_seconds=video.duration_seconds,
        resolution=video.resolution,
        provider=video.ai_provider or "Local",
        formats=requested(video),
    )


def slug(ratio: str) -> str:
    """The format in file names: ``1:1`` -> ``1x1``."""
    return ratio.replace(":", "x")


def _work_key(video: Video, attempt: int, ratio: str) -> str:
    return media_store.media_key(
        video.user_id, video.id, f"work/a{attempt}-format-{slug(ratio)}.json"
    )


def work_keys(video: Video, attempt: int) -> list[str]:
    """The per-format work files of an attempt (deleted once the video is complete)."""
    return [_work_key(video, attempt, ratio) for ratio in requested(video)[1:]]


def _read_json(bucket: str, key: str) -> dict[str, Any] | None:
    body = read_optional(bucket, key)
    return json.loads(body) if body is not None else None


def render_extras(
    video: Video,
    attempt: int,
    storyboard: Callable[[Any], tuple[dict[str, Any] | None, tuple[bytes, ...], Any]],
    put: Callable[[str, bytes, str], None],
    clip: bytes | None = None,
    clip_still: bytes | None = None,
) -> list[dict[str, Any]]:
    """Render (or reuse, when an earlier try rendered it) every extra format of the video.

    ``storyboard(provider)`` gives the storyboard, its photos and music, ``put(key, body, type)``
    stores a file (the pipeline's, which refuses once the video is no longer active), ``clip``
    is the provider's generated clip its hero scene shows (cropped for each format), and
    ``clip_still`` the still it was made from (that scene's stand-in without a photo)."""
    extras = requested(video)[1:]
    if not extras:
        return []
    # lazy: the API imports this module for quotes; PyAV and the renderers are worker-only
    from ecomvideo.media.probe import probe
    from ecomvideo.providers import VideoRequest, get_provider

    local = get_provider("Local")
    bucket = get_settings().videos_bucket
    entries: list[dict[str, Any]] = []
    board: tuple[dict[str, Any] | None, tuple[bytes, ...], Any] | None = None
    for ratio in extras:
        done = _read_json(bucket, _work_key(video, attempt, ratio))
        if done is not None:
            entries.append(done)
            continue
        if board is None:
            board = storyboard(local)
        width, height = frame_size(ratio, video.resolution)
        result = local.start_video(
            VideoRequest(
                storyboard=board[0],
                images=board[1],
                prompt=video.text_prompt,
                duration_seconds=float(video.duration_seconds),
                aspect_ratio=ratio,
                width=width,
                height=height,
                title=video.title,
                style=video.style,
                reference=f"{video.id}:{attempt}:{slug(ratio)}",
                segments=S3Segments(video),
                clip=clip,
                clip_still=clip_still,
                music=board[2],  # every format gets the same bed
            )
        )
        mp4 = bytes(result.asset or b"")
        with tempfile.TemporaryDirectory(prefix="format-") as tmp:
            path = Path(tmp) / "video.mp4"
            path.write_bytes(mp4)
            info = probe(path)
        video_key = media_store.media_key(video.user_id, video.id, f"video-{slug(ratio)}.mp4")
        thumb_key = media_store.media_key(video.user_id, video.id, f"thumbnail-{slug(ratio)}.jpg")
        put(video_key, mp4, "video/mp4")
        if result.thumbnail:
            put(thumb_key, bytes(result.thumbnail), "image/jpeg")
        entry = {
            "aspectRatio": ratio,
            "width": info["width"],
            "height": info["height"],
            "duration": info["duration"],
            "fileSize": info["fileSize"],
            "scenes": list(result.metadata.get("scenes") or []),
            "videoUrl": f"s3://{bucket}/{video_key}",
            "thumbnailUrl": f"s3://{bucket}/{thumb_key}" if result.thumbnail else None,
        }
        put(_work_key(video, attempt, ratio), json.dumps(entry).encode(), "application/json")
        entries.append(entry)
    return entries


def record(video: Video, extras: list[dict[str, Any]]) -> None:
    """Describe every format in the completed video's metadata (the main one first)."""
    if not extras:
        return
    meta = dict(video.meta or {})
    main = {
        "aspectRatio": video.aspect_ratio,
        "width": meta.get("width"),
        "height": meta.get("height"),
        "duration": meta.get("duration"),
        "fileSize": meta.get("fileSize"),
        "scenes": list(meta.get("scenes") or []),
        "videoUrl": video.video_url,
        "thumbnailUrl": video.thumbnail_url,
    }
    video.meta = {**meta, FORMATS_KEY: [main, *extras]}


def rendered_uri(meta: dict[str, Any] | None, ratio: str) -> str | None:
    """The stored file of format ``ratio`` of a completed video, None when not rendered."""
    for entry in (meta or {}).get(FORMATS_KEY) or []:
        if entry.get("aspectRatio") == ratio and entry.get("videoUrl"):
            return str(entry["videoUrl"])
    return None


def _presign(uri: str | None) -> str | None:
    if not uri or not uri.startswith("s3://"):
        return uri
    return aws.presigned_get(*aws.split_s3_uri(uri), expires_in=URL_TTL)


def outputs(video: Video) -> list[schemas.FormatOut]:
    """Every rendered format of a Completed video with presigned download/thumbnail URLs."""
    # lazy: the API's response models; the pipeline worker uses this module without them
    from ecomvideo.schemas import videos as schemas

    if video.status is not VideoStatus.COMPLETED or not video.video_url:
        return []
    meta = video.meta or {}
    formats = meta.get(FORMATS_KEY) or [
        {
            "aspectRatio": video.aspect_ratio,
            "width": meta.get("width") or 0,
            "height": meta.get("height") or 0,
            "fileSize": video.file_size_bytes or 0,
            "videoUrl": video.video_url,
            "thumbnailUrl": video.thumbnail_url,
        }
    ]
    return [
        schemas.FormatOut(
            aspect_ratio=f["aspectRatio"],
            width=int(f.get("width") or 0),
            height=int(f.get("height") or 0),
            download_url=_presign(f["videoUrl"]) or "",
            thumbnail_url=_presign(f.get("thumbnailUrl")),
            file_size_bytes=int(f.get("fileSize") or 0),
        )
        for f in formats
    ]
