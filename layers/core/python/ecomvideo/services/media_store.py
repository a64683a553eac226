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


class StorageError(RuntimeError):
    """S3 refused to delete some objects (``remove_keys``): the caller retries."""


def remove_keys(bucket: str, keys: list[str]) -> int:
    """Delete ``keys`` (up to 1,000 per request; missing keys are fine); returns how many were
    asked for. Raises on any failure, also per-key errors that S3 reports in a 200 answer."""
    s3 = aws.s3()
    for i in range(0, len(keys), 1000):
        chunk = keys[i : i + 1000]
        answer = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
        )
        if errors := answer.get("Errors"):
            codes = sorted({str(e.get("Code")) for e in errors})
            raise StorageError(f"{len(errors)} of {len(chunk)} objects not deleted: {codes}")
    return len(keys)


def remove_prefix(
    bucket: str, prefix: str, *, max_objects: int | None = None, page_size: int = 1000
) -> tuple[int, bool]:
    """Delete the objects under ``prefix`` page by page (a listing page, then one
    DeleteObjects), stopping once ``max_objects`` are deleted: (objects deleted, whether the
    prefix is now empty). Raises on any failure; running it again continues where it stopped
    (what was deleted is no longer listed)."""
    s3 = aws.s3()
    deleted = 0
    paginator = s3.get_paginator("list_objects_v2")
    pages = paginator.paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
    )
    for listing in pages:
        keys = [o["Key"] for o in listing.get("Contents", [])]
        deleted += remove_keys(bucket, keys)
        if max_objects is not None and deleted >= max_objects and listing.get("IsTruncated"):
            return deleted, False
    return deleted, True


def delete_keys(bucket: str, keys: list[str]) -> None:
    """Delete ``keys`` (missing ones are fine); a failure is logged, never raised: the
    objects are then left to the orphan sweep and the bucket's lifecycle rule."""
    try:
        remove_keys(bucket, keys)
    except Exception:
        logger.warning("could not delete video objects", extra={"keys": keys[:20]})


def delete_prefix(bucket: str, prefix: str) -> None:
    """Delete every object under ``prefix`` (logged, never raised, like ``delete_keys``)."""
    try:
        remove_prefix(bucket, prefix)
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
