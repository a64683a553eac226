"""Music beds through the real handlers: the bundled tracks list, audio uploads, and the 422s
at create (before any credit is held) for a music choice that cannot be used."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from ecomvideo.media import music
from ecomvideo.models import Video
from ecomvideo.services import credits
from tests.support.factories import make_grant, make_user
from tests.support.pipeline_stack import PipelineStack, call
from tests.unit.media.helpers_media import photo_bytes, tone_file

TEXT = {
    "input_type": "Text",
    "text_prompt": "Bright sneakers on a beach",
    "duration_seconds": 5,
    "resolution": "180x320",
}
JUNK = b"ID3" + b"\0" * 999  # claims to be an MP3, decodes to nothing


def test_the_bundled_tracks_are_listed_for_a_signed_in_user(session):
    user = make_user(session)
    status, body, _ = call("catalog", "GET", "/v1/music/tracks", user_id=user.id)
    assert status == 200, body
    assert [t["id"] for t in body["items"]] == [t.id for t in music.TRACKS]
    first = body["items"][0]
    assert set(first) == {"id", "name", "mood", "bpm", "duration_seconds"}
    assert all(8 <= t["duration_seconds"] <= 16 for t in body["items"])
    assert len({t["mood"] for t in body["items"]}) >= 2


def test_audio_uploads_get_a_ticket_with_their_own_size_limit(session, stack: PipelineStack):
    user = make_user(session)

    def ticket(content_type: str, size: int):
        body = {"content_type": content_type, "size_bytes": size}
        return call("videos", "POST", "/v1/uploads", user_id=user.id, body=body)

    status, mp3, _ = ticket("audio/mpeg", 15_000_000)  # more than an image may be
    assert status == 201, mp3
    assert mp3["upload_key"].endswith(".mp3") and mp3["max_bytes"] == 20 * 1024 * 1024
    assert ticket("audio/mp4", 1000)[1]["upload_key"].endswith(".m4a")
    assert ticket("audio/mpeg", 30_000_000)[0] == 422
    assert ticket("audio/flac", 1000)[0] == 422
    assert ticket("image/png", 15_000_000)[0] == 422


def _put(stack: PipelineStack, user_id, data: bytes, content_type: str) -> str:
    key = f"users/{user_id}/{uuid.uuid4().hex}"
    stack.s3.put_object(Bucket=stack.uploads_bucket, Key=key, Body=data, ContentType=content_type)
    return key


@pytest.mark.parametrize(
    ("case", "pointer", "words"),
    [
        ("unknown_track", "/music/track", "unknown track"),
        ("missing", "/music/upload_key", "not found"),
        ("foreign", "/music/upload_key", "unknown upload"),
        ("image", "/music/upload_key", "audio file"),
        ("undecodable", "/music/upload_key", "not usable audio"),
        ("picture_as_mp3", "/music/upload_key", "not usable audio"),
        ("too_short", "/music/upload_key", "at least 1 s"),
    ],
)
def test_unusable_music_is_a_422_at_create_and_nothing_is_held(
    session, stack: PipelineStack, case, pointer, words
):
    user = make_user(session)
    make_grant(session, user, 10)
    choice = {
        "unknown_track": lambda: {"track": "no-such-track"},
        "missing": lambda: {"upload_key": f"users/{user.id}/nothing-here.mp3"},
        "foreign": lambda: {"upload_key": f"users/{uuid.uuid4()}/song.mp3"},
        "image": lambda: {"upload_key": _put(stack, user.id, photo_bytes(), "image/png")},
        "undecodable": lambda: {"upload_key": _put(stack, user.id, JUNK, "audio/mpeg")},
        "picture_as_mp3": lambda: {"upload_key": _put(stack, user.id, photo_bytes(), "audio/mpeg")},
        "too_short": lambda: {
            "upload_key": _put(stack, user.id, tone_file(0.3, 0.5, fmt="mp3"), "audio/mpeg")
        },
    }[case]()
    body = {**TEXT, "music": choice}

    for route in ("/v1/videos/quote", "/v1/videos"):
        status, problem, headers = call("videos", "POST", route, user_id=user.id, body=body)
        assert status == 422, problem
        assert headers["Content-Type"].startswith("application/problem+json")
        assert problem["errors"][0]["pointer"] == pointer and words in problem["detail"]
    assert credits.balance(session, user.id) == 10
    assert session.scalars(select(Video).where(Video.user_id == user.id)).all() == []


def test_music_needs_exactly_one_source(session, stack: PipelineStack):
    user = make_user(session)
    make_grant(session, user, 10)
    for choice in ({}, {"track": "bright-pop", "upload_key": f"users/{user.id}/a.mp3"}):
        body = {**TEXT, "music": choice}
        assert call("videos", "POST", "/v1/videos", user_id=user.id, body=body)[0] == 422
    assert credits.balance(session, user.id) == 10


def test_a_wav_or_m4a_upload_of_a_few_seconds_is_accepted(session, stack: PipelineStack):
    user = make_user(session)
    make_grant(session, user, 10)
    for fmt, content_type in (("wav", "audio/wav"), ("ipod", "audio/mp4")):
        key = _put(stack, user.id, tone_file(0.3, 2.0, fmt=fmt), content_type)
        body = {**TEXT, "music": {"upload_key": key}}
        status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
        assert status == 202, accepted
        video = session.get(Video, uuid.UUID(accepted["id"]))
        assert video.meta["request"]["music"] == {"upload_key": key}
