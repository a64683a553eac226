"""The whole pipeline: moto executes the real ASL, the real worker handler runs every step.

Given a user with credits, when a video is created through the videos handler and the tests
feed the work queue's messages to the worker's ``lambda_handler`` (like the SQS event source
mapping), then the execution ends in Completed / Failed / Cancelled with the credits right.
Small frames and short durations keep the suite fast.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ecomvideo.enums import VideoStatus
from ecomvideo.models import CreditMovement, Video, VideoTemplate
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.providers import ContentRejected, ProviderResult, get_provider, register_provider
from ecomvideo.services import credits, pipeline
from tests.support.factories import make_grant, make_user
from tests.support.pipeline_stack import PipelineStack, call

PAGES = Path(__file__).resolve().parents[2] / "unit" / "scraping" / "pages"

METADATA_KEYS = {
    "width",
    "height",
    "frameRate",
    "format",
    "codec",
    "bitrate",
    "duration",
    "fileSize",
}


def _video(session, video_id) -> Video:
    session.expire_all()
    return session.get(Video, uuid.UUID(str(video_id)))


def _settled(session, video_id):
    return lambda: _video(session, video_id).status.is_terminal


def _create(user_id, body: dict[str, Any]) -> dict[str, Any]:
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user_id, body=body)
    assert status == 202, accepted
    return accepted


def _decode(data: bytes) -> tuple[int, int, float, int]:
    """(width, height, duration, decoded frames) read back with PyAV, independently."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        rate = float(stream.average_rate)
        return stream.codec_context.width, stream.codec_context.height, frames / rate, frames


def _movements(session, video_id) -> list[str]:
    return [
        str(m.kind)
        for m in session.scalars(
            select(CreditMovement)
            .where(CreditMovement.video_id == uuid.UUID(str(video_id)))
            .order_by(CreditMovement.created_at, CreditMovement.kind)
        )
    ]


@pytest.fixture
def local_provider():
    """The real Local provider, wrapped to count calls; restored afterwards."""
    calls: dict[str, int] = {"image": 0, "video": 0}
    real = get_provider("Local")

    class Counting:
        name = real.name
        asynchronous = False

        def start_image(self, request):
            calls["image"] += 1
            return real.start_image(request)

        def start_video(self, request):
            calls["video"] += 1
            return real.start_video(request)

        def poll_image(self, task_id):  # pragma: no cover - synchronous provider
            return real.poll_image(task_id)

        def poll_video(self, task_id):  # pragma: no cover - synchronous provider
            return real.poll_video(task_id)

    register_provider("Local", lambda: Counting())
    yield calls
    register_provider("Local", "ecomvideo.providers.local:create_provider")


def test_text_video_is_rendered_stored_probed_and_charged_once(
    session, stack: PipelineStack, local_provider
):
    user = make_user(session)
    make_grant(session, user, 10)
    template = session.scalar(select(VideoTemplate).where(VideoTemplate.name == "Hero Spin"))
    usage_before = template.usage_count
    accepted = _create(
        user.id,
        {
            "input_type": "Text",
            "template_id": str(template.id),
            "variables": {"product_name": "Aurora Sneakers", "price": "$79"},
            "duration_seconds": 2,
            "aspect_ratio": "9:16",
            "resolution": "180x320",
        },
    )

    steps = stack.pump(_settled(session, accepted["id"]))

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert steps == ["GenerateImage", "GenerateVideo", "Finalize"]
    assert stack.wait_execution(video.id) == "SUCCEEDED"
    bucket, key = video.video_url[5:].split("/", 1)
    assert (bucket, key) == (stack.videos_bucket, f"users/{user.id}/videos/{video.id}/video.mp4")
    data = stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    width, height, duration, _ = _decode(data)
    assert (width, height) == (180, 320)
    assert abs(duration - 2.0) <= 0.1
    # The spec's VideoMetadata, and the storyboard as rendered (GET /storyboard shows it).
    assert set(video.meta) == METADATA_KEYS | {"storyboard"}
    assert video.meta["storyboard"]["scenes"]
    assert (video.meta["width"], video.meta["height"]) == (180, 320)
    assert (video.meta["format"], video.meta["codec"]) == ("mp4", "h264")
    assert abs(video.meta["duration"] - 2.0) <= 0.1
    assert video.meta["fileSize"] == len(data) == video.file_size_bytes
    thumb_bucket, thumb_key = video.thumbnail_url[5:].split("/", 1)
    thumb = stack.s3.get_object(Bucket=thumb_bucket, Key=thumb_key)["Body"].read()
    assert thumb[:3] == b"\xff\xd8\xff"
    assert video.completed_at is not None
    assert video.generation_cost_credits == accepted["cost"] == 1
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
    assert sorted(_movements(session, video.id)) == ["Charge", "Hold"]
    session.refresh(template)
    assert template.usage_count == usage_before + 1
    assert local_provider == {"image": 1, "video": 1}
    # Only the final objects remain: work files were cleaned up.
    listed = stack.s3.list_objects_v2(Bucket=stack.videos_bucket, Prefix=f"users/{user.id}/")
    assert sorted(o["Key"].rsplit("/", 1)[1] for o in listed["Contents"]) == [
        "thumbnail.jpg",
        "video.mp4",
    ]

    status, detail, _ = call("videos", "GET", f"/v1/videos/{video.id}", user_id=user.id)
    assert status == 200 and detail["download_url"] and detail["metadata"]["width"] == 180
    status, _, headers = call("videos", "GET", f"/v1/videos/{video.id}/download", user_id=user.id)
    assert status == 302 and headers["Location"].startswith("http")
    assert _video(session, video.id).download_count == 1


def test_image_input_skips_image_generation_and_keeps_the_frame_size(
    session, stack: PipelineStack, local_provider
):
    from PIL import Image

    user = make_user(session)
    make_grant(session, user, 10)
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 40, 90)).save(buffer, "PNG")
    key = f"users/{user.id}/product.png"
    stack.s3.put_object(
        Bucket=stack.uploads_bucket, Key=key, Body=buffer.getvalue(), ContentType="image/png"
    )
    accepted = _create(
        user.id,
        {
            "input_type": "Image",
            "upload_key": key,
            "title": "Red bag",
            "duration_seconds": 3,
            "aspect_ratio": "16:9",
            "resolution": "320x180",
        },
    )

    steps = stack.pump(_settled(session, accepted["id"]))

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert steps == ["GenerateVideo", "Finalize"]
    data = stack.s3.get_object(Bucket=stack.videos_bucket, Key=video.video_url.split("/", 3)[3])[
        "Body"
    ].read()
    width, height, duration, _ = _decode(data)
    assert (width, height) == (320, 180) and abs(duration - 3.0) <= 0.1
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
    assert local_provider == {"image": 0, "video": 1}


class _Rejecting:
    name = "Local"
    asynchronous = False

    def start_image(self, request):
        return _real().start_image(request)

    def start_video(self, request):
        raise ContentRejected(provider="Local", provider_message="nsfw score 0.98")

    def poll_image(self, task_id):  # pragma: no cover
        raise NotImplementedError

    def poll_video(self, task_id):  # pragma: no cover
        raise NotImplementedError


def _real():
    from ecomvideo.providers.local import create_provider

    return create_provider()


def test_failing_provider_ends_failed_with_a_useful_message_and_credits_released(
    session, stack: PipelineStack
):
    user = make_user(session)
    make_grant(session, user, 10)
    register_provider("Local", lambda: _Rejecting())
    try:
        accepted = _create(
            user.id,
            {
                "input_type": "Text",
                "text_prompt": "Lamp",
                "resolution": "180x320",
                "duration_seconds": 1,
            },
        )
        steps = stack.pump(_settled(session, accepted["id"]))
    finally:
        register_provider("Local", "ecomvideo.providers.local:create_provider")

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.FAILED
    assert video.error_message == "content rejected by provider"
    assert "nsfw" not in video.error_message
    assert steps == ["GenerateImage", "GenerateVideo", "MarkFailed"]
    assert credits.balance(session, user.id) == 10
    assert credits.held_amount(session, video.id) == 0
    assert sorted(_movements(session, video.id)) == ["Hold", "Release"]
    assert stack.wait_execution(video.id) == "FAILED"


def _shop_fetcher(png: bytes):
    """An SSRF-safe fetcher whose network is a fake shop (no request leaves the process)."""
    import httpx

    from ecomvideo.scraping import SafeFetcher

    page = (PAGES / "jsonld_simple.html").read_bytes()

    class Shop(httpx.BaseTransport):
        # A transport (not MockTransport, which pre-reads bodies) so the fetcher can stream.
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/robots.txt":
                return httpx.Response(404, stream=httpx.ByteStream(b""))
            if request.url.path.endswith(".jpg"):
                body, kind = png, "image/png"
            else:
                body, kind = page, "text/html; charset=utf-8"
            return httpx.Response(
                200, headers={"content-type": kind}, stream=httpx.ByteStream(body)
            )

    # A public address, so the real (strict) address policy runs.
    return SafeFetcher(resolver=lambda host, port: ["93.184.216.34"], transport=Shop())


@pytest.fixture
def shop_fetcher():
    from PIL import Image

    from ecomvideo.services import product_scraper

    buffer = io.BytesIO()
    Image.new("RGB", (640, 640), (200, 90, 40)).save(buffer, format="PNG")
    product_scraper.set_fetcher(_shop_fetcher(buffer.getvalue()))
    try:
        yield
    finally:
        product_scraper.set_fetcher(None)


def test_url_input_scrapes_the_product_and_renders_its_image(
    session, stack: PipelineStack, local_provider, shop_fetcher
):
    user = make_user(session)
    make_grant(session, user, 10)
    accepted = _create(
        user.id,
        {
            "input_type": "Url",
            "product_url": "https://northwindgoods.com/products/aurora-dripper",
            "resolution": "180x320",
            "duration_seconds": 1,
        },
    )

    steps = stack.pump(_settled(session, accepted["id"]))

    video = _video(session, accepted["id"])
    assert steps == ["ScrapeProduct", "GenerateVideo", "Finalize"], video.error_message
    assert video.status is VideoStatus.COMPLETED
    assert video.product_data_id is not None
    assert video.product.scraping_status.value == "Success"
    assert video.product.name
    assert credits.balance(session, user.id) == 10 - video.generation_cost_credits


def test_url_input_on_a_private_address_fails_clearly_and_releases(session, stack: PipelineStack):
    user = make_user(session)
    make_grant(session, user, 10)
    accepted = _create(
        user.id,
        {
            "input_type": "Url",
            "product_url": "https://169.254.169.254/latest/meta-data/",
            "resolution": "180x320",
            "duration_seconds": 1,
        },
    )

    steps = stack.pump(_settled(session, accepted["id"]))

    video = _video(session, accepted["id"])
    assert steps == ["ScrapeProduct", "MarkFailed"]
    assert video.status is VideoStatus.FAILED
    assert "private or reserved" in (video.error_message or "")
    assert credits.balance(session, user.id) == 10


def test_cancel_mid_way_ends_cancelled_released_and_nothing_rendered(
    session, stack: PipelineStack, local_provider
):
    user = make_user(session)
    make_grant(session, user, 10)
    accepted = _create(
        user.id,
        {
            "input_type": "Text",
            "text_prompt": "Mug",
            "resolution": "180x320",
            "duration_seconds": 1,
        },
    )
    cancelled = []

    def cancel_before_video(body: dict[str, Any]) -> bool:
        if body["step"] == "GenerateVideo" and not cancelled:
            status, answer, _ = call(
                "videos", "POST", f"/v1/videos/{accepted['id']}/cancel", user_id=user.id
            )
            assert (status, answer["status"]) == (200, "Cancelled")
            cancelled.append(True)
        return True

    stack.pump(
        lambda: bool(cancelled) and not stack.receive(), on_message=cancel_before_video, timeout=30
    )

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.CANCELLED
    assert credits.balance(session, user.id) == 10
    assert local_provider["video"] == 0
    assert "Charge" not in _movements(session, video.id)
    again = call("videos", "POST", f"/v1/videos/{video.id}/cancel", user_id=user.id)
    assert again[0] == 200 and again[1]["status"] == "Cancelled"
    assert stack.wait_execution(video.id) in {"ABORTED", "FAILED"}


def test_redelivered_messages_do_not_render_twice_or_charge_twice(
    session, stack: PipelineStack, local_provider, monkeypatch
):
    user = make_user(session)
    make_grant(session, user, 10)
    accepted = _create(
        user.id,
        {
            "input_type": "Text",
            "text_prompt": "Desk lamp",
            "resolution": "180x320",
            "duration_seconds": 1,
        },
    )
    real_send = pipeline.send_success
    crashed: list[str] = []

    def crash_once_after_the_work(token: str, output: dict[str, Any]) -> bool:
        # The worker dies after the provider call and the bookkeeping, before answering.
        if "videoKey" in output and not crashed:
            crashed.append("GenerateVideo")
            raise ConnectionError("lambda timed out")
        return real_send(token, output)

    monkeypatch.setattr(pipeline.messages, "send_success", crash_once_after_the_work)
    finalize_messages: list[dict[str, Any]] = []

    def keep_finalize(body: dict[str, Any]) -> bool:
        if body["step"] == "Finalize":
            finalize_messages.append(body)
        return True

    steps = stack.pump(_settled(session, accepted["id"]), on_message=keep_finalize)
    # SQS delivers the Finalize message once more after it succeeded.
    duplicate = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "dup",
        "Body": json.dumps(finalize_messages[0]),
    }
    result = stack.deliver([duplicate], delete=False)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED
    assert crashed == ["GenerateVideo"]
    assert steps.count("GenerateVideo") == 2  # redelivered after the crash
    assert local_provider["video"] == 1  # ...but rendered once
    assert result == {"batchItemFailures": []}
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
    assert credits.charged_amount(session, video.id) == accepted["cost"]
    row = session.get(PipelineStep, (video.id, 1, "GenerateVideo"))
    assert (row.state, row.deliveries) == ("Done", 1)


def test_async_provider_task_is_started_once_and_resumed_by_complete_step(
    session, stack: PipelineStack
):
    started: list[str] = []

    class AsyncImages:
        name = "Local"
        asynchronous = True

        def start_image(self, request):
            started.append(request.reference)
            return ProviderResult.pending(f"task-{len(started)}")

        def start_video(self, request):
            return _real().start_video(request)

        def poll_image(self, task_id):  # pragma: no cover
            return ProviderResult.pending(task_id)

        def poll_video(self, task_id):  # pragma: no cover
            raise NotImplementedError

    user = make_user(session)
    make_grant(session, user, 10)
    register_provider("Local", lambda: AsyncImages())
    try:
        accepted = _create(
            user.id,
            {
                "input_type": "Text",
                "text_prompt": "Vase",
                "resolution": "180x320",
                "duration_seconds": 1,
            },
        )
        video_id = uuid.UUID(accepted["id"])
        messages = []
        stack.pump(lambda: bool(messages), on_message=lambda b: messages.append(b) or True)
        # The same GenerateImage message delivered again (at-least-once delivery).
        again = stack.deliver(
            [{"MessageId": "m2", "ReceiptHandle": "r2", "Body": json.dumps(messages[0])}],
            delete=False,
        )
        assert again == {"batchItemFailures": []}
        assert started == [f"{video_id}:1:GenerateImage"]
        row = session.get(PipelineStep, (video_id, 1, "GenerateImage"))
        assert (row.state, row.provider_task_id) == ("Started", "task-1")
        assert _video(session, video_id).status is VideoStatus.GENERATING_IMAGE

        # The webhook (issue 6) stores the image and resumes the execution.
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (180, 320), (10, 120, 200)).save(buffer, "PNG")
        key = f"users/{user.id}/videos/{video_id}/work/a1-image.png"
        stack.s3.put_object(Bucket=stack.videos_bucket, Key=key, Body=buffer.getvalue())
        assert pipeline.complete_step(video_id, 1, "GenerateImage", {"imageKey": key}) == (
            "completed"
        )
        assert pipeline.complete_step(video_id, 1, "GenerateImage", {"imageKey": "x"}) == (
            "completed"
        )
        stack.pump(_settled(session, video_id))
    finally:
        register_provider("Local", "ecomvideo.providers.local:create_provider")

    video = _video(session, video_id)
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert len(started) == 1
    assert credits.charged_amount(session, video_id) == accepted["cost"]


def test_retry_of_a_failed_video_runs_a_new_execution_with_a_new_hold(
    session, stack: PipelineStack
):
    user = make_user(session)
    make_grant(session, user, 10)
    register_provider("Local", lambda: _Rejecting())
    try:
        accepted = _create(
            user.id,
            {
                "input_type": "Text",
                "text_prompt": "Chair",
                "resolution": "180x320",
                "duration_seconds": 1,
            },
        )
        stack.pump(_settled(session, accepted["id"]))
    finally:
        register_provider("Local", "ecomvideo.providers.local:create_provider")
    assert _video(session, accepted["id"]).status is VideoStatus.FAILED

    status, retried, _ = call(
        "videos", "POST", f"/v1/videos/{accepted['id']}/retry", user_id=user.id
    )
    assert status == 202 and retried["status"] == "Pending"
    stack.pump(_settled(session, accepted["id"]))

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert stack.wait_execution(video.id, attempt=2) == "SUCCEEDED"
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
    assert sorted(_movements(session, video.id)) == ["Charge", "Hold", "Hold", "Release"]
    again = call("videos", "POST", f"/v1/videos/{video.id}/retry", user_id=user.id)
    assert again[0] == 409


def test_status_never_leaves_a_terminal_state():
    video = Video(status=VideoStatus.CANCELLED)
    with pytest.raises(pipeline.InvalidTransition):
        pipeline.transition(video, VideoStatus.GENERATING_VIDEO)
    video = Video(status=VideoStatus.GENERATING_VIDEO)
    with pytest.raises(pipeline.InvalidTransition):
        pipeline.transition(video, VideoStatus.GENERATING_IMAGE)
    video = Video(status=VideoStatus.FAILED)
    with pytest.raises(pipeline.InvalidTransition):
        pipeline.transition(video, VideoStatus.PENDING)
    assert pipeline.transition(video, VideoStatus.PENDING, retry=True) is True
