"""Correlation ids: API request -> Step Functions execution input -> pipeline worker logs."""

from __future__ import annotations

import json
import time

from tests.support.factories import make_grant, make_user
from tests.support.logs import captured_logs, log_records
from tests.support.pipeline_stack import api_event, context, load_function

TEXT = {
    "input_type": "Text",
    "text_prompt": "Bright sneakers on a beach",
    "title": "Sneakers",
    "duration_seconds": 5,
    "resolution": "180x320",
}


def test_the_api_request_id_reaches_the_execution_and_the_worker(session, stack):
    user = make_user(session)
    make_grant(session, user, 10)
    event = api_event("POST", "/v1/videos", user_id=user.id, body=TEXT)
    event["requestContext"]["requestId"] = "req-correlation-123"

    response = load_function("videos").lambda_handler(event, context("videos"))

    assert response["statusCode"] == 202, response["body"]
    video_id = json.loads(response["body"])["id"]
    execution_input = json.loads(stack.execution(video_id)["input"])
    assert execution_input["correlationId"] == "req-correlation-123"

    # The worker logs each step under the correlation id its message carries.
    deadline = time.monotonic() + 10
    messages = stack.receive()
    while not messages and time.monotonic() < deadline:
        time.sleep(0.05)
        messages = stack.receive()
    assert messages, "the state machine sent no step message"
    # The state machine copies the execution input's correlation id into every step message.
    assert json.loads(messages[0]["Body"])["correlationId"] == "req-correlation-123"

    with captured_logs() as stream:
        stack.deliver(messages[:1])

    worker_logs = [r for r in log_records(stream.getvalue()) if r.get("video_id") == video_id]
    assert worker_logs, "the worker logged nothing for the video"
    assert {r.get("correlation_id") for r in worker_logs} == {"req-correlation-123"}
