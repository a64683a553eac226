"""Freepik's clip as the hero scene of the storyboard, end to end.

moto runs the real state machine, the real worker handler takes the SQS step messages, the fake
Freepik answers at the HTTP layer (serving a synthetic clip whose frame colours say which frame
they are) and signed webhooks through the real webhook handler resume the execution.
"""

from __future__ import annotations

import io
import uuid
from itertools import pairwise

import av
import pytest
from PIL import Image, ImageChops, ImageStat
from sqlalchemy import select

from ecomvideo.enums import VideoStatus
from ecomvideo.models import CreditMovement, MovementKind, Video
from ecomvideo.services import credits
from tests.fakes.freepik_fake import clip_colour, sample_mp4
from tests.integration.pipeline.test_pipeline_freepik import _create, run
from tests.integration.pipeline.test_pipeline_storyboard import _upload
from tests.support.factories import make_grant, make_subscription, make_user
from tests.support.logs import captured_logs, log_records
from tests.support.pipeline_stack import PipelineStack, call

CLIP_SECONDS, CLIP_FPS = 5, 24
CLIP_FRAMES = CLIP_SECONDS * CLIP_FPS
COLOURS = [(200, 40, 90), (40, 160, 60), (30, 90, 200), (230, 180, 20)]


def _video(session, video_id) -> Video:
    session.expire_all()
    return session.get(Video, uuid.UUID(str(video_id)))


def _body(stack: PipelineStack, user_id, **overrides) -> dict:
    keys = [_upload(stack, user_id, f"lamp-{i}", c) for i, c in enumerate(COLOURS)]
    return {
        "input_type": "Image",
        "upload_key": keys[0],
        "more_upload_keys": keys[1:],
        "title": "Aurora lamp",
        "text_prompt": "Aurora lamp, warm dimmable light, 20 hours of battery, only $49",
        "provider": "Freepik",
        "resolution": "180x320",
        "duration_seconds": 5,
        **overrides,
    }


def _s3(stack: PipelineStack, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _frames(mp4: bytes, indexes: list[int]) -> tuple[int, float, list[Image.Image]]:
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base)
        wanted = set(indexes)
        kept = {i: f.to_image() for i, f in enumerate(container.decode(stream)) if i in wanted}
        count = stream.frames
    return count, duration, [kept[i] for i in indexes]


def test_the_hero_scene_is_freepiks_clip_in_every_format_with_the_scenes_around_it(
    session, stack: PipelineStack, freepik
):
    freepik.video_bytes = sample_mp4(360, 640, seconds=CLIP_SECONDS, fps=CLIP_FPS)
    user = make_user(session)
    make_subscription(session, user)  # Starter: videos up to 10 s and more
    make_grant(session, user, 20)
    body = _body(stack, user.id, formats=["9:16", "1:1", "16:9"], duration_seconds=10)

    status, quoted, _ = call("videos", "POST", "/v1/videos/quote", user_id=user.id, body=body)
    assert status == 200, quoted
    planned = quoted["storyboard"]["scenes"]
    assert [s["media"] for s in planned].count("generated_clip") == 1
    hero = next(s for s in planned if s["media"] == "generated_clip")
    assert hero["kind"] == "hero" and hero["image"] == 0  # the photo it falls back to
    # The quote is what it was before the clip: 10 s in two 5 s blocks plus Freepik's extra
    # for the main format, and a Local render per extra format; the clip adds nothing.
    assert quoted["cost"] == (2 + 1) + 2 + 2
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
    assert status == 202 and accepted["cost"] == quoted["cost"], accepted
    path = f"/v1/videos/{accepted['id']}/storyboard"
    status, plan, _ = call("videos", "GET", path, user_id=user.id)
    assert status == 200 and plan["scenes"] == planned, plan

    steps = run(session, stack, freepik, accepted["id"], timeout=240)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert steps[-1] == "Finalize"
    (task,) = freepik.tasks.values()  # an uploaded photo: no image task, one clip
    # Kling is asked for a clip as long as the hero scene (rounded to its 5 s), not 10 s.
    assert hero["duration"] < 5 and task.request["duration"] == "5"
    scenes = video.meta["scenes"]
    k = [s["media"] for s in scenes].index("generated_clip")
    assert scenes[k]["id"] == hero["id"]
    assert {s["media"] for j, s in enumerate(scenes) if j != k} == {"product_image"}
    start, n = round(scenes[k]["start"] * 30), scenes[k]["frames"]
    mids = [round(s["start"] * 30) + s["frames"] // 2 for s in scenes]
    for fmt in video.meta["formats"]:
        count, duration, frames = _frames(
            _s3(stack, fmt["videoUrl"]), [start + n // 2, start + n - 1, *mids]
        )
        assert count == 300 and duration == pytest.approx(10, abs=0.05), fmt["aspectRatio"]
        assert fmt["scenes"] == scenes
        for frame, i in zip(frames[:2], (n // 2, n - 1), strict=True):
            # The clip frame shown at i / 30 s: the clip at its speed, trimmed after the hero.
            expected = clip_colour(i * CLIP_FPS // 30, CLIP_FRAMES)
            w, h = frame.size
            top = ImageStat.Stat(frame.crop((w // 8, h // 10, w * 7 // 8, h // 3))).mean
            assert all(abs(a - b) <= 14 for a, b in zip(top, expected, strict=False)), (
                fmt["aspectRatio"],
                i,
                top,
                expected,
            )
        for a, b in pairwise(frames[2:]):  # every scene there: a cut between each two
            assert ImageStat.Stat(ImageChops.difference(a, b).convert("L")).mean[0] > 6
    assert [(f["width"], f["height"]) for f in video.meta["formats"]] == [
        (180, 320),
        (180, 180),
        (320, 180),
    ]
    charged = session.scalars(
        select(CreditMovement.amount).where(
            CreditMovement.video_id == video.id, CreditMovement.kind == MovementKind.CHARGE
        )
    ).all()
    assert sum(charged) == video.generation_cost_credits == accepted["cost"]
    assert credits.balance(session, user.id) == 20 - accepted["cost"]
    # The clip, the composed render and every scene segment are gone once it is complete.
    work = stack.s3.list_objects_v2(
        Bucket=stack.videos_bucket, Prefix=f"users/{user.id}/videos/{video.id}/work/"
    )
    assert work.get("KeyCount", 0) == 0


@pytest.mark.parametrize("broken", ["download", "decode"])
def test_a_clip_that_cannot_be_downloaded_or_decoded_leaves_the_hero_on_its_photo(
    session, stack: PipelineStack, freepik, broken
):
    if broken == "download":
        freepik.fail_next("unauthorized", scope="asset")  # the CDN refuses the clip: 401
    else:
        freepik.video_bytes = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
    user = make_user(session)
    make_grant(session, user, 20)
    status, accepted, _ = call(
        "videos", "POST", "/v1/videos", user_id=user.id, body=_body(stack, user.id)
    )
    assert status == 202, accepted

    with captured_logs() as stream:
        run(session, stack, freepik, accepted["id"], timeout=240)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    scenes = video.meta["scenes"]
    hero = next(s for s in scenes if s["kind"] == "hero")
    assert hero["media"] == "product_image"
    assert "generated_clip" not in {s["media"] for s in scenes}
    # The hero shows the first photo (the red disc) instead.
    start, n = round(hero["start"] * 30), hero["frames"]
    _, _, (frame,) = _frames(_s3(stack, video.video_url), [start + n // 2])
    r, g, b = ImageStat.Stat(frame.crop((60, 100, 120, 160))).mean
    assert r > 120 and g < 110, (r, g, b)
    messages = [r["message"] for r in log_records(stream.getvalue())]
    assert any("the hero scene shows the product photo" in m for m in messages), messages
    assert video.generation_cost_credits == accepted["cost"]


def test_a_finalize_that_failed_mid_composition_resumes_from_the_scenes_already_encoded(
    session, stack: PipelineStack, freepik, monkeypatch
):
    from ecomvideo.media import storyboard_render
    from ecomvideo.services import scene_segments

    freepik.video_bytes = sample_mp4(360, 640, seconds=CLIP_SECONDS, fps=CLIP_FPS)
    written: list[str] = []
    failures: list[int] = []
    real_put, real_scene = scene_segments.S3Segments.put, storyboard_render._Composer.scene

    def counting_put(self, key, data):
        written.append(key)
        real_put(self, key, data)

    def failing_scene(self, index, scene, n):
        if index == 3 and not failures:  # the first Finalize dies after the clip's scene
            failures.append(index)
            raise MemoryError("worker ran out of memory")
        return real_scene(self, index, scene, n)

    monkeypatch.setattr(scene_segments.S3Segments, "put", counting_put)
    monkeypatch.setattr(storyboard_render._Composer, "scene", failing_scene)
    user = make_user(session)
    make_grant(session, user, 20)
    status, accepted, _ = call(
        "videos", "POST", "/v1/videos", user_id=user.id, body=_body(stack, user.id)
    )
    assert status == 202, accepted

    steps = run(session, stack, freepik, accepted["id"], timeout=240)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert failures == [3] and steps.count("Finalize") >= 1
    scenes = video.meta["scenes"]
    assert scenes[1]["media"] == "generated_clip"
    # The scenes before the failure (the clip's among them) were encoded once, by the failed
    # try; the retry encoded the rest: one segment per scene, none twice.
    assert len(written) == len(set(written)) == len(scenes)
    assert len(freepik.tasks) == 1  # the clip was not generated again
    assert video.generation_cost_credits == accepted["cost"]
    assert credits.balance(session, user.id) == 20 - accepted["cost"]


def test_a_text_videos_unusable_clip_leaves_the_hero_on_the_generated_image(
    session, stack: PipelineStack, freepik
):
    freepik.video_bytes = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64  # does not decode
    user = make_user(session)
    make_grant(session, user, 20)
    video_id = _create(user.id)  # a Text prompt: no photos; Mystic makes the still

    run(session, stack, freepik, video_id, timeout=240)

    video = _video(session, video_id)
    assert video.status is VideoStatus.COMPLETED, video.error_message
    hero = next(s for s in video.meta["scenes"] if s["kind"] == "hero")
    assert hero["media"] == "generated_image"
    start, n = round(hero["start"] * 30), hero["frames"]
    _, _, (frame,) = _frames(_s3(stack, video.video_url), [start + n // 2])
    # The fake's still: orange with a blue block in the middle.
    top = ImageStat.Stat(frame.crop((30, 20, 150, 60))).mean
    middle = ImageStat.Stat(frame.crop((70, 140, 110, 180))).mean
    assert top[0] > 180 and top[2] < 90, top
    assert middle[2] > 120 and middle[0] < 60, middle
