"""The fake Freepik server behaves like the real API as far as our client can tell."""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import pytest

from ecomvideo.clients.freepik import (
    FreepikAssetUnavailable,
    FreepikAuthError,
    FreepikClient,
    FreepikInvalidParams,
    FreepikNotFound,
    FreepikUnavailable,
    KlingRequest,
    MysticRequest,
    TaskResponse,
    TaskStatus,
)
from ecomvideo.webhooks.signature import verify_freepik_signature
from tests.fakes.freepik_fake import FreepikFakeState, freepik_respx

WEBHOOK = "https://api.example.test/webhooks/freepik"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> Iterator[FreepikFakeState]:
    st = FreepikFakeState(clock=clock)
    with freepik_respx("https://api.freepik.com", st):
        yield st


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(state: FreepikFakeState, sleeps: list[float], clock: Clock) -> FreepikClient:
    return FreepikClient(state.api_key, sleep=sleeps.append, clock=clock)


def test_image_then_video_with_signed_webhooks(
    state: FreepikFakeState, client: FreepikClient, clock: Clock
) -> None:
    image = client.create_image_task(
        MysticRequest(prompt="sneaker", aspect_ratio="9:16", webhook_url=WEBHOOK)
    )
    state.advance(image.task_id)
    state.advance(image.task_id)
    in_progress, completed = state.pop_outbox()
    assert (in_progress.status, completed.status) == ("IN_PROGRESS", "COMPLETED")

    wid = verify_freepik_signature(completed.headers, completed.body, state.webhook_secret,
                                   now=clock.now)  # fmt: skip
    assert wid == completed.webhook_id and completed.url == WEBHOOK
    task = TaskResponse.model_validate_json(completed.body)
    assert task.status is TaskStatus.COMPLETED and task.has_nsfw == [False]
    png = client.download(task.generated[0], max_bytes=5_000_000)
    assert png.startswith(b"\x89PNG")

    video = client.create_video_task(
        KlingRequest(image=task.generated[0], duration=5, webhook_url=WEBHOOK)
    )
    state.complete(video.task_id)
    polled = client.get_video_task(video.task_id)
    assert polled.status is TaskStatus.COMPLETED
    mp4 = client.download(polled.generated[0], max_bytes=5_000_000)
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 360, 640)


def test_poll_fallback_with_auto_advance(state: FreepikFakeState, client: FreepikClient) -> None:
    state.auto_advance = True
    task = client.create_video_task(KlingRequest(image="https://s3.test/i.png"))
    statuses = [client.get_video_task(task.task_id).status for _ in range(3)]
    assert statuses == [TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.COMPLETED]
    assert state.outbox == []  # no webhook_url given: nothing delivered


def test_get_on_the_tiered_create_path_is_404_like_freepik(
    state: FreepikFakeState, client: FreepikClient
) -> None:
    task = client.create_video_task(KlingRequest(image="https://s3.test/i.png"))
    resp = client.http.get(
        f"https://api.freepik.com/v1/ai/image-to-video/kling-v2-1-pro/{task.task_id}",
        headers={state.api_key_header: state.api_key},
    )
    assert resp.status_code == 404
    with pytest.raises(FreepikNotFound):
        client.get_image_task(task.task_id)  # a video id is unknown to mystic


def test_fake_validates_like_freepik(state: FreepikFakeState, client: FreepikClient) -> None:
    # Our models never send a bad duration, so talk to the fake directly.
    resp = client.http.post(
        "https://api.freepik.com/v1/ai/image-to-video/kling-v2-1-pro",
        json={"image": "https://s3.test/i.png", "duration": "7", "cfg_scale": 3},
        headers={state.api_key_header: state.api_key},
    )
    assert resp.status_code == 400
    assert [p["name"] for p in resp.json()["invalid_params"]] == ["duration", "cfg_scale"]
    # The client surfaces the fake's 400 as InvalidParams (a queued failure here).
    state.fail_next("invalid_params", invalid_params=[{"name": "image", "reason": "too small"}])
    with pytest.raises(FreepikInvalidParams) as err:
        client.create_video_task(KlingRequest(image="https://s3.test/i.png"))
    assert err.value.invalid_params == [{"name": "image", "reason": "too small"}]


def test_queued_failures(
    state: FreepikFakeState, client: FreepikClient, sleeps: list[float]
) -> None:
    state.fail_next("rate_limited", retry_after=2, scope="create")
    state.fail_next("server_error", scope="create")
    task = client.create_image_task(MysticRequest(prompt="p"))
    assert task.status is TaskStatus.CREATED and sleeps[0] == 2.0 and len(sleeps) == 2

    state.fail_next("invalid_params", invalid_params=[{"name": "prompt", "reason": "bad"}])
    with pytest.raises(FreepikInvalidParams):
        client.create_image_task(MysticRequest(prompt="p"))
    state.fail_next("unavailable", times=4, scope="poll")
    with pytest.raises(FreepikUnavailable):
        client.get_image_task(task.task_id)


def test_wrong_key_is_401(state: FreepikFakeState) -> None:
    with pytest.raises(FreepikAuthError):
        FreepikClient("wrong", sleep=lambda s: None).get_image_task("x")


def test_asset_urls_expire_and_cannot_be_forged(
    state: FreepikFakeState, client: FreepikClient, clock: Clock
) -> None:
    task = client.create_image_task(MysticRequest(prompt="p"))
    url = state.complete(task.task_id).generated[0]
    assert "?token=exp=" in url and "~hmac=" in url
    with pytest.raises(FreepikAssetUnavailable):
        client.download(url.replace("/images/", "/videos/"), max_bytes=10**7)
    clock.now += state.asset_ttl + 1
    with pytest.raises(FreepikAssetUnavailable):
        client.download(url, max_bytes=10**7)


def test_duplicate_and_stale_deliveries_can_be_built(
    state: FreepikFakeState, client: FreepikClient, clock: Clock
) -> None:
    task = client.create_video_task(
        KlingRequest(image="https://s3.test/i.png", webhook_url=WEBHOOK)
    )
    state.complete(task.task_id)
    first = state.outbox[-1]
    dup = state.delivery(task.task_id, webhook_id=first.webhook_id)
    assert dup.webhook_id == first.webhook_id and dup.body == first.body
    stale = state.delivery(task.task_id, timestamp=int(clock.now) - 3600)
    from ecomvideo.webhooks.signature import InvalidSignature

    with pytest.raises(InvalidSignature):
        verify_freepik_signature(stale.headers, stale.body, state.webhook_secret, now=clock.now)
    state.fail(task.task_id, reason="moderation: nsfw")  # backwards move, for ordering tests
    assert state.outbox[-1].json()["status"] == "FAILED"
