"""The pipeline worker's own SQS timers: scheduled provider polls and delayed retries.

A poll of a provider task is a delayed ``PollProviderTask`` message at the backoff cadence of
``PROVIDER_POLL_INTERVALS``; a webhook's hand-off is a ``ResumeProviderTask`` message; a step
that hit a busy provider runs again from a delayed copy of its message (``requeue``) or its
message made visible again (``retry_later``) after the provider's ``Retry-After``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ecomvideo.clients import aws
from ecomvideo.settings import get_settings

# A worker message that is not a state machine step: "resume the step waiting on this task".
RESUME_MESSAGE = "ResumeProviderTask"


# A worker message that is not a state machine step: "poll this task now" (delayed send).
POLL_MESSAGE = "PollProviderTask"


SQS_MAX_DELAY = 900


def poll_intervals() -> list[float]:
    """``provider_poll_intervals`` ("10,20,40,60"): seconds before poll n; the last repeats."""
    values = []
    for part in get_settings().provider_poll_intervals.split(","):
        try:
            values.append(max(0.0, float(part)))
        except ValueError:
            continue
    return values or [60.0]


def poll_interval(polls: int) -> float:
    intervals = poll_intervals()
    return intervals[min(polls, len(intervals) - 1)]


def send_poll(task_id: str, poll: int) -> None:
    """Queue poll number ``poll`` of a provider task, delayed by its interval."""
    queue_url = get_settings().pipeline_queue_url
    if not queue_url:
        return  # no queue (unit tests, scripts): the sweep polls by due time
    delay = min(SQS_MAX_DELAY, math.ceil(poll_interval(poll)))
    body = {"kind": POLL_MESSAGE, "taskId": task_id, "poll": poll}
    aws.sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(body), DelaySeconds=delay)


def retry_delay(exc: BaseException, receive_count: int) -> int:
    """Seconds until a step that hit a retryable provider error runs again: the provider's
    ``Retry-After`` when it gave one (no cap below SQS's 12 h maximum; the state machine's
    step timeout is the real deadline), else exponential backoff 1, 2, 4 ... 60 s."""
    hint = getattr(exc, "retry_after", None)
    if isinstance(hint, int | float) and math.isfinite(hint) and hint >= 0:
        return min(43_200, math.ceil(hint))
    return min(60, 2 ** max(0, receive_count - 1))


def requeue(body: dict[str, Any], delay: int) -> bool:
    """Send a copy of a message due in ``delay`` seconds (the caller then acknowledges the
    original); returns False when the delay is beyond SQS's 15-minute maximum or there is no
    queue. A copy starts a fresh receive count, so waiting on a busy provider never pushes a
    step into the DLQ (maxReceiveCount counts real failures only)."""
    queue_url = get_settings().pipeline_queue_url
    if not queue_url or delay > SQS_MAX_DELAY:
        return False
    copy = {**body, "retries": int(body.get("retries") or 0) + 1}
    aws.sqs().send_message(
        QueueUrl=queue_url, MessageBody=json.dumps(copy), DelaySeconds=max(0, delay)
    )
    return True


def retry_later(receipt_handle: str, delay: int) -> None:
    """Make the failed message visible again in ``delay`` seconds (not the visibility
    timeout): SQS ChangeMessageVisibility on the message being handled."""
    queue_url = get_settings().pipeline_queue_url
    if not queue_url or not receipt_handle:
        return
    aws.sqs().change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
    )
