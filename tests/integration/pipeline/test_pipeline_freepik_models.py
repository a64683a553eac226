"""Freepik models chosen per template / plan, recorded per task, and used again when polling.

moto runs the real ASL; the fake Freepik serves each model on its own paths (Kling 2.5 polls on
``.../kling-v2-5-pro/{id}``, Kling 2.1 on ``.../kling-v2-1/{id}``), so polling a task with the
wrong model's path is a 404 and fails the video.
"""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from ecomvideo.enums import VideoStatus
from ecomvideo.models import Video, VideoTemplate
from tests.fakes.freepik_fake import FreepikFakeState, freepik_configured
from tests.support.api import webhook_event
from tests.support.factories import make_grant, make_subscription, make_user, plan_named
from tests.support.pipeline_stack import PipelineStack, call, context, load_function


@pytest.fixture
def freepik(monkeypatch, stack: PipelineStack):
    with freepik_configured(monkeypatch) as state:
        yield state


def _video(session, video_id) -> Video:
    session.expire_all()
    return session.get(Video, uuid.UUID(str(video_id)))


def _template(session, style: dict | None) -> VideoTemplate:
    template = session.scalars(
        select(VideoTemplate)
        .where(VideoTemplate.is_premium.is_(False), VideoTemplate.is_active.is_(True))
        .order_by(VideoTemplate.name)
    ).first()
    template.style_settings = style
    session.flush()
    return template


def _create(user_id, **extra) -> str:
    body = {
        "input_type": "Text",
        "title": "Aurora lamp",
        "text_prompt": "Aurora Smart Lamp on a desk, warm light",
        "provider": "Freepik",
        "resolution": "180x320",
        "duration_seconds": 5,
        # Every placeholder of the seeded templates.
        "variables": {
            "product_name": "Aurora lamp",
            "price": "$49",
            "discount": "20%",
            "tagline": "Light that follows you",
            "brand": "Aurora",
        },
        **extra,
    }
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user_id, body=body)
    assert status == 202, accepted
    return accepted["id"]


def _run(session, stack: PipelineStack, state: FreepikFakeState, video_id) -> None:
    """Feed the worker, finish every task, deliver every signed webhook through the handler."""
    handler = load_function("freepik_webhook").lambda_handler
    deadline = time.monotonic() + 60
    while not _video(session, video_id).status.is_terminal:
        assert time.monotonic() < deadline, "not settled"
        if messages := stack.receive():
            stack.deliver(messages)
        for task_id, task in list(state.tasks.items()):
            if task.status not in ("COMPLETED", "FAILED"):
                state.complete(task_id)
        for delivery in state.pop_outbox():
            event = webhook_event(
                "/webhooks/freepik", delivery.body, list(delivery.headers.items())
            )
            response = handler(event, context("freepik-webhook"))
            assert response["statusCode"] == 200, response
        time.sleep(0.05)


def _tasks(state: FreepikFakeState, kind: str):
    return [t for t in state.tasks.values() if t.kind == kind]


def test_template_model_is_used_to_start_and_to_poll(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    template = _template(session, {"motion": "zoom_in", "freepik_video_model": "kling-v2-5-pro"})
    video_id = _create(user.id, template_id=str(template.id))

    _run(session, stack, freepik, video_id)

    video = _video(session, video_id)
    assert video.status is VideoStatus.COMPLETED, video.error_message
    (image,), (clip,) = _tasks(freepik, "image"), _tasks(freepik, "video")
    assert (image.model, clip.model) == ("mystic", "kling-v2-5-pro")
    # The webhook resumed the step by polling the 2.5 path (2.1's would be a 404).
    polls = [
        path
        for method, path in freepik.calls
        if method == "GET" and path.startswith("/v1/ai/") and clip.task_id in path
    ]
    assert polls and all(p.startswith("/v1/ai/image-to-video/kling-v2-5-pro/") for p in polls)
    # The spec's task id columns are filled (unique partial indexes find the video).
    assert (video.freepik_image_task_id, video.freepik_task_id) == (image.task_id, clip.task_id)


def test_plan_feature_entry_chooses_the_model_when_the_template_does_not(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    starter = plan_named(session, "Starter")
    starter.features = [*(starter.features or []), "freepik_video_model=kling-v2-1-std"]
    make_subscription(session, user)
    template = _template(session, {"motion": "zoom_in"})
    video_id = _create(user.id, template_id=str(template.id))

    _run(session, stack, freepik, video_id)

    assert _video(session, video_id).status is VideoStatus.COMPLETED
    assert [t.model for t in _tasks(freepik, "video")] == ["kling-v2-1-std"]


def test_template_wins_over_the_plan(session, stack, freepik):
    user = make_user(session)
    make_grant(session, user, 10)
    starter = plan_named(session, "Starter")
    starter.features = {"freepik_video_model": "kling-v2-1-std"}  # the JSON object form
    make_subscription(session, user)
    template = _template(session, {"freepik_video_model": "kling-v2-6-pro"})
    video_id = _create(user.id, template_id=str(template.id))

    _run(session, stack, freepik, video_id)

    assert _video(session, video_id).status is VideoStatus.COMPLETED
    (clip,) = _tasks(freepik, "video")
    assert clip.model == "kling-v2-6-pro" and clip.request["duration"] == "5"
