"""Freepik webhook deliveries (after the signature was verified by the handler).

Freepik POSTs the task body (``{"task_id", "status", "generated"}``) on every status change.
Delivery order and uniqueness are not guaranteed, so:
- a ``webhook-id`` seen before is a no-op (``freepik_webhook_events``);
- only terminal statuses act: COMPLETED/FAILED queue a ``ResumeProviderTask`` message for the
  pipeline worker (``pipeline.queue_provider_resume``), which re-reads the task from Freepik
  (fresh asset URLs, the provider's own verdict), copies the asset to S3 and resumes the step,
  idempotently; the webhook itself answers within milliseconds. CREATED/IN_PROGRESS only log
  progress, so a late IN_PROGRESS can never move a video backwards;
- an unknown task id is acknowledged (2xx), logged and parked (its event row keeps task id and
  status): the worker re-applies a parked terminal delivery right after it commits the task id,
  so a webhook faster than our own commit is not lost; it may also belong to another
  environment.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ecomvideo.db import transaction
from ecomvideo.errors import BadRequest
from ecomvideo.models import FreepikWebhookEvent
from ecomvideo.observability import logger, metrics

TERMINAL = {"COMPLETED", "FAILED"}


# Freepik reports a status, not a percentage: the same scale as the polling path
# (providers/freepik.py), so webhook and poll raise a step's progress alike.
TASK_PROGRESS = {"CREATED": 5, "IN_PROGRESS": 50}


def _parse(body: bytes) -> tuple[str, str]:
    try:
        payload: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("The webhook body is not JSON.") from exc
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
        payload = payload["data"]  # tolerate the GET shape too
    if not isinstance(payload, dict) or not payload.get("task_id"):
        raise BadRequest("The webhook body has no task_id.")
    return str(payload["task_id"])[:200], str(payload.get("status") or "").upper()[:20]


def handle_delivery(webhook_id: str, body: bytes) -> str:
    """Process one verified delivery; returns what happened (for the log and tests)."""
    task_id, status = _parse(body)
    with transaction() as session:
        seen = session.scalar(
            select(FreepikWebhookEvent.webhook_id).where(
                FreepikWebhookEvent.webhook_id == webhook_id
            )
        )
    if seen:
        return "duplicate"
    metrics.add_metric(name="FreepikWebhooksReceived", unit="Count", value=1)
    # lazy: the pipeline (providers, Step Functions) only for a new event, not a duplicate
    from ecomvideo.services import pipeline

    if status in TERMINAL:
        outcome = pipeline.queue_provider_resume(task_id)
    elif status in TASK_PROGRESS:
        outcome = pipeline.record_task_progress(task_id, TASK_PROGRESS[status])
    else:
        outcome = "ignored"
    if outcome == "unknown":
        logger.info("webhook for an unknown Freepik task", extra={"task_id": task_id})
    # Recorded after processing: a delivery that failed half-way is retried by Freepik and
    # processed again (resuming is idempotent), never lost.
    with transaction() as session:
        session.execute(
            insert(FreepikWebhookEvent)
            .values(webhook_id=webhook_id[:200], task_id=task_id, status=status)
            .on_conflict_do_nothing()
        )
    if outcome == "unknown" and status in TERMINAL:
        # Parked: the worker may have been committing the task id meanwhile. It re-applies
        # parked deliveries after its commit, and we look once more after ours, so one of
        # the two sees the other.
        outcome = pipeline.queue_provider_resume(task_id)
        outcome = "parked" if outcome == "unknown" else outcome
    logger.info(
        "Freepik webhook processed",
        extra={"task_id": task_id, "status": status, "outcome": outcome},
    )
    return outcome
