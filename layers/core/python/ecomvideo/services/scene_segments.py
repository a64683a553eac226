"""Scene segments of a video's renders, kept in S3 between tries (``media.segments``).

The Local renderer encodes each storyboard scene on its own and keeps it under the video's
``work/segments/`` prefix, keyed by everything its frames depend on. A video step retried after
a failed scene, a retry after a failure, or an extra format's render reuses every scene already
encoded; the segments are deleted once the video is complete (and with the video).
"""

from __future__ import annotations

from typing import Any

from ecomvideo.clients import aws
from ecomvideo.models import Video
from ecomvideo.services import media_store
from ecomvideo.settings import get_settings


def read_optional(bucket: str, key: str) -> bytes | None:
    """The object's bytes, or ``None`` when there is no such object (other errors raise)."""
    try:
        return bytes(aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read())
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in {"NoSuchKey", "404"}:
            return None
        raise


def _prefix(video: Video) -> str:
    return media_store.media_key(video.user_id, video.id, "work/segments/")


class S3Segments:
    """A ``media.segments.SegmentStore`` under the video's work prefix."""

    def __init__(self, video: Video) -> None:
        self.bucket = get_settings().videos_bucket
        self.prefix = _prefix(video)

    def get(self, key: str) -> bytes | None:
        return read_optional(self.bucket, f"{self.prefix}{key}.mp4")

    def put(self, key: str, data: bytes) -> None:
        aws.s3().put_object(
            Bucket=self.bucket, Key=f"{self.prefix}{key}.mp4", Body=data, ContentType="video/mp4"
        )


def keys(video: Video) -> list[str]:
    """Every stored segment of the video (to delete once it is complete)."""
    bucket, prefix = get_settings().videos_bucket, _prefix(video)
    found: list[str] = []
    paginator: Any = aws.s3().get_paginator("list_objects_v2")
    for listing in paginator.paginate(Bucket=bucket, Prefix=prefix):
        found += [item["Key"] for item in listing.get("Contents", [])]
    return found
