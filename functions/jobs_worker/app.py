"""Drains ``background_jobs`` (emails, outbound webhooks, ...): scheduled every minute.

Claims due jobs with ``FOR UPDATE SKIP LOCKED`` (several concurrent invocations never run the
same job), runs each in its own transaction, retries failures with exponential backoff and
stops well before the Lambda timeout. The queue logic is ``ecomvideo.services.jobs``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.services import jobs


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = jobs.work(
        batch_size=int((event or {}).get("batch_size") or 10),
        max_jobs=int((event or {}).get("max_jobs") or 200),
        time_left_ms=context.get_remaining_time_in_millis,
        reserve_ms=15_000,
    )
    for name in ("claimed", "completed", "retried", "failed"):
        metrics.add_metric(name=f"jobs_{name}", unit=MetricUnit.Count, value=getattr(run, name))
    return {
        "claimed": run.claimed,
        "completed": run.completed,
        "retried": run.retried,
        "failed": run.failed,
    }
