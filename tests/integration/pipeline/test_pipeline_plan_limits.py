"""The plan's limits hold for what the provider delivers: Freepik's clip, composed into the
storyboard at the quoted size, is watermarked on the Free plan and never stored larger than the
plan and the quote allow; a render that already fits a plan without a watermark is stored as
rendered (no second encode)."""

from __future__ import annotations

import pytest

from ecomvideo.enums import VideoStatus
from ecomvideo.models import SubscriptionPlan
from ecomvideo.seed import PLANS
from ecomvideo.services import plans
from tests.fakes.freepik_fake import sample_mp4
from tests.integration.pipeline.test_pipeline_freepik import BODY, _video, run
from tests.support.factories import make_grant, make_subscription, make_user, plan_named
from tests.support.pipeline_stack import call


def _stored(stack, video) -> bytes:
    bucket, key = video.video_url.removeprefix("s3://").split("/", 1)
    return stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _delivered_1080p(session, stack, freepik, *, plan: str | None, resolution: str):
    """A Freepik video for a user on ``plan`` (None: Free), the provider answering 1080p
    whatever was asked (as Kling does); the video row once settled."""
    freepik.video_bytes = sample_mp4(1080, 1920)
    user = make_user(session)
    if plan is not None:
        make_subscription(session, user, subscription_plan_id=plan_named(session, plan).id)
    make_grant(session, user, 10)
    body = BODY | {"resolution": resolution}
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
    assert status == 202, accepted
    run(session, stack, freepik, accepted["id"])
    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    return video


def test_a_free_plan_video_is_scaled_to_720p_and_watermarked(session, stack, freepik):
    video = _delivered_1080p(session, stack, freepik, plan=None, resolution="720x1280")

    assert (video.meta["width"], video.meta["height"]) == (720, 1280)
    stored = _stored(stack, video)
    assert stored != freepik.video_bytes and len(stored) == video.file_size_bytes


def test_a_render_that_fits_a_plan_without_watermark_is_stored_as_rendered(
    session, stack, freepik, monkeypatch
):
    from ecomvideo.media import conform as conform_module

    conformed: list[bool] = []
    real = conform_module.conform

    def spy(*args, **kwargs):
        conformed.append(real(*args, **kwargs))
        return conformed[-1]

    monkeypatch.setattr(conform_module, "conform", spy)
    video = _delivered_1080p(session, stack, freepik, plan="Business", resolution="360x640")

    assert (video.meta["width"], video.meta["height"]) == (360, 640)
    assert conformed == [False]  # no second encode, no quality loss
    assert "generated_clip" in {s["media"] for s in video.meta["scenes"]}


def test_a_paid_plan_gets_no_more_than_the_resolution_it_was_quoted_for(session, stack, freepik):
    # Business allows 4k, but the video was quoted (and charged) as 720p.
    video = _delivered_1080p(session, stack, freepik, plan="Business", resolution="720x1280")

    assert (video.meta["width"], video.meta["height"]) == (720, 1280)


@pytest.mark.parametrize(
    ("features", "watermarked"),
    [
        ([entry for p in PLANS if p["name"] == "Free" for entry in p["features"]], True),
        ([entry for p in PLANS if p["name"] == "Starter" for entry in p["features"]], False),
        (["HD Video Generation", "watermark=true"], True),
        (["watermark=false"], False),
        ({"watermark": True}, True),
        ({"freepik_video_model": "kling"}, False),
        (None, False),
    ],
)
def test_the_plan_says_whether_its_videos_carry_the_watermark(features, watermarked):
    assert plans.watermarks_output(SubscriptionPlan(name="P", features=features)) is watermarked
