"""A music bed through the real handlers: chosen at create, kept in the storyboard, mixed by the
worker under every format at -14 LUFS, recorded in ``metadata.music``; it costs no credits.

moto runs the real state machine; the real worker handler renders with the real Local provider.
"""

from __future__ import annotations

import io
import uuid

import av
import pytest

from ecomvideo.enums import VideoStatus
from ecomvideo.media import audio
from ecomvideo.models import Video
from ecomvideo.services import credits
from tests.support.factories import make_grant, make_user
from tests.support.pipeline_stack import PipelineStack, call
from tests.unit.media.helpers_media import decode_audio, rms, tone_file

TEXT = {
    "input_type": "Text",
    "title": "Walnut desk lamp",
    "text_prompt": "A walnut desk lamp with a warm dimmable LED, only $49",
    "duration_seconds": 5,
    "resolution": "180x320",
}
AAC_FRAME = 1024 / 48000


def _video(session, video_id) -> Video:
    session.expire_all()
    return session.get(Video, uuid.UUID(str(video_id)))


def _s3_bytes(stack: PipelineStack, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _audio_upload(stack: PipelineStack, user_id, data: bytes, content_type="audio/mpeg") -> str:
    key = f"users/{user_id}/{uuid.uuid4().hex}.mp3"
    stack.s3.put_object(Bucket=stack.uploads_bucket, Key=key, Body=data, ContentType=content_type)
    return key


def _check_bed(mp4: bytes) -> None:
    """The file's sound: the bed at -14 LUFS, as long as the video, faded at both ends."""
    sound = decode_audio(mp4)
    with av.open(io.BytesIO(mp4)) as container:
        video = container.streams.video[0]
        seconds = float(video.duration * video.time_base)
    assert sound.loudness == pytest.approx(audio.TARGET_LUFS, abs=1)
    assert abs(sound.duration - seconds) <= AAC_FRAME + 1e-6
    # 50 ms at each end against a second of the middle (music: a drum hit may open the loop).
    n, half = round(0.05 * sound.rate), len(sound.samples) // 2
    middle = rms(sound.samples[half - sound.rate // 2 : half + sound.rate // 2])
    assert rms(sound.samples[:n]) < middle / 3 and rms(sound.samples[-n:]) < middle / 3


def test_a_bundled_track_is_mixed_under_every_format_and_costs_nothing(
    session, stack: PipelineStack
):
    user = make_user(session)
    make_grant(session, user, 10)
    body = {**TEXT, "formats": ["9:16", "1:1"], "music": {"track": "easy-lounge"}}
    quoted = call("videos", "POST", "/v1/videos/quote", user_id=user.id, body=body)[1]
    silent = call(
        "videos", "POST", "/v1/videos/quote", user_id=user.id, body={**body, "music": None}
    )[1]
    assert quoted["cost"] == silent["cost"]
    assert quoted["storyboard"]["music"] == {"track": "easy-lounge", "upload_key": None}

    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
    assert status == 202 and accepted["cost"] == quoted["cost"], accepted
    stack.pump(lambda: _video(session, accepted["id"]).status.is_terminal)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert video.meta["music"]["track"] == "easy-lounge"
    assert video.meta["music"]["loudness"] == pytest.approx(-14, abs=0.5)
    status, detail, _ = call("videos", "GET", f"/v1/videos/{video.id}", user_id=user.id)
    assert status == 200 and detail["metadata"]["music"] == video.meta["music"], detail
    beds = [decode_audio(_s3_bytes(stack, f["videoUrl"])) for f in video.meta["formats"]]
    for stored in video.meta["formats"]:
        _check_bed(_s3_bytes(stack, stored["videoUrl"]))
    assert beds[0].samples == beds[1].samples  # every format gets the same bed
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
    # Once completed, the storyboard still says what was rendered (the request is dropped).
    status, board, _ = call("videos", "GET", f"/v1/videos/{video.id}/storyboard", user_id=user.id)
    assert status == 200 and board["music"] == quoted["storyboard"]["music"], board
    assert [s["id"] for s in board["scenes"]] == [s["id"] for s in quoted["storyboard"]["scenes"]]


def test_an_uploaded_song_is_mixed_and_a_draft_can_change_or_drop_it(session, stack: PipelineStack):
    user = make_user(session)
    make_grant(session, user, 10)
    quiet = _audio_upload(stack, user.id, tone_file(0.05, 3.0, fmt="mp3"))
    body = {**TEXT, "auto_render": False, "music": {"upload_key": quiet}}
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
    assert status == 202, accepted
    base = f"/v1/videos/{accepted['id']}"
    plan = call("videos", "GET", f"{base}/storyboard", user_id=user.id)[1]
    assert plan["music"] == {"track": None, "upload_key": quiet}

    # Drop it, choose a track, then the upload again: the scenes stay as they were.
    for music in (None, {"track": "bright-pop"}, {"upload_key": quiet}):
        status, edited, _ = call(
            "videos", "PATCH", f"{base}/storyboard", user_id=user.id, body={"music": music}
        )
        assert status == 200, edited
        assert edited["scenes"] == plan["scenes"]
        assert (edited["music"] or None) == (
            None if music is None else {"track": None, "upload_key": None, **music}
        )
    bad = call(
        "videos",
        "PATCH",
        f"{base}/storyboard",
        user_id=user.id,
        body={"music": {"upload_key": _audio_upload(stack, user.id, b"\x00" * 4000)}},
    )
    assert bad[0] == 422 and bad[1]["errors"][0]["pointer"] == "/music/upload_key", bad[1]

    assert call("videos", "POST", f"{base}/render", user_id=user.id)[0] == 202
    stack.pump(lambda: _video(session, accepted["id"]).status.is_terminal)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert video.meta["music"]["track"] == "upload"
    assert video.meta["music"]["sourceLoudness"] < -25  # the quiet upload was lifted
    _check_bed(_s3_bytes(stack, video.video_url))


def test_without_music_the_video_keeps_a_silent_track(session, stack: PipelineStack):
    user = make_user(session)
    make_grant(session, user, 10)
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT)
    assert status == 202, accepted
    stack.pump(lambda: _video(session, accepted["id"]).status.is_terminal)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert "music" not in video.meta
    sound = decode_audio(_s3_bytes(stack, video.video_url))
    assert max(abs(v) for v in sound.samples) == 0


class _Rejecting:
    """The Local provider, but its video step is refused (the first attempt fails)."""

    name = "Local"
    asynchronous = False
    storyboards = True

    def start_image(self, request):
        from ecomvideo.providers.local import LocalProvider

        return LocalProvider().start_image(request)

    def start_video(self, request):
        from ecomvideo.providers import ContentRejected

        raise ContentRejected(provider="Local", provider_message="refused once")


def test_a_retry_of_a_failed_video_keeps_its_music(session, stack: PipelineStack):
    from ecomvideo.providers import register_provider

    user = make_user(session)
    make_grant(session, user, 10)
    register_provider("Local", lambda: _Rejecting())
    try:
        body = {**TEXT, "music": {"track": "drive-forward"}}
        status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
        assert status == 202, accepted
        stack.pump(lambda: _video(session, accepted["id"]).status.is_terminal)
    finally:
        register_provider("Local", "ecomvideo.providers.local:create_provider")
    assert _video(session, accepted["id"]).status is VideoStatus.FAILED

    status, _, _ = call("videos", "POST", f"/v1/videos/{accepted['id']}/retry", user_id=user.id)
    assert status == 202
    stack.pump(lambda: _video(session, accepted["id"]).status.is_terminal)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert video.meta["music"]["track"] == "drive-forward"
    _check_bed(_s3_bytes(stack, video.video_url))
