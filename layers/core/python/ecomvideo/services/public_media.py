"""Public media behind opaque URLs: a shared video never shows where it is stored.

Our object keys name the owner (``users/<user_id>/videos/<video_id>/...``), and a presigned
URL carries its key in clear. Public pages therefore link to
``/v1/public/videos/{slug}/media/{kind}``, which checks the link like the page does and answers
302 to a short-lived presigned URL of a *copy* under ``public/<random>/<kind><ext>``: the random
part is drawn once per video (kept in ``videos.metadata.public_media_key``), so neither the
URL, the redirect nor the object's key relates to the owner. The copy is made on first use
(server-side ``CopyObject``), deleted with the video, and expires through the bucket's
lifecycle rule after 7 days (made again on the next view), so it never outlives the video
for long.
"""

from __future__ import annotations

import posixpath
import secrets
import uuid

from botocore.exceptions import ClientError
from sqlalchemy import text
from sqlalchemy.orm import Session

from ecomvideo.clients import aws
from ecomvideo.errors import NotFound
from ecomvideo.models import Video

PUBLIC_PREFIX = "public/"
MEDIA_URL_TTL = 300  # seconds a redirect target stays valid
KINDS = ("video", "thumbnail")
_META_KEY = "public_media_key"
_NOT_FOUND = "No such video."


def media_path(slug: str, kind: str) -> str:
    """The opaque URL the public page links to."""
    return f"/v1/public/videos/{slug}/media/{kind}"


def public_prefix(key: str) -> str:
    """Where a video's public copies live, given its ``public_media_key``."""
    return f"{PUBLIC_PREFIX}{key}/"


def _source(video: Video, kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(_NOT_FOUND)
    uri = video.video_url if kind == "video" else video.thumbnail_url
    if not uri:
        raise NotFound(_NOT_FOUND)
    return uri


def _media_key(session: Session, video_id: uuid.UUID) -> str:
    """The video's random public key, drawn once (a conditional update: concurrent first views
    agree on one)."""
    session.execute(
        text(
            "UPDATE videos SET metadata = COALESCE(metadata, '{}'::jsonb) "
            "|| jsonb_build_object(CAST(:name AS text), CAST(:value AS text)) "
            "WHERE id = :id AND NOT (COALESCE(metadata, '{}'::jsonb) ? :name)"
        ),
        {"name": _META_KEY, "value": secrets.token_hex(20), "id": video_id},
    )
    key = session.scalar(
        text("SELECT metadata->>CAST(:name AS text) FROM videos WHERE id = :id"),
        {"name": _META_KEY, "id": video_id},
    )
    return str(key)


def locate(session: Session, video: Video, kind: str) -> tuple[str, str | None]:
    """(source URI, public copy key) of ``kind``; the key is None for a source outside our
    buckets (an https URL), which is redirected to as is."""
    uri = _source(video, kind)
    try:
        _, key = aws.split_s3_uri(uri)
    except ValueError:
        return uri, None
    extension = posixpath.splitext(key)[1][:10]
    return uri, f"{public_prefix(_media_key(session, video.id))}{kind}{extension}"


def redirect_url(source_uri: str, public_key: str | None) -> str:
    """A presigned GET (``MEDIA_URL_TTL``) of the public copy, copying it first if needed."""
    if public_key is None:
        return source_uri
    bucket, key = aws.split_s3_uri(source_uri)
    s3 = aws.s3()
    try:
        s3.head_object(Bucket=bucket, Key=public_key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
        try:
            s3.copy_object(Bucket=bucket, Key=public_key, CopySource={"Bucket": bucket, "Key": key})
        except ClientError as missing:
            # The video's object is gone (deleted meanwhile): the same 404 as any other miss.
            raise NotFound(_NOT_FOUND) from missing
    return aws.presigned_get(bucket, public_key, expires_in=MEDIA_URL_TTL)


def public_key_of(video: Video) -> str | None:
    """The video's public key if it ever had public media (for deleting the copies)."""
    value = (video.meta or {}).get(_META_KEY)
    return str(value) if value else None


def public_keys_of_user(session: Session, user_id: uuid.UUID) -> list[str]:
    """The public keys of every video of ``user_id`` that ever had public media."""
    rows = session.execute(
        text(
            "SELECT metadata->>CAST(:name AS text) FROM videos "
            "WHERE user_id = :user AND metadata ? CAST(:name AS text)"
        ),
        {"name": _META_KEY, "user": user_id},
    ).scalars()
    return sorted(str(key) for key in rows if key)
