"""SQS delivery like an event source mapping, against moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from devserver.aws import base_refs, create_resources, plan_resources
from devserver.runner import FunctionRunner
from devserver.worker import EventSources, failed_message_ids, rate_seconds


def test_rate_expressions_convert_to_seconds():
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 day)") == 86400
    assert rate_seconds("cron(0 3 * * ? *)") is None


def test_batch_item_failures_keep_only_listed_messages():
    result = {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert failed_message_ids(result, True, ["a", "b"]) == {"b"}
    assert failed_message_ids(result, False, ["a", "b"]) == set()
    # An identifier that is not in the batch fails the whole batch, as Lambda does.
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "z"}]}, True, ["a"]) == {
        "a"
    }


class RecordingRunner(FunctionRunner):
    def __init__(self, model, fail_bodies: set[str]):
        super().__init__(model, {}, on_environment_change=lambda: None)
        self.events: list[dict] = []
        self.fail_bodies = fail_bodies

    def invoke(self, function, event):
        self.events.append(event)
        failures = [
            {"itemIdentifier": r["messageId"]}
            for r in event["Records"]
            if r["body"] in self.fail_bodies
        ]
        return {"batchItemFailures": failures}


@pytest.fixture
def sqs_setup(stub_model, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        plan = plan_resources(stub_model, "us-east-1", base_refs(stub_model, "us-east-1"))
        create_resources(stub_model, plan, "us-east-1")
        yield plan


def test_failed_messages_stay_on_the_queue_and_the_rest_are_deleted(stub_model, sqs_setup):
    plan = sqs_setup
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = plan.queue_urls["WorkQueue"]
    assert url.endswith("/work-local")
    for body in ("ok-1", "fail", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    runner = RecordingRunner(stub_model, {"fail"})
    sources = EventSources(stub_model, runner, plan, region="us-east-1", poll_wait_seconds=0)
    (source,) = stub_model.sqs_sources

    received = sources.poll_once(source)

    assert received == 3
    record = runner.events[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == plan.attrs[("WorkQueue", "Arn")]
    assert {"messageId", "receiptHandle", "body", "attributes", "md5OfBody"} <= record.keys()
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"  # only "fail" remains
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_the_job_queue_is_drained_without_schedules(stub_model, monkeypatch):
    """Account mails leave through the job queue: the local stack runs its worker every few
    seconds even when the other schedules are off."""
    import threading

    from devserver import worker
    from devserver.app_model import ScheduleSource

    ran = threading.Event()

    class Runner(RecordingRunner):
        def invoke(self, function, event):
            self.events.append((function, event))
            ran.set()
            return {}

    schedules = [
        ScheduleSource("JobsWorkerFunction", "Drain", "rate(1 minute)", None, True),
        ScheduleSource("CleanupFunction", "Nightly", "rate(1 day)", None, True),
    ]
    monkeypatch.setattr(stub_model, "schedules", schedules)
    monkeypatch.setattr(worker, "DRAIN_SECONDS", 0.05)
    runner = Runner(stub_model, set())
    sources = EventSources(stub_model, runner, None, region="us-east-1", poll_wait_seconds=0)
    monkeypatch.setattr(stub_model, "sqs_sources", [])
    sources.start()
    try:
        assert ran.wait(5)
    finally:
        sources.stop()
    assert {function for function, _ in runner.events} == {"JobsWorkerFunction"}
    assert runner.events[0][1]["detail-type"] == "Scheduled Event"
