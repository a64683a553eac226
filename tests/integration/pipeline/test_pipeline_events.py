"""The sample SQS events in events/pipeline/ are what the worker accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecomvideo.services import pipeline
from tests.support.pipeline_stack import context, load_function

EVENTS = sorted((Path(__file__).resolve().parents[3] / "events/pipeline").glob("*.json"))


STEP_EVENTS = [p for p in EVENTS if p.stem != "resume_provider_task"]


@pytest.mark.parametrize("path", STEP_EVENTS, ids=lambda p: p.stem)
def test_sample_messages_parse_as_pipeline_steps(path: Path):
    record = json.loads(path.read_text())["Records"][0]

    message = pipeline.StepMessage.parse(json.loads(record["body"]))

    assert message.step in pipeline.STEPS and message.attempt == 1 and message.task_token


def test_malformed_messages_are_dropped_not_retried_forever(db):
    event = json.loads(EVENTS[0].read_text())
    event["Records"][0]["body"] = json.dumps({"step": "Nope"})

    result = load_function("pipeline_worker").lambda_handler(event, context("worker"))

    assert result == {"batchItemFailures": []}


def test_a_resume_message_for_an_unknown_task_is_acknowledged(db):
    """The Freepik webhook's hand-off (events/pipeline/resume_provider_task.json): a task no
    step waits on (another environment's, or already cleaned up) is not retried."""
    path = next(p for p in EVENTS if p.stem == "resume_provider_task")
    event = json.loads(path.read_text())
    assert json.loads(event["Records"][0]["body"])["kind"] == pipeline.RESUME_MESSAGE

    result = load_function("pipeline_worker").lambda_handler(event, context("worker"))

    assert result == {"batchItemFailures": []}
