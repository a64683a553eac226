"""The Freepik provider without a pipeline: error mapping, request mapping, asset download."""

from __future__ import annotations

import httpx
import pytest

from ecomvideo.clients import freepik as fp
from ecomvideo.providers import (
    ContentRejected,
    ImageRequest,
    InvalidProviderInput,
    ProviderFailure,
    ProviderOutOfCredits,
    ProviderRateLimited,
    ProviderTaskFailed,
    ProviderUnavailable,
    VideoRequest,
)
from ecomvideo.providers.base import CLIP_MISSING
from ecomvideo.providers.freepik import FreepikProvider, to_provider_failure
from ecomvideo.services import pipeline
from tests.fakes.freepik_fake import FreepikFakeState, freepik_respx


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


@pytest.mark.parametrize(
    ("error", "expected", "retryable"),
    [
        (
            fp.FreepikInvalidParams([{"name": "image", "reason": "too small"}]),
            InvalidProviderInput,
            False,
        ),
        (fp.FreepikOutOfCredits(), ProviderOutOfCredits, False),
        (fp.FreepikRateLimited(retry_after=3), ProviderRateLimited, True),
        (fp.FreepikUnavailable(), ProviderUnavailable, True),
        (fp.FreepikContentRejected(), ContentRejected, False),
        (fp.FreepikTaskFailed(), ProviderTaskFailed, False),
    ],
)
def test_client_errors_become_provider_failures_with_the_same_message(error, expected, retryable):
    failure = to_provider_failure(error)
    assert type(failure) is expected
    assert failure.user_message == error.user_message
    assert failure.retryable is retryable
    assert failure.provider == "Freepik"


def test_auth_error_keeps_its_message_and_is_not_retryable():
    failure = to_provider_failure(fp.FreepikAuthError())
    assert failure.user_message == fp.ACCOUNT_PROBLEM
    assert failure.retryable is False


def test_image_task_is_pending_then_completed_with_the_downloaded_png(fake):
    state, provider = fake
    started = provider.start_image(
        ImageRequest(prompt="A lamp", aspect_ratio="9:16", width=720, height=1280)
    )
    assert started.status == "pending" and started.task_id in state.tasks
    assert state.tasks[started.task_id].request["aspect_ratio"] == "social_story_9_16"
    assert provider.poll_image(started.task_id).status == "pending"

    state.complete(started.task_id)
    done = provider.poll_image(started.task_id)

    assert done.is_completed and done.content_type == "image/png"
    assert done.asset and done.asset.startswith(b"\x89PNG")


def _from_url(seconds: float) -> VideoRequest:
    """A video request whose still is our S3 copy's presigned URL (as the pipeline sends it)."""
    return VideoRequest(
        prompt="Slow pan",
        duration_seconds=seconds,
        aspect_ratio="9:16",
        width=720,
        height=1280,
        image_url="https://bucket.s3.amazonaws.com/a.png?X-Amz-Signature=abc",
    )


def test_video_from_a_url_maps_duration_and_failed_task_raises(fake):
    state, provider = fake
    started = provider.start_video(_from_url(9))
    request = state.tasks[started.task_id].request
    assert request["duration"] == "10" and request["image"].startswith("https://bucket")

    state.fail(started.task_id)
    with pytest.raises(ProviderTaskFailed) as caught:
        provider.poll_video(started.task_id)
    assert caught.value.user_message == "generation failed at provider"


@pytest.mark.parametrize(
    ("failure", "code"), [("unauthorized", "provider_error"), ("unavailable", "unavailable")]
)
def test_a_clip_that_cannot_be_downloaded_completes_the_task_without_it(fake, failure, code):
    state, provider = fake
    image = ImageRequest(prompt="A lamp", aspect_ratio="9:16", width=720, height=1280)
    clip = provider.start_video(_from_url(5))
    still = provider.start_image(image)
    state.complete(clip.task_id)
    state.complete(still.task_id)
    # 401 (refused), or 503 on every try (the client's retries included).
    state.fail_next(failure, scope="asset", times=10)

    done = provider.poll_video(clip.task_id)

    # The storyboard shows the photo instead: completed, no clip, the reason recorded.
    assert done.is_completed and done.asset is None and done.asset_url is None
    assert done.metadata[CLIP_MISSING] == code
    with pytest.raises(ProviderFailure):  # an image has no stand-in: the step fails as before
        provider.poll_image(still.task_id)


def test_video_without_any_image_is_refused(fake):
    _state, provider = fake
    with pytest.raises(InvalidProviderInput):
        provider.start_video(
            VideoRequest(
                prompt="x", duration_seconds=5, aspect_ratio="9:16", width=720, height=1280
            )
        )


def test_poll_provider_message_must_name_a_pollable_step():
    body = {
        "step": "PollProvider",
        "videoId": "6499d79a-ba22-4933-993f-c1122bd259b1",
        "userId": "081e480a-165f-4060-9509-af39c99849c5",
        "attempt": 1,
        "taskToken": "tok",
    }
    with pytest.raises(ValueError):
        pipeline.StepMessage.parse({**body, "waitingStep": "Finalize"})
    message = pipeline.StepMessage.parse({**body, "waitingStep": "GenerateVideo"})
    assert message.waiting_step == "GenerateVideo"


def _unavailable(retry_after: float | None) -> fp.FreepikUnavailable:
    error = fp.FreepikUnavailable(status_code=503)
    error.retry_after = retry_after  # what the client reads from a 503's Retry-After
    return error


@pytest.mark.parametrize(
    ("error", "expected", "retry_after"),
    [
        (fp.FreepikRateLimited(retry_after=3), ProviderRateLimited, 3),
        (_unavailable(7.5), ProviderUnavailable, 7.5),
        (_unavailable(None), ProviderUnavailable, None),
        (fp.FreepikTaskFailed(), ProviderTaskFailed, None),
    ],
)
def test_a_retry_after_the_provider_gave_is_kept_on_the_failure(error, expected, retry_after):
    failure = to_provider_failure(error)
    assert type(failure) is expected
    assert failure.retry_after == retry_after


def test_an_unmapped_client_error_keeps_its_own_retryable_without_changing_the_class():
    class Flaky(fp.FreepikError):
        retryable = True

    failure = to_provider_failure(Flaky("try later"))
    assert type(failure) is ProviderFailure and failure.retryable is True
    assert ProviderFailure.retryable is False
    assert to_provider_failure(fp.FreepikError("no")).retryable is False
