"""The state machine's step messages and the answers to Step Functions.

Every step arrives as an SQS ``waitForTaskToken`` message ``{step, videoId, userId, attempt,
taskToken, enteredAt, ...}`` (``StepMessage``); the worker answers with SendTaskSuccess /
SendTaskFailure (``send_success`` / ``send_failure``). Task tokens only move forward
(``take_token``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecomvideo.clients import aws
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.observability import logger
from ecomvideo.services.video_lifecycle import POLL, POLLABLE_STEPS, STEPS


@dataclass(frozen=True)
class StepMessage:
    step: str
    video_id: uuid.UUID
    user_id: uuid.UUID
    attempt: int
    task_token: str
    execution_arn: str | None = None
    error: dict[str, Any] | None = None
    waiting_step: str | None = None
    # When the state that issued the token was entered ($$.State.EnteredTime): orders tokens.
    entered_at: datetime | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> StepMessage:
        """Validate a message body from the state machine; raises ValueError when malformed."""
        step = body.get("step")
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}")
        token = body.get("taskToken")
        if not isinstance(token, str) or not token:
            raise ValueError("taskToken missing")
        error = body.get("error")
        waiting = body.get("waitingStep")
        if step == POLL and waiting not in POLLABLE_STEPS:
            raise ValueError(f"PollProvider cannot poll {waiting!r}")
        return cls(
            step=step,
            video_id=uuid.UUID(str(body["videoId"])),
            user_id=uuid.UUID(str(body["userId"])),
            attempt=int(body.get("attempt") or 1),
            task_token=token,
            execution_arn=body.get("executionArn"),
            error=error if isinstance(error, dict) else None,
            waiting_step=waiting if step == POLL else None,
            entered_at=parse_time(body.get("enteredAt")),
        )


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as naive UTC (the database's convention); None if absent/invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def take_token(row: PipelineStep, message: StepMessage) -> bool:
    """Compare-and-set: keep ``message``'s token unless the stored one was issued later.

    A redelivered (older) step message must not overwrite the token of a newer wait (e.g. the
    PollProvider state's): the webhook would then resume a dead token."""
    stored, offered = row.token_entered_at, message.entered_at
    if row.task_token and stored is not None and (offered is None or offered < stored):
        logger.info("older task token ignored", extra={"step": row.step})
        return False
    row.task_token = message.task_token
    row.token_entered_at = offered
    return True


def _send(method: str, **kwargs: Any) -> bool:
    """SendTaskSuccess/Failure; a token of a stopped/timed-out execution is not an error."""
    try:
        getattr(aws.stepfunctions(), method)(**kwargs)
        return True
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in {"InvalidToken", "TaskDoesNotExist", "TaskTimedOut", "ExecutionDoesNotExist"}:
            logger.info("task token no longer valid", extra={"code": code, "call": method})
            return False
        raise


def send_success(token: str, output: dict[str, Any]) -> bool:
    return _send("send_task_success", taskToken=token, output=json.dumps(output))


def send_failure(token: str, error: str, cause: str) -> bool:
    return _send("send_task_failure", taskToken=token, error=error[:256], cause=cause[:32768])
