"""Recovery of the Freepik pipeline under faults, in seconds rather than minutes.

moto runs the real ASL (provider waits of 300 s, a 30 s queue visibility timeout where a test
must show that nothing waits for it), the fake Freepik answers at the HTTP layer, and the poll
cadence is cut to 1 s (``PROVIDER_POLL_INTERVALS``) so that "within one poll interval" is a
short, measurable bound.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from ecomvideo import clock
from ecomvideo.enums import SettingDataType, VideoStatus
from ecomvideo.models import SystemSetting
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.services import credits, pipeline, system_settings
from ecomvideo.settings import reset_settings
from tests.fakes.freepik_fake import freepik_configured
from tests.integration.pipeline.test_pipeline_freepik import _create, _video, run, webhook
from tests.support.factories import make_grant, make_user, make_video
from tests.support.pipeline_stack import PipelineStack, call

INTERVAL = 1.0


@pytest.fixture
def slow_queue(aws, monkeypatch):
    """A stack whose queue hides a failed message for 30 s (production: 360 s)."""
    monkeypatch.setenv("PROVIDER_POLL_INTERVALS", str(INTERVAL))
    stack = PipelineStack(visibility_timeout=30)
    try:
        with freepik_configured(monkeypatch) as state:
            yield stack, state
    finally:
        stack.close()
        reset_settings()


def _steps(session, video_id) -> dict[str, PipelineStep]:
    session.expire_all()
    rows = session.scalars(
        select(PipelineStep).where(PipelineStep.video_id == uuid.UUID(str(video_id)))
    )
    return {row.step: row for row in rows}


def test_lost_webhooks_complete_within_one_poll_interval(session, slow_queue):
    stack, freepik = slow_queue
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)
    finished_at: dict[str, float] = {}
    resumed_after: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while not _video(session, video_id).status.is_terminal:
        assert time.monotonic() < deadline
        messages = stack.receive()
        if messages:
            stack.deliver(messages)
        for task_id, task in list(freepik.tasks.items()):
            if task.status == "CREATED":
                freepik.complete(task_id)
                finished_at[task.kind] = time.monotonic()
        freepik.pop_outbox()  # every webhook is lost
        rows = _steps(session, video_id)
        for kind, step in (("image", "GenerateImage"), ("video", "GenerateVideo")):
            row = rows.get(step)
            if kind in finished_at and kind not in resumed_after and row and row.state == "Done":
                resumed_after[kind] = time.monotonic() - finished_at[kind]
        time.sleep(0.05)

    video = _video(session, video_id)
    assert video.status is VideoStatus.COMPLETED, video.error_message
    # No state machine timeout (300 s) and no sweep: the poll scheduled with the task did it.
    assert set(resumed_after) == {"image", "video"}
    assert max(resumed_after.values()) <= INTERVAL + 1.5, resumed_after
    assert credits.charged_amount(session, video.id) == 2


def test_a_429_burst_resumes_after_retry_after_not_the_visibility_timeout(session, slow_queue):
    stack, freepik = slow_queue
    user = make_user(session)
    make_grant(session, user, 10)
    # More 429s than the client retries in-process: the worker must re-schedule the step.
    freepik.fail_next("rate_limited", times=5, scope="create", retry_after=2)
    video_id = _create(user.id)

    run(session, stack, freepik, video_id, timeout=60)

    assert _video(session, video_id).status is VideoStatus.COMPLETED
    creates = [
        at
        for (method, path), at in zip(freepik.calls, freepik.call_times, strict=True)
        if method == "POST" and path.endswith("/mystic")
    ]
    assert len(creates) == 6
    gaps = [b - a for a, b in itertools.pairwise(creates)]
    # Each retry ~2 s after the previous 429 (Retry-After: 2); the queue would hide it 30 s.
    assert all(1.9 <= gap <= 3.5 for gap in gaps), gaps


def test_a_redelivered_step_does_not_regress_the_task_token(session, stack, monkeypatch):
    with freepik_configured(monkeypatch) as freepik:
        user = make_user(session)
        make_grant(session, user, 10)
        video_id = _create(user.id)
        original = None
        deadline = time.monotonic() + 10
        while original is None:  # moto runs the execution in a thread
            assert time.monotonic() < deadline
            original = next(iter(stack.receive(wait=1)), None)
        stack.deliver([original], delete=False)
        row = _steps(session, video_id)["GenerateImage"]
        assert row.provider_task_id in freepik.tasks and row.token_entered_at is not None
        # A newer wait (e.g. the PollImage state after a timeout) took over the step.
        row.task_token = "token-of-the-newer-wait"
        row.token_entered_at = row.token_entered_at + timedelta(minutes=5)
        session.commit()

        stack.deliver([original], delete=False)  # SQS redelivers the old step message

        row = _steps(session, video_id)["GenerateImage"]
        assert row.task_token == "token-of-the-newer-wait"
        assert row.deliveries == 2 and len(freepik.tasks) == 1  # and no second paid task


def _step_message(token: str, entered_at: str) -> pipeline.StepMessage:
    return pipeline.StepMessage.parse(
        {
            "step": "GenerateVideo",
            "videoId": str(uuid.uuid4()),
            "userId": str(uuid.uuid4()),
            "taskToken": token,
            "enteredAt": entered_at,
        }
    )


def test_a_newer_token_replaces_the_stored_one_and_an_older_does_not():
    row = PipelineStep(task_token="old", token_entered_at=datetime(2026, 1, 1, 12, 0, 0))

    assert pipeline.take_token(row, _step_message("new", "2026-01-01T12:00:01.5Z"))
    assert row.task_token == "new"
    assert not pipeline.take_token(row, _step_message("older", "2026-01-01T11:00:00Z"))
    assert row.task_token == "new"


def test_a_webhook_before_the_task_id_commit_is_parked_and_reapplied(
    session, slow_queue, monkeypatch
):
    stack, freepik = slow_queue
    record_started = pipeline.rows.record_started

    def webhook_first(message, started):
        # Freepik finishes and calls back before our worker committed the task id.
        freepik.complete(started.task_id)
        for delivery in freepik.pop_outbox():
            assert webhook(delivery) == (200, {"received": True, "outcome": "parked"})
        record_started(message, started)

    monkeypatch.setattr(pipeline.rows, "record_started", webhook_first)
    monkeypatch.setenv("PROVIDER_POLL_INTERVALS", "60")  # the poll must not be what saves it
    reset_settings()
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)

    started = time.monotonic()
    run(session, stack, freepik, video_id, timeout=30)

    assert _video(session, video_id).status is VideoStatus.COMPLETED
    assert time.monotonic() - started < 20


def test_the_sweep_polls_by_due_time_not_age(session):
    user = make_user(session)
    now = clock.utcnow()
    rows = []
    for name, started_ago, due_in in (
        ("old-not-due", 60, +5),
        ("young-overdue", 1, -30),
        ("old-overdue", 60, -10),
        ("legacy", 20, None),  # before polling was scheduled: due from its start
    ):
        video = make_video(session, user, status=VideoStatus.GENERATING_VIDEO)
        rows.append(
            PipelineStep(
                video_id=video.id,
                attempt=1,
                step="GenerateVideo",
                state="Started",
                provider_task_id=name,
                started_at=now - timedelta(minutes=started_ago),
                next_poll_at=None if due_in is None else now + timedelta(minutes=due_in),
            )
        )
    session.add_all(rows)
    session.commit()

    due = pipeline.stalled_provider_tasks(session, older_than_minutes=5)

    assert due == ["young-overdue", "legacy", "old-overdue"]


def test_five_videos_with_a_provider_limit_of_three_queue_and_all_complete(
    session, slow_queue, monkeypatch
):
    stack, freepik = slow_queue  # no setting: Freepik's account limit (3) is the default
    monkeypatch.setenv("PROVIDER_GATE_RETRY_SECONDS", "1")
    reset_settings()
    owners = {}
    for _ in range(5):
        user = make_user(session)
        make_grant(session, user, 10)
        owners[_create(user.id)] = user.id
    born: dict[str, float] = {}
    peak, queued_seen = 0, []
    started = time.monotonic()
    while not all(_video(session, v).status.is_terminal for v in owners):
        assert time.monotonic() - started < 60
        messages = stack.receive()
        if messages:
            stack.deliver(messages)
        running = [t for t in freepik.tasks.values() if t.status not in ("COMPLETED", "FAILED")]
        peak = max(peak, len(running))
        for task in running:  # each provider task takes ~1 s
            if time.monotonic() - born.setdefault(task.task_id, time.monotonic()) >= 1.0:
                freepik.complete(task.task_id)
        for delivery in freepik.pop_outbox():
            assert webhook(delivery)[0] == 200
        if not queued_seen:
            for video_id, user_id in owners.items():
                _, detail, _ = call("videos", "GET", f"/v1/videos/{video_id}", user_id=user_id)
                if detail["progress_step"] == "Queued":
                    queued_seen.append(detail["queue_position"])
        time.sleep(0.05)
    elapsed = time.monotonic() - started

    assert all(_video(session, v).status is VideoStatus.COMPLETED for v in owners)
    assert peak <= 3  # never more provider tasks in flight than the account allows
    assert queued_seen and queued_seen[0] >= 1  # the 4th/5th showed Queued with a position
    # No step waited for the queue's 30 s visibility timeout (nor the 300 s step timeout).
    assert elapsed < 30, elapsed
    assert len(freepik.tasks) == 10  # one image and one video task per video, none repeated


@pytest.fixture
def provider_limit(session):
    """Sets the admins' per-account limit (system setting ``pipeline.provider_concurrency``);
    the settings cache is cleared before and after, so no other test sees it."""

    def set_limits(limits: dict[str, int]) -> None:
        session.add(
            SystemSetting(
                key="pipeline.provider_concurrency",
                value=json.dumps(limits),
                data_type=SettingDataType.JSON,
            )
        )
        session.commit()
        system_settings.clear_cache()

    yield set_limits
    system_settings.clear_cache()


def test_a_freed_slot_goes_to_the_oldest_queued_step_whoever_retries_first(
    session, stack, freepik, monkeypatch, provider_limit
):
    # A held-back message comes back after the queue's 1 s visibility timeout.
    monkeypatch.setenv("PROVIDER_GATE_RETRY_SECONDS", "1")
    reset_settings()
    provider_limit({"Freepik": 1})  # overrides Freepik's default of 3
    user = make_user(session)
    make_grant(session, user, 30)

    def image_step(video_id):
        return _steps(session, video_id).get("GenerateImage")

    def feed(until, hold=()) -> None:
        deadline = time.monotonic() + 20
        while not until():
            assert time.monotonic() < deadline
            messages = stack.receive()
            held = [m for m in messages if json.loads(m["Body"]).get("videoId") in hold]
            chosen = [m for m in messages if m not in held]
            if chosen:
                stack.deliver(chosen)
            for delivery in freepik.pop_outbox():
                assert webhook(delivery)[0] == 200
            time.sleep(0.05)

    first = _create(user.id)
    feed(lambda: (row := image_step(first)) is not None and row.state == "Started")
    older, newer = _create(user.id), _create(user.id)
    feed(lambda: (row := image_step(older)) is not None and row.state == "Queued")
    feed(lambda: (row := image_step(newer)) is not None and row.state == "Queued")

    freepik.complete(_steps(session, first)["GenerateImage"].provider_task_id)  # slot freed
    # Only the newer video's retries reach the worker for a while: it must not take the slot.
    until = time.monotonic() + 3
    feed(lambda: time.monotonic() > until, hold={older})
    assert image_step(newer).state == "Queued" and image_step(newer).provider_task_id is None
    assert _steps(session, first).get("GenerateVideo").state == "Queued"  # behind both

    feed(lambda: image_step(older).state == "Started")  # the older one's retry takes it
    assert image_step(newer).state == "Queued"
    assert len(freepik.tasks) == 2  # the first video's image, then the older video's


def _upload(stack, user_id, size: tuple[int, int]) -> str:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, format="PNG")
    status, ticket, _ = call(
        "videos",
        "POST",
        "/v1/uploads",
        user_id=user_id,
        body={"content_type": "image/png", "size_bytes": len(buf.getvalue())},
    )
    assert status == 201, ticket
    stack.s3.put_object(
        Bucket=stack.uploads_bucket,
        Key=ticket["upload_key"],
        Body=buf.getvalue(),
        ContentType="image/png",
    )
    return ticket["upload_key"]


def _image_video(user_id, **source: str):
    """POST /v1/videos for a 5 s Freepik video of an image (``upload_key`` or ``image_url``)."""
    body = {"input_type": "Image", "provider": "Freepik", "resolution": "720x1280"}
    body["duration_seconds"] = 5
    return call("videos", "POST", "/v1/videos", user_id=user_id, body=body | source)


@pytest.mark.parametrize(
    ("size", "reason"),
    [((200, 200), "at least 300x300 px"), ((300, 1000), "ratio must be between 1:2.5 and 2.5:1")],
)
def test_an_upload_outside_the_video_models_limits_is_422_before_credits_are_held(
    session, stack, monkeypatch, size, reason
):
    with freepik_configured(monkeypatch) as freepik:
        user = make_user(session)
        make_grant(session, user, 10)
        bad = _image_video(user.id, upload_key=_upload(stack, user.id, size))
        good = _image_video(user.id, upload_key=_upload(stack, user.id, (576, 1024)))

    assert bad[0] == 422 and reason in bad[1]["detail"], bad[1]
    assert good[0] == 202, good[1]
    assert credits.balance(session, user.id) == 10 - good[1]["cost"]  # only the good one held
    assert freepik.calls == []


def _png(size: tuple[int, int]) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def image_host():
    """The scraper's SSRF-safe fetcher over an in-process "CDN": ``/<w>x<h>.png`` serves a PNG
    of that size, ``/huge.png`` 11 MB; cdn.test is public, intranet.test a private address."""
    import httpx

    from ecomvideo.scraping import SafeFetcher
    from ecomvideo.services import product_scraper

    served: list[str] = []

    class Cdn(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            served.append(request.url.path)
            name = request.url.path.strip("/").removesuffix(".png")
            if name == "huge":
                body = b"\x89PNG" + bytes(11 << 20)
            else:
                body = _png(tuple(int(v) for v in name.split("x")))
            headers = {"content-type": "image/png", "content-length": str(len(body))}
            return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))

    def resolve(host: str, port: int) -> list[str]:
        return ["10.0.0.7"] if host == "intranet.test" else ["93.184.216.34"]

    product_scraper.set_fetcher(SafeFetcher(resolver=resolve, transport=Cdn()))
    try:
        yield served
    finally:
        product_scraper.set_fetcher(None)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://cdn.test/200x200.png", "at least 300x300 px"),
        ("https://cdn.test/1000x300.png", "ratio must be between 1:2.5 and 2.5:1"),
        ("https://cdn.test/huge.png", "larger than 10 MB"),
        ("https://intranet.test/576x1024.png", "could not be downloaded"),
    ],
)
def test_an_image_url_outside_the_video_models_limits_is_422_before_credits_are_held(
    session, stack, monkeypatch, image_host, url, reason
):
    with freepik_configured(monkeypatch) as freepik:
        user = make_user(session)
        make_grant(session, user, 10)
        bad = _image_video(user.id, image_url=url)
        good = _image_video(user.id, image_url="https://cdn.test/576x1024.png")

    assert bad[0] == 422, bad[1]
    assert reason in bad[1]["detail"] and bad[1]["errors"][0]["pointer"] == "/image_url"
    assert good[0] == 202, good[1]
    assert credits.balance(session, user.id) == 10 - good[1]["cost"]  # only the good one held
    assert freepik.calls == []
    assert "/576x1024.png" in image_host  # the good image was fetched (bounded) at create
