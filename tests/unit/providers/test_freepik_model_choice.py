"""Choosing the Freepik model: template/plan config parsing and the provider's fallback."""

from __future__ import annotations

import httpx
import pytest

from ecomvideo.clients import freepik as fp
from ecomvideo.providers import ImageRequest, VideoRequest
from ecomvideo.providers.freepik import FreepikProvider
from ecomvideo.services import pipeline
from tests.fakes.freepik_fake import FreepikFakeState, freepik_respx


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"freepik_video_model": "kling-v2-5-pro"}, "kling-v2-5-pro"),
        ({"freepik_video_model": ""}, None),
        ({"motion": "zoom_in"}, None),
        (["HD Video Generation", "freepik_video_model = kling-v2-6-pro"], "kling-v2-6-pro"),
        (["freepik_video_model="], None),
        (["freepik_image_model=mystic"], None),
        (None, None),
        ("freepik_video_model=kling-v2-5-pro", None),  # neither an object nor a list
    ],
)
def test_config_value_reads_objects_and_key_value_entries(config, expected):
    assert pipeline.config_value(config, "freepik_video_model") == expected


@pytest.fixture
def fake():
    state = FreepikFakeState()
    router = freepik_respx(state=state)
    client = fp.FreepikClient(
        api_key=state.api_key,
        http=httpx.Client(transport=httpx.MockTransport(router.handler)),
        sleep=lambda _s: None,
    )
    return state, FreepikProvider(client)


def test_unknown_or_wrong_kind_models_fall_back_to_the_settings_default():
    provider = FreepikProvider()
    assert provider.model("video", "kling-v2-5-pro") == "kling-v2-5-pro"
    assert provider.model("video", "kling-v9-ultra") == "kling-v2-1-pro"
    assert provider.model("video", "mystic") == "kling-v2-1-pro"  # an image model
    assert provider.model("image", "kling-v2-1-pro") == "mystic"
    assert provider.model("image", None) == "mystic"


def test_start_reports_the_model_and_poll_needs_it(fake):
    state, provider = fake
    request = VideoRequest(
        prompt="Slow pan",
        duration_seconds=5,
        aspect_ratio="9:16",
        width=720,
        height=1280,
        image_url="https://bucket.s3.amazonaws.com/a.png?X-Amz-Signature=abc",
    )
    started = provider.start_video(request, model="kling-v2-5-pro")
    assert started.metadata == {"model": "kling-v2-5-pro"}
    assert state.tasks[started.task_id].model == "kling-v2-5-pro"

    state.complete(started.task_id)
    done = provider.poll_video(started.task_id, model="kling-v2-5-pro")
    assert done.is_completed and done.content_type == "video/mp4"
    # The default model's status path does not know the task (Freepik answers 404).
    with pytest.raises(Exception) as caught:
        provider.poll_video(started.task_id)
    assert type(caught.value).__name__ == "ProviderTaskNotFound"


def test_image_start_reports_the_default_model(fake):
    _state, provider = fake
    started = provider.start_image(
        ImageRequest(prompt="A lamp", aspect_ratio="1:1", width=720, height=720)
    )
    assert started.status == "pending" and started.metadata == {"model": "mystic"}
