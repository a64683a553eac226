"""FreepikClient against respx: request shapes, parsing, retries, errors, downloads."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from ecomvideo.clients.freepik import (
    ACCOUNT_PROBLEM,
    MODELS,
    FreepikAssetTooLarge,
    FreepikAssetUnavailable,
    FreepikAuthError,
    FreepikClient,
    FreepikContentRejected,
    FreepikError,
    FreepikInvalidParams,
    FreepikNotFound,
    FreepikOutOfCredits,
    FreepikRateLimited,
    FreepikTaskFailed,
    FreepikUnavailable,
    KlingRequest,
    MysticRequest,
    TaskResponse,
    TaskStatus,
    failure_for_task,
    nearest_duration,
)
from ecomvideo.errors import ProviderError

BASE = "https://api.freepik.com"
KEY = "fpk_live_SECRET_api_key_0123456789"
EVENTS = Path(__file__).resolve().parents[3] / "events" / "freepik"
TASK_ID = "7c1e9b54-3f2a-4d86-b0e7-1a9c4f6d2e35"


def event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(sleeps: Sleeps) -> FreepikClient:
    return FreepikClient(KEY, sleep=sleeps, rng=random.Random(7))


# ---- request models ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [("9:16", "social_story_9_16"), ("1:1", "square_1_1"), ("16:9", "widescreen_16_9"),
     ("4:5", "social_post_4_5"), ("social_post_4_5", "social_post_4_5")],
)  # fmt: skip
def test_mystic_maps_our_aspect_ratios_to_freepik_names(ours: str, theirs: str) -> None:
    assert MysticRequest(prompt="p", aspect_ratio=ours).to_payload()["aspect_ratio"] == theirs


def test_mystic_rejects_unknown_aspect_ratio() -> None:
    with pytest.raises(ValueError, match="unsupported aspect ratio"):
        MysticRequest(prompt="p", aspect_ratio="3:7")


@pytest.mark.parametrize(("seconds", "expected"),
                         [(1, "5"), (5, "5"), (7, "5"), (7.5, "5"), (8, "10"), (15, "10"),
                          ("10", "10")])  # fmt: skip
def test_kling_duration_is_mapped_to_the_nearest_allowed(seconds: object, expected: str) -> None:
    assert KlingRequest(image="https://x/i.png", duration=seconds).duration == expected


def test_kling_rejects_bad_duration_and_cfg_scale() -> None:
    with pytest.raises(ValueError):
        KlingRequest(image="https://x/i.png", duration=0)
    with pytest.raises(ValueError):
        KlingRequest(image="https://x/i.png", cfg_scale=1.5)
    with pytest.raises(ValueError):
        KlingRequest(image="https://x/i.png", prompt="x" * 2501)


def test_kling_payload_follows_the_model_table() -> None:
    req = KlingRequest(image="https://x/i.png", prompt="spin", negative_prompt="blur",
                       duration=10, cfg_scale=0.4, webhook_url="https://h/wh")  # fmt: skip
    assert req.to_payload("kling-v2-1-pro") == {
        "image": "https://x/i.png", "duration": "10", "prompt": "spin",
        "negative_prompt": "blur", "cfg_scale": 0.4, "webhook_url": "https://h/wh",
    }  # fmt: skip
    # MiniMax: other image field, integer 6/10, no cfg_scale/negative_prompt.
    assert req.to_payload("minimax-hailuo-02-768p") == {
        "first_frame_image": "https://x/i.png", "duration": 10, "prompt": "spin",
        "webhook_url": "https://h/wh",
    }  # fmt: skip
    assert (
        KlingRequest(image="https://x/i.png", duration=5).to_payload("minimax-hailuo-02-768p")[
            "duration"
        ]
        == 6
    )


def test_kling_accepts_inline_base64_image() -> None:
    req = KlingRequest.from_image_bytes(b"\x89PNG fake", duration=5)
    assert req.to_payload()["image"] == "iVBORyBmYWtl"
    with pytest.raises(ValueError, match="data: URI"):
        KlingRequest(image="data:image/png;base64,AAAA")


def test_nearest_duration_prefers_the_shorter_on_ties() -> None:
    assert nearest_duration(7.5, (5, 10)) == 5
    assert nearest_duration(8, (6, 10)) == 6


def test_kling_2_1_polls_without_the_tier_and_other_models_are_data() -> None:
    assert MODELS["kling-v2-1-pro"].poll_url_path("t") == "/v1/ai/image-to-video/kling-v2-1/t"
    assert MODELS["kling-v2-6-pro"].poll_url_path("t") == "/v1/ai/image-to-video/kling-v2-6/t"
    for name in ("kling-v2-5-pro", "minimax-hailuo-02-768p"):
        assert MODELS[name].kind == "video"


# ---- response parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["mystic_create_response.json", "kling_create_response.json",
     "kling_create_response_legacy.json", "mystic_status_in_progress.json",
     "mystic_status_completed.json", "kling_status_in_progress.json",
     "kling_status_completed.json", "kling_status_failed.json", "webhook_mystic_completed.json",
     "webhook_mystic_in_progress.json", "webhook_kling_in_progress.json",
     "webhook_kling_completed.json", "webhook_kling_failed.json"],
)  # fmt: skip
def test_every_sample_event_parses(name: str) -> None:
    task = TaskResponse.model_validate(event(name))
    assert task.task_id
    assert isinstance(task.status, TaskStatus)


def test_wrapped_and_unwrapped_shapes_parse_the_same() -> None:
    wrapped = TaskResponse.model_validate(event("kling_status_completed.json"))
    bare = TaskResponse.model_validate(event("webhook_kling_completed.json"))
    assert wrapped == bare
    assert wrapped.status is TaskStatus.COMPLETED and wrapped.first_url().startswith("https://")


def test_missing_generated_and_lowercase_status_are_tolerated() -> None:
    task = TaskResponse.model_validate({"data": {"task_id": "t", "status": "in_progress"}})
    assert task.generated == [] and task.status is TaskStatus.IN_PROGRESS
    assert TaskStatus.IN_PROGRESS.rank < TaskStatus.COMPLETED.rank


def test_failure_classification_of_finished_tasks() -> None:
    ok = TaskResponse.model_validate(event("webhook_mystic_completed.json"))
    assert failure_for_task(ok) is None
    nsfw = TaskResponse.model_validate(event("mystic_status_completed_nsfw.json"))
    assert isinstance(failure_for_task(nsfw), FreepikContentRejected)
    failed = TaskResponse.model_validate(event("webhook_kling_failed.json"))
    err = failure_for_task(failed)
    assert isinstance(err, FreepikTaskFailed)
    assert err.user_message == "generation failed at provider"
    moderated = TaskResponse.model_validate(
        {"task_id": "t", "status": "FAILED", "error": "Prompt blocked by NSFW filter"}
    )
    rejected = failure_for_task(moderated)
    assert isinstance(rejected, FreepikContentRejected)
    assert rejected.user_message == "content rejected by provider"


# ---- create / poll -------------------------------------------------------------------------


def test_create_image_task_sends_key_header_and_parses_task(
    api: respx.MockRouter, client: FreepikClient
) -> None:
    route = api.post("/v1/ai/mystic").respond(200, json=event("mystic_create_response.json"))
    task = client.create_image_task(
        MysticRequest(prompt="red sneaker", aspect_ratio="9:16", webhook_url="https://h/wh")
    )
    assert task.status is TaskStatus.CREATED and task.generated == []
    sent = route.calls.last.request
    assert sent.headers["x-freepik-api-key"] == KEY
    assert json.loads(sent.content) == {
        "prompt": "red sneaker", "aspect_ratio": "social_story_9_16", "resolution": "2k",
        "model": "realism", "webhook_url": "https://h/wh", "filter_nsfw": True,
    }  # fmt: skip


def test_get_image_task_polls_mystic(api: respx.MockRouter, client: FreepikClient) -> None:
    data = event("mystic_status_completed.json")
    api.get(f"/v1/ai/mystic/{data['data']['task_id']}").respond(200, json=data)
    task = client.get_image_task(data["data"]["task_id"])
    assert task.status is TaskStatus.COMPLETED and task.has_nsfw == [False]


def test_video_task_create_and_poll_use_the_tiered_and_untiered_paths(
    api: respx.MockRouter, client: FreepikClient
) -> None:
    create = api.post("/v1/ai/image-to-video/kling-v2-1-pro").respond(
        200, json=event("kling_create_response.json")
    )
    poll = api.get(f"/v1/ai/image-to-video/kling-v2-1/{TASK_ID}").respond(
        200, json=event("kling_status_completed.json")
    )
    created = client.create_video_task(KlingRequest(image="https://s3/i.png", duration=6))
    done = client.get_video_task(created.task_id)
    assert json.loads(create.calls.last.request.content)["duration"] == "5"
    assert poll.called and done.status is TaskStatus.COMPLETED


def test_custom_host_and_header_for_the_magnific_brand(sleeps: Sleeps) -> None:
    with respx.mock(base_url="https://api.magnific.com") as router:
        route = router.get(f"/v1/ai/mystic/{TASK_ID}").respond(
            200, json=event("mystic_status_in_progress.json")
        )
        c = FreepikClient(KEY, base_url="https://api.magnific.com/",
                          api_key_header="x-magnific-api-key", sleep=sleeps)  # fmt: skip
        c.get_image_task(TASK_ID)
    assert route.calls.last.request.headers["x-magnific-api-key"] == KEY


def test_task_ids_cannot_smuggle_paths(client: FreepikClient) -> None:
    with pytest.raises(ValueError):
        client.get_video_task("../../v1/other")


def test_unknown_model_is_a_programming_error(client: FreepikClient) -> None:
    with pytest.raises(ValueError, match="unknown Freepik video model"):
        client.get_video_task(TASK_ID, model="mystic")


# ---- retries -------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_then_succeeds(
    api: respx.MockRouter, client: FreepikClient, sleeps: Sleeps
) -> None:
    route = api.post("/v1/ai/mystic").mock(side_effect=[
        httpx.Response(429, json=event("error_429.json"), headers={"Retry-After": "2"}),
        httpx.Response(429, json=event("error_429.json"), headers={"Retry-After": "3"}),
        httpx.Response(200, json=event("mystic_create_response.json")),
    ])  # fmt: skip
    task = client.create_image_task(MysticRequest(prompt="p"))
    assert task.status is TaskStatus.CREATED
    assert route.call_count == 3
    assert sleeps == [2.0, 3.0]


def test_rate_limit_reset_header_is_honoured_and_a_longer_wait_is_left_to_the_caller(
    api: respx.MockRouter, sleeps: Sleeps
) -> None:
    now = 1_800_000_000.0
    c = FreepikClient(KEY, sleep=sleeps, max_wait=20, clock=lambda: now)
    api.get(f"/v1/ai/mystic/{TASK_ID}").mock(side_effect=[
        httpx.Response(429, headers={"X-RateLimit-Reset": str(int(now) + 4)}),
        httpx.Response(429, headers={"Retry-After": "3600"}),
        httpx.Response(200, json=event("mystic_status_in_progress.json")),
    ])  # fmt: skip
    # Retrying after 20 s of an advised 3600 s only earns another 429: the error carries the
    # full wait and the pipeline worker re-schedules the step to it (no cap below it).
    with pytest.raises(FreepikRateLimited) as err:
        c.get_image_task(TASK_ID)
    assert sleeps == [4.0]
    assert err.value.retry_after == 3600.0


def test_a_503_with_retry_after_carries_it(api: respx.MockRouter, sleeps: Sleeps) -> None:
    c = FreepikClient(KEY, sleep=sleeps, max_retries=0)
    api.get(f"/v1/ai/mystic/{TASK_ID}").respond(503, headers={"Retry-After": "5"})
    with pytest.raises(FreepikUnavailable) as err:
        c.get_image_task(TASK_ID)
    assert err.value.retry_after == 5.0


def test_429_after_all_retries_raises_rate_limited_with_retry_after(
    api: respx.MockRouter, sleeps: Sleeps
) -> None:
    c = FreepikClient(KEY, sleep=sleeps, max_retries=2)
    route = api.post("/v1/ai/mystic").respond(
        429, json=event("error_429.json"), headers={"Retry-After": "7"}
    )
    with pytest.raises(FreepikRateLimited) as err:
        c.create_image_task(MysticRequest(prompt="p"))
    assert route.call_count == 3 and sleeps == [7.0, 7.0]
    assert err.value.retry_after == 7.0
    assert err.value.user_message == "provider is busy, please try again later"


def test_500_is_retried_with_exponential_backoff_and_jitter(
    api: respx.MockRouter, client: FreepikClient, sleeps: Sleeps
) -> None:
    route = api.get(f"/v1/ai/image-to-video/kling-v2-1/{TASK_ID}").mock(side_effect=[
        httpx.Response(500, json=event("error_500.json")),
        httpx.Response(503, json=event("error_503.json")),
        httpx.Response(200, json=event("kling_status_in_progress.json")),
    ])  # fmt: skip
    assert client.get_video_task(TASK_ID).status is TaskStatus.IN_PROGRESS
    assert route.call_count == 3
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_persistent_5xx_raises_unavailable(api: respx.MockRouter, client: FreepikClient) -> None:
    route = api.get(f"/v1/ai/mystic/{TASK_ID}").respond(500, json=event("error_500.json"))
    with pytest.raises(FreepikUnavailable) as err:
        client.get_image_task(TASK_ID)
    assert route.call_count == 4  # 1 + max_retries
    assert err.value.user_message == "provider unavailable" and err.value.status_code == 500


def test_transport_errors_on_get_are_retried(
    api: respx.MockRouter, client: FreepikClient, sleeps: Sleeps
) -> None:
    route = api.get(f"/v1/ai/mystic/{TASK_ID}").mock(side_effect=[
        httpx.ReadTimeout("slow"), httpx.ConnectError("down"),
        httpx.Response(200, json=event("mystic_status_in_progress.json")),
    ])  # fmt: skip
    client.get_image_task(TASK_ID)
    assert route.call_count == 3 and len(sleeps) == 2


def test_post_is_not_repeated_after_a_read_timeout(
    api: respx.MockRouter, client: FreepikClient
) -> None:
    # Freepik may have created (and billed) the task; repeating could double it.
    route = api.post("/v1/ai/mystic").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(FreepikUnavailable):
        client.create_image_task(MysticRequest(prompt="p"))
    assert route.call_count == 1


def test_post_is_retried_after_a_connect_error(
    api: respx.MockRouter, client: FreepikClient
) -> None:
    route = api.post("/v1/ai/mystic").mock(side_effect=[
        httpx.ConnectError("refused"),
        httpx.Response(200, json=event("mystic_create_response.json")),
    ])  # fmt: skip
    client.create_image_task(MysticRequest(prompt="p"))
    assert route.call_count == 2


# ---- errors --------------------------------------------------------------------------------


def test_400_is_not_retried_and_carries_invalid_params(
    api: respx.MockRouter, client: FreepikClient, sleeps: Sleeps
) -> None:
    route = api.post("/v1/ai/image-to-video/kling-v2-1-pro").respond(
        400, json=event("error_400_invalid_params.json")
    )
    with pytest.raises(FreepikInvalidParams) as err:
        client.create_video_task(KlingRequest(image="https://s3/i.png"))
    assert route.call_count == 1 and sleeps == []
    assert [p["name"] for p in err.value.invalid_params] == ["duration", "image"]
    assert err.value.user_message.startswith("provider rejected the request: duration:")
    assert "300x300" in err.value.user_message
    assert err.value.status_code == 400


@pytest.mark.parametrize("body", ["error_401.json", "error_401_missing.json"])
def test_401_raises_auth_error_without_the_key(
    api: respx.MockRouter, client: FreepikClient, body: str
) -> None:
    route = api.get(f"/v1/ai/mystic/{TASK_ID}").respond(401, json=event(body))
    with pytest.raises(FreepikAuthError) as err:
        client.get_image_task(TASK_ID)
    assert route.call_count == 1
    for text in (str(err.value), repr(err.value), err.value.user_message, repr(client)):
        assert KEY not in text
    assert err.value.user_message == ACCOUNT_PROBLEM


def test_provider_message_echoing_the_key_is_scrubbed(
    api: respx.MockRouter, client: FreepikClient
) -> None:
    api.get(f"/v1/ai/mystic/{TASK_ID}").respond(403, json={"message": f"key {KEY} revoked"})
    with pytest.raises(FreepikAuthError) as err:
        client.get_image_task(TASK_ID)
    assert KEY not in (err.value.provider_message or "") and "***" in err.value.provider_message


@pytest.mark.parametrize(
    ("status", "message"),
    [(402, "Payment required"), (400, "Insufficient credits to run this task"),
     (429, "Daily quota exceeded")],
)  # fmt: skip
def test_out_of_credits_is_recognised(
    api: respx.MockRouter, sleeps: Sleeps, status: int, message: str
) -> None:
    c = FreepikClient(KEY, sleep=sleeps, max_retries=0)
    api.post("/v1/ai/mystic").respond(status, json={"message": message})
    with pytest.raises(FreepikOutOfCredits) as err:
        c.create_image_task(MysticRequest(prompt="p"))
    assert err.value.user_message == ACCOUNT_PROBLEM


def test_moderation_rejection_at_create(api: respx.MockRouter, client: FreepikClient) -> None:
    api.post("/v1/ai/mystic").respond(400, json={"message": "Prompt flagged as NSFW"})
    with pytest.raises(FreepikContentRejected) as err:
        client.create_image_task(MysticRequest(prompt="p"))
    assert err.value.user_message == "content rejected by provider"


def test_404_on_poll_is_not_found(api: respx.MockRouter, client: FreepikClient) -> None:
    api.get(f"/v1/ai/mystic/{TASK_ID}").respond(404, json={"message": "Not found"})
    with pytest.raises(FreepikNotFound):
        client.get_image_task(TASK_ID)


def test_non_json_success_is_an_unexpected_response(
    api: respx.MockRouter, client: FreepikClient
) -> None:
    api.get(f"/v1/ai/mystic/{TASK_ID}").respond(200, text="<html>gateway</html>")
    with pytest.raises(FreepikUnavailable, match="unexpected provider response"):
        client.get_image_task(TASK_ID)


def test_errors_are_provider_errors_for_the_problem_json_mapping() -> None:
    err = FreepikInvalidParams([{"name": "prompt", "reason": "too long"}], status_code=400)
    assert isinstance(err, FreepikError) and isinstance(err, ProviderError)
    assert err.status == 502 and err.detail == "provider rejected the request: prompt: too long"


# ---- downloads -----------------------------------------------------------------------------

ASSET = "https://cdn.freepik.test/videos/v.mp4?token=exp=1795000000~hmac=abc"


def test_download_streams_the_asset_without_the_api_key(
    api: respx.MockRouter, client: FreepikClient
) -> None:
    route = api.get(ASSET).respond(200, content=b"\x00" * 5000)
    assert client.download(ASSET, max_bytes=5000) == b"\x00" * 5000
    assert "x-freepik-api-key" not in route.calls.last.request.headers


def test_download_over_the_cap_is_refused(api: respx.MockRouter, client: FreepikClient) -> None:
    api.get(ASSET).respond(200, content=b"\x00" * 5001)
    with pytest.raises(FreepikAssetTooLarge):
        client.download(ASSET, max_bytes=5000)


def test_download_cap_holds_without_content_length(
    api: respx.MockRouter, client: FreepikClient
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"\x01" * 1024

    api.get(ASSET).mock(return_value=httpx.Response(200, content=chunks()))
    with pytest.raises(FreepikAssetTooLarge):
        client.download(ASSET, max_bytes=10 * 1024)


def test_expired_asset_url_is_not_retried(api: respx.MockRouter, client: FreepikClient) -> None:
    route = api.get(ASSET).respond(403, text="expired")
    with pytest.raises(FreepikAssetUnavailable) as err:
        client.download(ASSET, max_bytes=10)
    assert route.call_count == 1
    assert err.value.user_message == "provider asset expired or unavailable"


def test_download_retries_cdn_5xx(
    api: respx.MockRouter, client: FreepikClient, sleeps: Sleeps
) -> None:
    api.get(ASSET).mock(side_effect=[httpx.Response(502), httpx.Response(200, content=b"ok")])
    assert client.download(ASSET, max_bytes=10) == b"ok" and len(sleeps) == 1
