"""The video pipeline's steps, run by the pipeline worker (one SQS message = one step).

The state machine (statemachines/video_pipeline.asl.json) sends every step as an SQS
``waitForTaskToken`` message ``{step, videoId, userId, attempt, taskToken, ...}``. ``handle``
runs it and answers Step Functions with SendTaskSuccess / SendTaskFailure, except for
asynchronous providers: the step then stores the provider task id and the task token, and the
webhook (or a poll) calls ``complete_step`` / ``fail_step`` later.

Idempotency (SQS delivers at least once, a worker may crash anywhere):
* every step has a ``video_pipeline_steps`` row (video, attempt, step), locked and updated
  *before* side effects: Done -> the stored output is sent again, nothing re-runs;
  Started with a provider task id -> no second task is started, the new token is kept;
  Starting without a task id on an asynchronous provider -> the step fails rather than risk a
  second paid task;
* Finalize completes the video, charges credits and marks the step Done in one transaction;
* status transitions only move forward; terminal statuses never change (``transition``), so a
  late or duplicated message cannot resurrect a cancelled or failed video.

Failures meant for the user (provider errors, bad input) are recorded in ``error_message``
before SendTaskFailure; MarkFailed then sets Failed and releases the held credits. Anything
else (database or S3 down) raises, so SQS redelivers the message.

Modules (each imports only the public names of the ones before it; none imports
``services.videos``, and the lifecycle both share lives below them in
``services.video_lifecycle``): ``messages`` (step messages, Step Functions answers),
``results`` (handler results and failures), ``timers`` (SQS polls and retries), ``rows``
(step-row bookkeeping), ``assets`` (files), ``steps`` (provider steps), ``finalize``
(Finalize, MarkFailed), ``gate`` (provider concurrency), ``resume`` (webhooks, polls,
timeouts), ``runner`` (``handle``). This package re-exports what the handlers, the other
services and the tests use, without importing it (``ecomvideo.lazy``): a message imports the
modules of its own kind (a poll does not load Finalize's credits and notifications).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecomvideo import lazy

if TYPE_CHECKING:
    from ecomvideo.services.pipeline.finalize import (
        output_limits,
    )
    from ecomvideo.services.pipeline.gate import (
        provider_concurrency,
    )
    from ecomvideo.services.pipeline.messages import (
        StepMessage,
        send_failure,
        send_success,
        take_token,
    )
    from ecomvideo.services.pipeline.results import (
        ProviderGateFull,
        StepFailed,
        VideoNotActive,
    )
    from ecomvideo.services.pipeline.resume import (
        correlated,
        poll_provider_task,
        poll_waiting_step,
        queue_provider_resume,
        record_task_progress,
        resume_provider_task,
        stalled_provider_tasks,
    )
    from ecomvideo.services.pipeline.rows import (
        complete_step,
        ensure_active,
        fail_step,
        for_task,
        record_provider_progress,
    )
    from ecomvideo.services.pipeline.runner import (
        handle,
    )
    from ecomvideo.services.pipeline.steps import (
        config_value,
    )
    from ecomvideo.services.pipeline.timers import (
        POLL_MESSAGE,
        RESUME_MESSAGE,
        poll_interval,
        poll_intervals,
        requeue,
        retry_delay,
        retry_later,
    )
    from ecomvideo.services.video_lifecycle import (
        FINALIZE,
        IMAGE,
        MARK_FAILED,
        POLL,
        POLL_AFTER_SECONDS,
        SCRAPE,
        STEPS,
        TIMEOUT_MESSAGE,
        VIDEO,
        InvalidTransition,
        StepState,
        close_open_steps,
        execution_arn,
        execution_name,
        progress_percent,
        queue_position,
        transition,
    )

__getattr__, __dir__ = lazy.exports(
    __name__,
    {
        "FINALIZE": "ecomvideo.services.video_lifecycle",
        "IMAGE": "ecomvideo.services.video_lifecycle",
        "InvalidTransition": "ecomvideo.services.video_lifecycle",
        "MARK_FAILED": "ecomvideo.services.video_lifecycle",
        "POLL": "ecomvideo.services.video_lifecycle",
        "POLL_AFTER_SECONDS": "ecomvideo.services.video_lifecycle",
        "POLL_MESSAGE": "ecomvideo.services.pipeline.timers",
        "ProviderGateFull": "ecomvideo.services.pipeline.results",
        "RESUME_MESSAGE": "ecomvideo.services.pipeline.timers",
        "SCRAPE": "ecomvideo.services.video_lifecycle",
        "STEPS": "ecomvideo.services.video_lifecycle",
        "StepFailed": "ecomvideo.services.pipeline.results",
        "StepMessage": "ecomvideo.services.pipeline.messages",
        "StepState": "ecomvideo.services.video_lifecycle",
        "TIMEOUT_MESSAGE": "ecomvideo.services.video_lifecycle",
        "VIDEO": "ecomvideo.services.video_lifecycle",
        "VideoNotActive": "ecomvideo.services.pipeline.results",
        "close_open_steps": "ecomvideo.services.video_lifecycle",
        "complete_step": "ecomvideo.services.pipeline.rows",
        "config_value": "ecomvideo.services.pipeline.steps",
        "correlated": "ecomvideo.services.pipeline.resume",
        "ensure_active": "ecomvideo.services.pipeline.rows",
        "execution_arn": "ecomvideo.services.video_lifecycle",
        "execution_name": "ecomvideo.services.video_lifecycle",
        "fail_step": "ecomvideo.services.pipeline.rows",
        "for_task": "ecomvideo.services.pipeline.rows",
        "handle": "ecomvideo.services.pipeline.runner",
        "output_limits": "ecomvideo.services.pipeline.finalize",
        "poll_interval": "ecomvideo.services.pipeline.timers",
        "poll_intervals": "ecomvideo.services.pipeline.timers",
        "poll_provider_task": "ecomvideo.services.pipeline.resume",
        "poll_waiting_step": "ecomvideo.services.pipeline.resume",
        "progress_percent": "ecomvideo.services.video_lifecycle",
        "provider_concurrency": "ecomvideo.services.pipeline.gate",
        "queue_position": "ecomvideo.services.video_lifecycle",
        "queue_provider_resume": "ecomvideo.services.pipeline.resume",
        "record_provider_progress": "ecomvideo.services.pipeline.rows",
        "record_task_progress": "ecomvideo.services.pipeline.resume",
        "requeue": "ecomvideo.services.pipeline.timers",
        "resume_provider_task": "ecomvideo.services.pipeline.resume",
        "retry_delay": "ecomvideo.services.pipeline.timers",
        "retry_later": "ecomvideo.services.pipeline.timers",
        "send_failure": "ecomvideo.services.pipeline.messages",
        "send_success": "ecomvideo.services.pipeline.messages",
        "stalled_provider_tasks": "ecomvideo.services.pipeline.resume",
        "take_token": "ecomvideo.services.pipeline.messages",
        "transition": "ecomvideo.services.video_lifecycle",
    },
)

__all__ = [
    "FINALIZE",
    "IMAGE",
    "MARK_FAILED",
    "POLL",
    "POLL_AFTER_SECONDS",
    "POLL_MESSAGE",
    "RESUME_MESSAGE",
    "SCRAPE",
    "STEPS",
    "TIMEOUT_MESSAGE",
    "VIDEO",
    "InvalidTransition",
    "ProviderGateFull",
    "StepFailed",
    "StepMessage",
    "StepState",
    "VideoNotActive",
    "close_open_steps",
    "complete_step",
    "config_value",
    "correlated",
    "ensure_active",
    "execution_arn",
    "execution_name",
    "fail_step",
    "for_task",
    "handle",
    "output_limits",
    "poll_interval",
    "poll_intervals",
    "poll_provider_task",
    "poll_waiting_step",
    "progress_percent",
    "provider_concurrency",
    "queue_position",
    "queue_provider_resume",
    "record_provider_progress",
    "record_task_progress",
    "requeue",
    "resume_provider_task",
    "retry_delay",
    "retry_later",
    "send_failure",
    "send_success",
    "stalled_provider_tasks",
    "take_token",
    "transition",
]
