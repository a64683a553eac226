"""Where a video's files live in the videos bucket, and how they are removed.

One prefix per video, ``users/<user>/videos/<video>/``: the finished ``video.mp4`` and
``thumbnail.jpg``, and the pipeline's work files of each attempt under ``work/a<attempt>-``
(generated still, provider render, provider thumbnail). The API (delete, cancel) and the
pipeline (finalize, failed or cancelled work) both use this module, so neither imports the
other for it.
"""

from __future__ import annotations

import uuid

from ecomvideo.clients import aws
from ecomvideo.observability import logger
from ecomvideo.settings import get_settings

VIDEO_FILE, THUMBNAIL_FILE = "video.mp4", "thumbnail.jpg"


def media_prefix(user_id: uuid.UUID, video_id: uuid.UUID) -> str:
    return f"users/{user_id}/videos/{video_id}/"


def media_key(user_id: uuid.UUID, video_id: uuid.UUID, name: str) -> str:
    return media_prefix(user_id, video_id) + name


def work_prefix(user_id: uuid.UUID, video_id: uuid.UUID, attempt: int) -> str:
    """The prefix of one attempt's work files (``work/a<attempt>-...``)."""
    return media_key(user_id, video_id, f"work/a{attempt}-")


def delete_keys(bucket: str, keys: list[str]) -> None:
    """Delete ``keys`` (missing ones are fine); a failure is logged, never raised: the
    objects are then left to the orphan sweep and the bucket's lifecycle rule."""
    try:
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            aws.s3().delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
    except Exception:
        logger.warning("could not delete video objects", extra={"keys": keys[:20]})


def delete_prefix(bucket: str, prefix: str) -> None:
    """Delete every object under ``prefix`` (logged, never raised, like ``delete_keys``)."""
    s3 = aws.s3()
    try:
        paginator = s3.get_paginator("list_objects_v2")
        for listing in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys = [o["Key"] for o in listing.get("Contents", [])]
            if keys:
                delete_keys(bucket, keys)
    except Exception:
        logger.warning("deleting video objects failed", extra={"prefix": prefix})


def discard_unfinished(
    user_id: uuid.UUID, video_id: uuid.UUID, *, attempt: int | None = None, final: bool = True
) -> None:
    """Remove what an unfinished video left in the bucket.

    ``attempt`` None (cancelled, deleted: the video never runs again): everything under its
    prefix. An attempt number (that attempt failed; a retry may start a newer one at any
    moment): that attempt's work files, and with ``final`` the final names, which only a
    Completed video keeps (``final=False`` when a newer attempt may be writing them)."""
    bucket = get_settings().videos_bucket
    if attempt is None:
        delete_prefix(bucket, media_prefix(user_id, video_id))
        return
    delete_prefix(bucket, work_prefix(user_id, video_id, attempt))
    if final:
        names = (VIDEO_FILE, THUMBNAIL_FILE)
        delete_keys(bucket, [media_key(user_id, video_id, name) for name in names])
