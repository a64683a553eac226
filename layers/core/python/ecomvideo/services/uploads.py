"""The user's uploads as inputs of a video: stored under their prefix, of an allowed type and
size (checked with a HEAD), and for a music bed decoded (PyAV) before any credit is held.

Used at create and quote (``videos.preparation``) and by a storyboard edit that changes the
music (``storyboards.edit``), so it sits below both.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ecomvideo.clients import aws
from ecomvideo.errors import ServiceUnavailable, invalid_field
from ecomvideo.settings import get_settings

if TYPE_CHECKING:  # the storyboards (pipeline worker) import this module, not the API models
    from ecomvideo.schemas import videos as schemas

AUDIO_MAX_BYTES = 20 * 1024 * 1024
AUDIO_TYPES = {
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/aac": "aac",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
}


def upload_prefix(user_id: uuid.UUID) -> str:
    return f"users/{user_id}/"


def stored_upload(
    user_id: uuid.UUID, key: str, field_name: str, types: dict[str, str], most: int, what: str
) -> tuple[str, str]:
    """(bucket, key) of one of the user's uploads, checked to exist with one of ``types`` and
    at most ``most`` bytes (``what`` says which in the 422)."""
    key = key.strip()
    if not key.startswith(upload_prefix(user_id)) or ".." in key:
        raise invalid_field(field_name, "unknown upload")
    bucket = get_settings().uploads_bucket
    try:
        head = aws.s3().head_object(Bucket=bucket, Key=key)
    except Exception as exc:  # botocore ClientError (404) or a transport error
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in {"404", "NoSuchKey", "NotFound", "403"}:
            raise invalid_field(field_name, "the upload was not found; PUT the file first") from exc
        raise ServiceUnavailable("Storage is not reachable; try again.") from exc
    if head.get("ContentType") not in types or head.get("ContentLength", 0) > most:
        raise invalid_field(field_name, f"the upload must be {what}")
    return bucket, key


def music_choice(
    user_id: uuid.UUID, choice: schemas.MusicChoice | None, field_name: str = "music"
) -> dict[str, str] | None:
    """The storyboard's ``music`` for a request's choice: a bundled track that exists, or one
    of the user's audio uploads that decodes (PyAV, not its content type) to at least 1 s."""
    if choice is None:
        return None
    if choice.track is not None:
        from ecomvideo.media.music import BY_ID  # lazy: only requests with a track read it

        if choice.track not in BY_ID:
            raise invalid_field(f"{field_name}/track", "unknown track; see GET /v1/music/tracks")
        return {"track": choice.track}
    pointer = f"{field_name}/upload_key"
    bucket, key = stored_upload(
        user_id,
        choice.upload_key or "",
        pointer,
        AUDIO_TYPES,
        AUDIO_MAX_BYTES,
        "an MP3, M4A/AAC, WAV or Ogg audio file up to 20 MB",
    )
    # lazy: PyAV loads only when a music upload is checked
    from ecomvideo.media.audio import AudioError, check_music

    try:
        data = aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise ServiceUnavailable("Storage is not reachable; try again.") from exc
    try:
        check_music(data)
    except AudioError as exc:
        raise invalid_field(pointer, f"the upload is not usable audio: {exc}") from exc
    return {"upload_key": key}
