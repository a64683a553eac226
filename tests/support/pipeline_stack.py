"""The video pipeline's AWS side in moto, plus helpers to call the real handlers.

``PipelineStack`` creates what template.yaml declares for the pipeline (videos and uploads
buckets, the work queue and its DLQ, the state machine from the real ASL with its
DefinitionSubstitutions) inside the caller's ``mock_aws`` and points the settings at them.
``pump`` behaves like the SQS event source mapping: it receives messages, hands them to the
worker's ``lambda_handler`` as SQS events and deletes what succeeded.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from devserver.events import LambdaContext, sqs_event
from tests.support import api

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ASL = ROOT / "statemachines/video_pipeline.asl.json"


def load_function(name: str, *, fresh: bool = False) -> ModuleType:
    """functions/<name>/app.py (see ``tests.support.api.load_function``)."""
    return api.load_function(name, fresh=fresh)


def context(name: str = "fn") -> LambdaContext:
    return LambdaContext(name, memory_mb=1024, timeout_s=60, region=REGION)


def api_event(
    method: str,
    path: str,
    *,
    user_id: uuid.UUID | None,
    roles: tuple[str, ...] = ("User",),
    body: Any = None,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API v2 event as API Gateway sends it after our Lambda authorizer."""
    return _client(user_id, roles).event(method, path, body=body, query=query, headers=headers)


def call(
    function: str, method: str, path: str, *, user_id: uuid.UUID | None, **kwargs: Any
) -> tuple[int, Any, dict[str, str]]:
    """Invoke functions/<function>/app.py; returns (status, parsed JSON body or None, headers)."""
    roles = kwargs.pop("roles", ("User",))
    response = _client(user_id, roles).call(method, path, function=function, **kwargs)
    return response.status, response.payload(), response.headers


def _client(user_id: uuid.UUID | None, roles: tuple[str, ...]) -> api.Api:
    return api.Api(api.as_user(user_id, *roles), source_ip="127.0.0.1", user_agent=None)


class PipelineStack:
    """Buckets, queue (+DLQ) and state machine in moto; settings pointed at them."""

    def __init__(self, asl_text: str | None = None, *, visibility_timeout: int = 1) -> None:
        """``visibility_timeout``: the queue's (production: 360 s); a test that must show a
        retry does not wait for it raises it."""
        import boto3

        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        suffix = uuid.uuid4().hex[:8]
        self.videos_bucket = f"videos-{suffix}"
        self.uploads_bucket = f"uploads-{suffix}"
        for bucket in (self.videos_bucket, self.uploads_bucket):
            self.s3.create_bucket(Bucket=bucket)
        dlq = self.sqs.create_queue(QueueName=f"pipeline-dlq-{suffix}")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.queue_url = self.sqs.create_queue(
            QueueName=f"pipeline-{suffix}",
            Attributes={
                "VisibilityTimeout": str(visibility_timeout),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
            },
        )["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        definition = (asl_text or ASL.read_text()).replace("${PipelineQueueUrl}", self.queue_url)
        self.state_machine_arn = self.sfn.create_state_machine(
            name=f"video-pipeline-{suffix}",
            definition=definition,
            roleArn="arn:aws:iam::123456789012:role/pipeline",
        )["stateMachineArn"]
        self._env = {
            "VIDEOS_BUCKET": self.videos_bucket,
            "UPLOADS_BUCKET": self.uploads_bucket,
            "PIPELINE_QUEUE_URL": self.queue_url,
            "STATE_MACHINE_ARN": self.state_machine_arn,
            "VIDEO_PROVIDER": "Local",
        }
        self._saved = {k: os.environ.get(k) for k in self._env}
        os.environ.update(self._env)
        _refresh()

    def close(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _refresh()

    # -- driving the pipeline ------------------------------------------------------------
    def receive(self, wait: int = 0) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
        ).get("Messages", [])

    def deliver(self, messages: list[dict[str, Any]], *, delete: bool = True) -> dict[str, Any]:
        """Hand ``messages`` to the worker; delete the ones it did not report as failed
        (``delete=False`` for hand-made duplicates that never came from the queue)."""
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

        event = sqs_event(messages, self.queue_arn, REGION)
        try:
            result = load_function("pipeline_worker").lambda_handler(event, context("worker"))
        except BatchProcessingError:
            # Every record failed: Lambda sees an error and the whole batch is redelivered.
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for message in done if delete else []:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return result

    def pump(
        self,
        until: Callable[[], bool],
        *,
        timeout: float = 60.0,
        on_message: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[str]:
        """Feed messages to the worker until ``until()``; returns the steps seen in order.

        ``on_message(body)`` may return False to hold a message back (not delivered, left to
        become visible again).
        """
        steps: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if until():
                return steps
            messages = self.receive()
            chosen = []
            for message in messages:
                body = json.loads(message["Body"])
                if on_message is None or on_message(body) is not False:
                    chosen.append(message)
                    steps.append(body["step"])
            if chosen:
                self.deliver(chosen)
            else:
                time.sleep(0.05)
        raise AssertionError(f"pipeline did not settle in {timeout}s; steps so far: {steps}")

    def execution(self, video_id: uuid.UUID | str, attempt: int = 1) -> dict[str, Any]:
        from ecomvideo.services.pipeline import execution_arn

        return self.sfn.describe_execution(
            executionArn=execution_arn(self.state_machine_arn, video_id, attempt)
        )

    def wait_execution(
        self, video_id: uuid.UUID | str, attempt: int = 1, timeout: float = 10
    ) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.execution(video_id, attempt)["status"]
            if status != "RUNNING":
                return status
            time.sleep(0.05)
        return "RUNNING"


def _refresh() -> None:
    from ecomvideo.clients import aws
    from ecomvideo.settings import reset_settings

    reset_settings()
    aws.reset_clients()
