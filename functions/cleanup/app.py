"""Scheduled housekeeping (EventBridge): one function, the schedule's input names the task.

``{"task": "partitions" | "retention" | "maintenance" | "stuck_videos" | "s3_orphans" |
"weekly_digest" | "stripe_parked"}``. Each run is idempotent and stops well before the Lambda
timeout; what it did is logged and emitted as metrics (``<task>.<count>``). The work is in
``ecomvideo.services.scheduled``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.services import scheduled


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = str((event or {}).get("task") or "")
    budget = scheduled.Budget(time_left_ms=context.get_remaining_time_in_millis)
    report = scheduled.run(task, budget)
    metrics.add_dimension(name="task", value=task)
    for name, value in report.counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.add_metric(
        name="incomplete_runs", unit=MetricUnit.Count, value=int(not report.complete)
    )
    return {"task": task, "counts": report.counts, "complete": report.complete}
