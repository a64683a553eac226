"""Freepik end to end: moto runs the real ASL, the fake Freepik answers at the HTTP layer, and
signed webhooks through the real webhook handler resume the execution."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from ecomvideo import clock
from ecomvideo.enums import VideoStatus
from ecomvideo.errors import PROVIDER_ACCOUNT_PROBLEM
from ecomvideo.models import CreditMovement, FreepikWebhookEvent, MovementKind, PipelineStep, Video
from ecomvideo.services import credits, pipeline
from ecomvideo.settings import reset_settings
from tests.fakes.freepik_fake import (
    WEBHOOK_SECRET,
    WebhookDelivery,
    freepik_configured,
)
from tests.support.api import webhook_event
from tests.support.factories import make_grant, make_user
from tests.support.lambda_handlers import invoke_in_fresh_interpreter
from tests.support.logs import captured_logs, log_records
from tests.support.pipeline_stack import (
    ROOT,
    PipelineStack,
    api_event,
    call,
    context,
    load_function,
)

SECRET = WEBHOOK_SECRET
BODY = {
    "input_type": "Text",
    "title": "Aurora lamp",
    "text_prompt": "Aurora Smart Lamp on a desk, warm light",
    "provider": "Freepik",
    "resolution": "180x320",
    "duration_seconds": 5,
}


def webhook(delivery: WebhookDelivery, *, base64_body: bool = False, **header_overrides: str):
    headers = {**delivery.headers, **header_overrides}
    event = webhook_event("/webhooks/freepik", delivery.body, list(headers.items()))
    if base64_body:
        event["body"] = base64.b64encode(delivery.body).decode()
        event["isBase64Encoded"] = True
    response = load_function("freepik_webhook").lambda_handler(event, context("freepik-webhook"))
    return response["statusCode"], json.loads(response["body"])


def _video(session, video_id) -> Video:
    session.expire_all()
    return session.get(Video, uuid.UUID(str(video_id)))


def _create(user_id) -> str:
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user_id, body=BODY)
    assert status == 202, accepted
    return accepted["id"]


def run(session, stack, state, video_id, *, complete=True, deliver=True, timeout=60.0):
    """Feed the worker; finish every Freepik task and deliver its webhooks until settled."""
    steps: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _video(session, video_id).status.is_terminal:
            return steps
        messages = stack.receive()
        if messages:
            bodies = [json.loads(m["Body"]) for m in messages]
            # State machine steps; a webhook's ResumeProviderTask hand-off has no "step".
            steps += [b["step"] for b in bodies if "step" in b]
            stack.deliver(messages)
        if complete:
            for task_id, task in list(state.tasks.items()):
                if task.status not in ("COMPLETED", "FAILED"):
                    state.complete(task_id)
        for delivery in state.pop_outbox():
            if deliver:
                status, body = webhook(delivery)
                assert status == 200, body
        time.sleep(0.05)
    raise AssertionError(f"not settled; steps: {steps}")


def test_signed_webhooks_drive_image_then_video_to_completed(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)

    steps = run(session, stack, freepik, video_id)

    video = _video(session, video_id)
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert steps[:2] == ["GenerateImage", "GenerateVideo"] and steps[-1] == "Finalize"
    assert {t.kind for t in freepik.tasks.values()} == {"image", "video"}
    image_task, video_task = sorted(freepik.tasks.values(), key=lambda t: t.kind)
    # 9:16 mapped to Mystic's name; our webhook URL on both tasks; duration as Kling's "5".
    assert image_task.request["aspect_ratio"] == "social_story_9_16"
    assert image_task.webhook_url == video_task.webhook_url
    assert image_task.webhook_url == "https://api.ecomvideo.test/webhooks/freepik"
    assert video_task.request["duration"] == "5"
    # Kling fetches the still from our S3 copy through a presigned GET URL, not the CDN link.
    assert "/work/a1-image." in video_task.request["image"]
    assert (
        "Signature=" in video_task.request["image"]
        or "X-Amz-Signature=" in (video_task.request["image"])
    )
    assert video.ai_provider == "Freepik"
    # The clip (the fake serves 360x640) is the hero scene of the storyboard composed at the
    # size asked for; the stored file is probed.
    assert (video.meta["width"], video.meta["height"], video.meta["codec"]) == (180, 320, "h264")
    assert [s["media"] for s in video.meta["scenes"]].count("generated_clip") == 1
    bucket, key = video.video_url.removeprefix("s3://").split("/", 1)
    stored = stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert len(stored) == video.meta["fileSize"] == video.file_size_bytes
    charges = session.scalars(
        select(CreditMovement).where(
            CreditMovement.video_id == video.id, CreditMovement.kind == MovementKind.CHARGE
        )
    ).all()
    assert sum(c.amount for c in charges) == video.generation_cost_credits == 2
    assert credits.balance(session, user.id) == 8


def test_webhooks_log_under_the_correlation_id_of_the_creating_request(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    event = api_event("POST", "/v1/videos", user_id=user.id, body=BODY)
    event["requestContext"]["requestId"] = "req-origin-42"
    response = load_function("videos").lambda_handler(event, context("videos"))
    assert response["statusCode"] == 202, response["body"]
    video_id = json.loads(response["body"])["id"]

    with captured_logs() as stream:
        run(session, stack, freepik, video_id)

    resumed = [r for r in log_records(stream.getvalue()) if r["message"] == "provider task resumed"]
    assert len(resumed) == 2, resumed  # the image task, then the video task
    assert {r["correlation_id"] for r in resumed} == {"req-origin-42"}
    assert {r["video_id"] for r in resumed} == {video_id}
    # The webhook's own API Gateway request id is kept beside it.
    assert all(r.get("trigger_id") and r["trigger_id"] != "req-origin-42" for r in resumed)
    # And it does not leak into the webhook's next log lines.
    after = [
        r for r in log_records(stream.getvalue()) if r["message"] == "Freepik webhook processed"
    ]
    assert after and all(r.get("correlation_id") != "req-origin-42" for r in after)


def _video_with_image_task(session, stack, freepik) -> tuple[str, str]:
    """A Freepik video whose worker has started its image task: (video id, task id)."""
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)
    deadline = time.monotonic() + 30
    while not freepik.tasks and time.monotonic() < deadline:  # the worker starts the image task
        stack.deliver(stack.receive())
    (task_id,) = freepik.tasks
    return video_id, task_id


def test_the_webhook_only_queues_the_resume_and_the_worker_copies_the_asset(
    session, stack, freepik
):
    video_id, task_id = _video_with_image_task(session, stack, freepik)
    freepik.complete(task_id)
    (delivery,) = freepik.pop_outbox()
    polls_before = len(freepik.calls)

    status, body = webhook(delivery)

    # Answered without polling Freepik or copying anything: one message for the worker.
    assert (status, body) == (200, {"received": True, "outcome": "queued"})
    assert len(freepik.calls) == polls_before
    messages = stack.receive()
    resume = [json.loads(m["Body"]) for m in messages]
    assert [(b["kind"], b["taskId"]) for b in resume] == [("ResumeProviderTask", task_id)]
    assert _video(session, video_id).image_url is None

    stack.deliver(messages)  # the worker polls, copies the image to S3 and resumes the step

    assert len(freepik.calls) > polls_before
    # The execution moves on (moto runs it in a thread): the next step message arrives.
    deadline = time.monotonic() + 20
    next_messages = stack.receive()
    while not next_messages and time.monotonic() < deadline:
        time.sleep(0.05)
        next_messages = stack.receive()
    assert [json.loads(m["Body"]).get("step") for m in next_messages] == ["GenerateVideo"]


def test_in_progress_webhooks_raise_the_progress_and_late_ones_never_lower_it(
    session, stack, freepik
):
    video_id, task_id = _video_with_image_task(session, stack, freepik)

    def provider_progress() -> int | None:
        session.expire_all()
        row = session.scalars(
            select(PipelineStep).where(PipelineStep.provider_task_id == task_id)
        ).one()
        return (row.output or {}).get("provider_progress")

    assert provider_progress() is None
    freepik.start(task_id)
    in_progress = [d for d in freepik.pop_outbox() if d.status == "IN_PROGRESS"]
    assert in_progress, "the fake sends IN_PROGRESS when a task starts"

    assert webhook(in_progress[0]) == (200, {"received": True, "outcome": "progress"})
    assert provider_progress() == 50
    from ecomvideo.webhooks.signature import sign_freepik_webhook

    created_late = json.dumps({"task_id": task_id, "status": "CREATED"}).encode()
    headers = sign_freepik_webhook(created_late, SECRET, "msg_late", int(time.time()))
    late = WebhookDelivery(None, task_id, "CREATED", "msg_late", created_late, headers)
    assert webhook(late) == (200, {"received": True, "outcome": "progress"})
    assert provider_progress() == 50  # a late, lower status never moves the video backwards
    assert _video(session, video_id).status is not VideoStatus.FAILED


def test_duplicate_and_reordered_webhooks_charge_once(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)
    seen: list[WebhookDelivery] = []

    # Deliver every webhook twice, and an old IN_PROGRESS after each COMPLETED.
    deadline = time.monotonic() + 60
    while not _video(session, video_id).status.is_terminal and time.monotonic() < deadline:
        messages = stack.receive()
        if messages:
            stack.deliver(messages)
        for task_id, task in list(freepik.tasks.items()):
            if task.status == "CREATED":
                freepik.start(task_id)
                freepik.complete(task_id)
        for delivery in freepik.pop_outbox():
            seen.append(delivery)
            assert webhook(delivery)[0] == 200
            assert webhook(delivery)[1]["outcome"] == "duplicate"
        for delivery in seen:
            if delivery.status == "IN_PROGRESS":
                late = freepik.delivery(delivery.task_id)  # current status, new id
                late_progress = WebhookDelivery(
                    late.url,
                    late.task_id,
                    "IN_PROGRESS",
                    delivery.webhook_id + "-late",
                    delivery.body,
                    delivery.headers,
                )
                webhook(late_progress)
        time.sleep(0.05)

    video = _video(session, video_id)
    assert video.status is VideoStatus.COMPLETED
    assert credits.charged_amount(session, video.id) == 2
    assert credits.balance(session, user.id) == 8


def test_lost_webhooks_are_recovered_by_the_polling_sweep(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)
    deadline = time.monotonic() + 60
    while not _video(session, video_id).status.is_terminal and time.monotonic() < deadline:
        messages = stack.receive()
        if messages:
            stack.deliver(messages)
        for task_id, task in list(freepik.tasks.items()):
            if task.status == "CREATED":
                freepik.complete(task_id)
        freepik.pop_outbox()  # every webhook is lost
        clock.freeze(clock.utcnow().replace(microsecond=0) + timedelta(minutes=10))
        try:
            from tests.support.scheduled import run_task

            run_task("provider_poll")
        finally:
            clock.unfreeze()
        time.sleep(0.05)

    assert _video(session, video_id).status is VideoStatus.COMPLETED


def _short_timeouts_asl() -> str:
    """The real ASL with every provider wait (and the poll loop) cut to 2 seconds."""
    definition = json.loads((ROOT / "statemachines/video_pipeline.asl.json").read_text())
    for name in ("GenerateImage", "GenerateVideo", "PollImage", "PollVideo"):
        definition["States"][name]["TimeoutSeconds"] = 2
    return json.dumps(definition)


@pytest.fixture
def short_stack(aws, monkeypatch):
    stack = PipelineStack(asl_text=_short_timeouts_asl())
    try:
        with freepik_configured(monkeypatch, public_api_url=None) as state:
            yield stack, state
    finally:
        stack.close()


def _drive_without_webhooks(session, stack, state, video_id, *, complete_after_polls: int):
    """Feed the worker, lose every webhook; tasks finish only after N PollProvider rounds."""
    steps: list[str] = []
    deadline = time.monotonic() + 90
    while not _video(session, video_id).status.is_terminal:
        assert time.monotonic() < deadline, steps
        messages = stack.receive()
        if messages:
            bodies = [json.loads(m["Body"]) for m in messages]
            # State machine steps; a webhook's ResumeProviderTask hand-off has no "step".
            steps += [b["step"] for b in bodies if "step" in b]
            stack.deliver(messages)
        if steps.count("PollProvider") >= complete_after_polls:
            for task_id, task in list(state.tasks.items()):
                if task.status not in ("COMPLETED", "FAILED"):
                    state.complete(task_id)
        state.pop_outbox()  # every webhook is lost
        time.sleep(0.1)
    return steps


def test_state_machine_timeout_polls_the_provider_and_resumes(session, short_stack):
    stack, state = short_stack
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)

    steps = _drive_without_webhooks(session, stack, state, video_id, complete_after_polls=2)

    video = _video(session, video_id)
    assert video.status is VideoStatus.COMPLETED, (video.error_message, steps)
    # Image: timeout -> poll (still running) -> timeout -> poll (done); then the video step.
    assert steps.index("GenerateVideo") > steps.index("PollProvider")
    assert steps.count("PollProvider") >= 3 and steps[-1] == "Finalize"
    assert (video.meta["width"], video.meta["height"]) == (180, 320)
    assert credits.charged_amount(session, video.id) == 2


def test_a_task_running_past_the_maximum_wait_fails_and_releases(session, short_stack, monkeypatch):
    stack, state = short_stack
    monkeypatch.setenv("PROVIDER_MAX_WAIT_MINUTES", "0")
    reset_settings()
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)

    steps = _drive_without_webhooks(session, stack, state, video_id, complete_after_polls=99)

    video = _video(session, video_id)
    assert steps == ["GenerateImage", "PollProvider", "MarkFailed"]
    assert video.status is VideoStatus.FAILED
    assert video.error_message == pipeline.TIMEOUT_MESSAGE
    assert credits.balance(session, user.id) == 10


def test_invalid_params_fails_the_video_clearly_and_releases_credits(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    freepik.fail_next(
        "invalid_params",
        scope="create",
        invalid_params=[{"name": "prompt", "reason": "Prompt is not allowed"}],
    )
    video_id = _create(user.id)

    steps = run(session, stack, freepik, video_id)

    video = _video(session, video_id)
    assert steps == ["GenerateImage", "MarkFailed"]
    assert video.status is VideoStatus.FAILED
    assert video.error_message == "provider rejected the request: prompt: Prompt is not allowed"
    assert credits.balance(session, user.id) == 10


@pytest.mark.parametrize("scope", ["create", "poll"])
def test_our_provider_account_out_of_credits_is_never_shown_to_the_user(
    session, stack, freepik, scope
):
    user = make_user(session)
    make_grant(session, user, 10)
    freepik.fail_next("out_of_credits", scope=scope, message="Not enough credits in balance")
    video_id = _create(user.id)

    with captured_logs() as logs:
        run(session, stack, freepik, video_id)

    video = _video(session, video_id)
    assert video.status is VideoStatus.FAILED
    # Product words only: not the vendor, not its message, not "out of credits".
    assert video.error_message == PROVIDER_ACCOUNT_PROBLEM
    _, detail, _ = call("videos", "GET", f"/v1/videos/{video_id}", user_id=user.id)
    assert detail["error_message"] == PROVIDER_ACCOUNT_PROBLEM  # what the API shows
    assert credits.balance(session, user.id) == 10
    # The operators hear of it: an error log line and the alarm's metric.
    records = log_records(logs.getvalue())
    assert any(r.get("level") == "ERROR" and "out of credits" in r["message"] for r in records)


def test_rate_limited_create_is_retried_then_succeeds(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    freepik.fail_next("rate_limited", scope="create", retry_after=1)
    video_id = _create(user.id)

    run(session, stack, freepik, video_id)

    assert _video(session, video_id).status is VideoStatus.COMPLETED
    creates = [c for c in freepik.calls if c[0] == "POST" and c[1].endswith("/mystic")]
    assert len(creates) == 2


def test_failed_task_webhook_fails_the_video_and_releases(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    video_id = _create(user.id)
    deadline = time.monotonic() + 60
    while not _video(session, video_id).status.is_terminal and time.monotonic() < deadline:
        messages = stack.receive()
        if messages:
            stack.deliver(messages)
        for task_id, task in list(freepik.tasks.items()):
            if task.status == "CREATED":
                freepik.fail(task_id)
        for delivery in freepik.pop_outbox():
            assert webhook(delivery)[0] == 200
        time.sleep(0.05)
    video = _video(session, video_id)
    assert video.status is VideoStatus.FAILED
    assert video.error_message == "generation failed at provider"
    assert credits.balance(session, user.id) == 10


# ---------------------------------------------------------------------------- signatures


@pytest.fixture
def delivery(freepik) -> WebhookDelivery:
    from ecomvideo.webhooks.signature import sign_freepik_webhook

    body = json.dumps({"task_id": "no-such-task", "status": "COMPLETED", "generated": []}).encode()
    headers = sign_freepik_webhook(body, SECRET, "msg_1", int(time.time()))
    return WebhookDelivery(None, "no-such-task", "COMPLETED", "msg_1", body, headers)


def test_valid_signature_for_an_unknown_task_is_acknowledged_and_parked(delivery, session):
    assert webhook(delivery) == (200, {"received": True, "outcome": "parked"})
    parked = session.get(FreepikWebhookEvent, "msg_1")
    assert (parked.task_id, parked.status) == ("no-such-task", "COMPLETED")


def test_base64_body_from_api_gateway_is_verified(delivery, session):
    assert webhook(delivery, base64_body=True)[0] == 200


def test_one_valid_entry_among_several_is_enough(delivery, session):
    good = delivery.headers["webhook-signature"]
    assert webhook(delivery, **{"webhook-signature": f"v1,AAAA {good} v2,BBBB"})[0] == 200


@pytest.mark.parametrize(
    "change",
    ["wrong_secret", "tampered", "old", "future", "missing"],
)
def test_bad_signatures_get_401_and_change_nothing(delivery, session, change):
    from ecomvideo.models import FreepikWebhookEvent
    from ecomvideo.webhooks.signature import sign_freepik_webhook

    now = int(time.time())
    body, headers = delivery.body, dict(delivery.headers)
    if change == "wrong_secret":
        headers = sign_freepik_webhook(body, "other-secret", "msg_1", now)
    elif change == "tampered":
        body = body.replace(b"COMPLETED", b"FAILED")
    elif change == "old":
        headers = sign_freepik_webhook(body, SECRET, "msg_1", now - 301)
    elif change == "future":
        headers = sign_freepik_webhook(body, SECRET, "msg_1", now + 301)
    else:
        headers.pop("webhook-signature")
    forged = WebhookDelivery(None, delivery.task_id, delivery.status, "msg_1", body, headers)
    status, payload = webhook(forged)
    assert status == 401
    assert payload["title"] == "Invalid signature"
    assert session.scalar(select(FreepikWebhookEvent.webhook_id)) is None


def test_rejection_happens_before_the_orm_is_imported():
    event = {
        "version": "2.0",
        "routeKey": "POST /webhooks/freepik",
        "rawPath": "/webhooks/freepik",
        "headers": {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AA"},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/freepik"}},
        "body": "{}",
        "isBase64Encoded": False,
    }
    result = invoke_in_fresh_interpreter(
        "freepik_webhook", event, {"FREEPIK_WEBHOOK_SECRET": SECRET}
    )
    assert result == {"status": 401, "imported": []}


@pytest.mark.parametrize(
    "body",
    [
        b'{"task_id":"t","status":"COMPLETED","n":' + b"7" * 5000 + b"}",
        b'{"task_id":"t","generated":' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
    ids=["5000-digit integer", "5000-deep nesting"],
)
def test_signed_hostile_json_is_a_400_not_a_500(freepik, session, body):
    from ecomvideo.webhooks.signature import sign_freepik_webhook

    headers = sign_freepik_webhook(body, SECRET, "msg_hostile", int(time.time()))
    hostile = WebhookDelivery(None, "t", "COMPLETED", "msg_hostile", body, headers)

    assert webhook(hostile)[0] == 400
