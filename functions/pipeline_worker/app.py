"""Pipeline worker: one SQS message = one step of the video state machine.

Powertools ``BatchProcessor`` reports partial batch failures: a message whose step raised
(database or S3 unavailable...) goes back to the queue and is redelivered, then to the DLQ.
Step failures meant for the user never raise: the step answers Step Functions with
SendTaskFailure and the state machine's MarkFailed step does the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.errors import ProviderError
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.services import pipeline

processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    try:
        body = json.loads(record.body)
        kind = body.get("kind") if isinstance(body, dict) else None
        if kind in (pipeline.RESUME_MESSAGE, pipeline.POLL_MESSAGE):
            return _retrying(record, body, lambda: _resume(body))
        message = pipeline.StepMessage.parse(body)
    except (ValueError, KeyError, TypeError) as exc:
        # A malformed message can never succeed: log it and drop it instead of looping.
        logger.error("dropping malformed pipeline message", extra={"reason": str(exc)})
        return "dropped"
    # The request that started the execution (the state machine copies the execution input's
    # correlationId into every step message); the video id ties the steps together otherwise.
    logger.set_correlation_id(str(body.get("correlationId") or message.video_id))
    logger.append_keys(video_id=str(message.video_id), step=message.step, attempt=message.attempt)
    outcome = _retrying(record, body, lambda: pipeline.handle(message))
    logger.info("pipeline step handled", extra={"outcome": outcome})
    return outcome


def _retrying(record: SQSRecord, body: dict[str, Any], run: Callable[[], str]) -> str:
    """A retryable provider error (429/5xx) runs the message again after the provider's
    Retry-After (or a short backoff), not after the queue's visibility timeout: a delayed copy
    (the original is acknowledged), or for waits beyond 15 min the original made visible then."""
    try:
        return run()
    except ProviderError as exc:
        if not getattr(exc, "retryable", False):
            raise
        delay = pipeline.retry_delay(exc, int(body.get("retries") or 0) + 1)
        logger.info("provider busy: retrying later", extra={"delay_s": delay})
        if pipeline.requeue(body, delay):
            return "deferred"
        pipeline.retry_later(record.receipt_handle, delay)
        raise


def _resume(body: dict[str, Any]) -> str:
    """A webhook's hand-off (``ResumeProviderTask``) or a scheduled ``PollProviderTask``: poll
    the task, copy its asset when finished, resume the step."""
    task_id = str(body.get("taskId") or "")
    if not task_id:
        logger.error("dropping a resume message without taskId")
        return "dropped"
    logger.set_correlation_id(body.get("correlationId"))
    logger.append_keys(trigger_id=body.get("triggerId"), task_id=task_id)
    try:
        if body.get("kind") == pipeline.POLL_MESSAGE:
            return pipeline.poll_provider_task(task_id, int(body.get("poll") or 0))
        return pipeline.resume_provider_task(task_id)  # raises when retryable: SQS redelivers
    finally:
        logger.remove_keys(["trigger_id", "task_id"])  # the batch's next record is another job


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
