"""The scheduled tasks behind ``functions/cleanup`` (one EventBridge schedule per task).

Every task is idempotent and bounded: it works in steps of ``batch_size`` rows, each step in
its own transaction (short locks, progress kept if the function is stopped), and stops when
nothing is left, after ``max_steps``, or when the Lambda's remaining time drops below
``reserve_ms``. It returns counts, which the handler logs and emits as metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ecomvideo import clock
from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.observability import logger
from ecomvideo.settings import get_settings

TimeLeft = Callable[[], int]
DEFAULT_RESERVE_MS = 10_000
DEFAULT_BATCH = 5000


@dataclass
class TaskReport:
    task: str
    counts: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    complete: bool = True  # False: stopped by the time budget or step cap, more work is left

    def add(self, name: str, value: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + int(value)


@dataclass(frozen=True)
class Budget:
    time_left_ms: TimeLeft | None = None
    reserve_ms: int = DEFAULT_RESERVE_MS
    max_steps: int = 200
    batch_size: int = DEFAULT_BATCH

    def exhausted(self) -> bool:
        return self.time_left_ms is not None and self.time_left_ms() < self.reserve_ms


def _repeat(report: TaskReport, budget: Budget, step: Callable[[], bool]) -> None:
    """Run ``step`` (True = more left) until done, out of time, or out of steps."""
    for _ in range(budget.max_steps):
        if budget.exhausted():
            report.complete = False
            return
        if not step():
            return
    report.complete = False


# ---------------------------------------------------------------------------- tasks


def task_partitions(budget: Budget) -> TaskReport:
    # lazy: one run does one task; it loads only that task's services
    from ecomvideo.services import partitions

    report = TaskReport("partitions")
    created: list[str] = []
    for table in partitions.PARTITIONED_TABLES:
        with transaction() as session:
            created += partitions.ensure_partitions(session, table)
    report.add("partitions_created", len(created))
    report.details["created"] = created
    return report


def task_retention(budget: Budget) -> TaskReport:

    # lazy: one run does one task; it loads only that task's services
    from ecomvideo.services import outbound_webhooks, retention

    report = TaskReport("retention")
    dropped: list[str] = []
    for table in retention.RETENTION_RULES:

        def step(table: str = table) -> bool:
            with transaction() as session:
                result = retention.purge_table(session, table, batch_size=budget.batch_size)
            dropped.extend(result.partitions_dropped)
            report.add(f"{table}_rows_deleted", result.rows_deleted)
            report.add(f"{table}_partitions_dropped", len(result.partitions_dropped))
            return result.more

        _repeat(report, budget, step)

    def jobs_step() -> bool:
        with transaction() as session:
            result = retention.purge_background_jobs(session, batch_size=budget.batch_size)
        report.add("background_jobs_deleted", result.rows_deleted)
        return result.more

    _repeat(report, budget, jobs_step)

    for events_table in retention.WEBHOOK_EVENT_TABLES:

        def events_step(table: str = events_table) -> bool:
            with transaction() as session:
                result = retention.purge_webhook_events(
                    session, table, batch_size=budget.batch_size
                )
            report.add(f"{table}_deleted", result.rows_deleted)
            return result.more

        _repeat(report, budget, events_step)

    def deliveries_step() -> bool:
        with transaction() as session:
            days = retention.retention_days(session, "retention.webhook_deliveries_days", 30)
            cutoff = clock.utcnow() - timedelta(days=days)
            deleted = outbound_webhooks.purge_deliveries(
                session, cutoff, batch_size=budget.batch_size
            )
        report.add("webhook_deliveries_deleted", deleted)
        return deleted >= budget.batch_size

    _repeat(report, budget, deliveries_step)
    report.details["partitions_dropped"] = dropped
    return report


def task_maintenance(budget: Budget) -> TaskReport:
    # lazy: one run does one task; it loads only that task's services
    from ecomvideo.services import analytics, jobs, maintenance, rate_limit

    report = TaskReport("maintenance")

    def tokens() -> bool:
        with transaction() as session:
            deleted = maintenance.purge_tokens(session, limit=budget.batch_size)
        report.add("tokens_deleted", deleted)
        return deleted >= budget.batch_size

    _repeat(report, budget, tokens)

    def subscriptions() -> bool:
        with transaction() as session:
            expired = maintenance.expire_subscriptions(session, limit=500)
        report.add("subscriptions_expired", len(expired))
        return len(expired) >= 500

    _repeat(report, budget, subscriptions)

    def grants() -> bool:
        with transaction() as session:
            expired = maintenance.expire_grants(session, limit=1000)
        report.add("grants_expired", expired)
        return expired >= 1000

    _repeat(report, budget, grants)
    with transaction() as session:
        report.add("accounts_unlocked", maintenance.unlock_accounts(session))
    with transaction() as session:
        report.add("stale_jobs_requeued", jobs.requeue_stale(session))
    with transaction() as session:
        report.add("rate_limit_counters_deleted", rate_limit.purge_expired(session))
    with transaction() as session:
        report.add("view_dedup_markers_deleted", analytics.purge_counted_sessions(session))
    if not budget.exhausted():
        with transaction() as session:
            granted = maintenance.monthly_grants_for_yearly_plans(session)
        report.details["yearly_plan_grants"] = granted
        report.add("yearly_plan_grants", granted or 0)
    return report


def task_stuck_videos(budget: Budget, *, sfn: Any = None) -> TaskReport:
    # lazy: one run does one task; it loads only that task's services
    from ecomvideo.services import maintenance

    report = TaskReport("stuck_videos")

    def step() -> bool:
        with transaction() as session:
            reaped = maintenance.reap_stuck_videos(session, limit=100)
        report.add("videos_failed", reaped.count)
        report.add("credits_released", sum(v.released for v in reaped.videos))
        if reaped.count:
            client = sfn
            if client is None:
                client = aws.stepfunctions()
            stopped = maintenance.stop_executions(reaped, client, get_settings().state_machine_arn)
            report.add("executions_stopped", stopped)
        return reaped.count >= 100

    _repeat(report, budget, step)
    return report


def task_provider_poll(budget: Budget) -> TaskReport:
    """Poll asynchronous provider tasks whose webhook never came (lost or delayed)."""
    # lazy: one run does one task; it loads only that task's services
    from ecomvideo.services import pipeline

    report = TaskReport("provider_poll")
    minutes = get_settings().freepik_poll_after_minutes
    with transaction() as session:
        task_ids = pipeline.stalled_provider_tasks(session, older_than_minutes=minutes)
    for task_id in task_ids:
        if budget.exhausted():
            break
        try:
            outcome = pipeline.poll_provider_task(task_id, None)
        except Exception:  # a retryable provider error: the next run tries again
            logger.warning("polling a provider task failed", extra={"task_id": task_id})
            outcome = "error"
        report.add(f"tasks_{outcome}", 1)
    return report


def task_s3_orphans(budget: Budget, *, s3: Any = None) -> TaskReport:
    # lazy: one run does one task; it loads only that task's services
    from ecomvideo.services import maintenance

    report = TaskReport("s3_orphans")
    if s3 is None:
        s3 = aws.s3()
    cursor: list[str | None] = [None]

    def step() -> bool:
        with transaction() as session:
            deleted, cursor[0] = maintenance.delete_orphan_media(
                session, s3, get_settings().videos_bucket, start_after=cursor[0]
            )
        report.add("objects_deleted", deleted)
        return cursor[0] is not None

    _repeat(report, budget, step)
    return report


def task_weekly_digest(budget: Budget) -> TaskReport:
    # lazy: one run does one task; it loads only that task's services
    from ecomvideo.services import notifications

    report = TaskReport("weekly_digest")

    def step() -> bool:
        with transaction() as session:
            queued = notifications.enqueue_weekly_digests(session, limit=500)
        report.add("digests_queued", queued)
        return queued >= 500

    _repeat(report, budget, step)
    return report


def task_stripe_parked(budget: Budget) -> TaskReport:
    """Re-apply parked Stripe webhook events and count the ones parked for too long."""
    # lazy: one run does one task; it loads only that task's services
    from ecomvideo.services import stripe_parked

    report = TaskReport("stripe_parked")
    swept = stripe_parked.sweep(overdue_after_hours=get_settings().stripe_parked_alarm_hours)
    report.add("events_applied", swept.applied)
    report.add("events_failed", swept.failed)
    report.add("events_still_parked", swept.still_parked)
    report.add("events_overdue", swept.overdue)
    report.details["overdue_event_ids"] = swept.overdue_ids
    return report


TASKS: dict[str, Callable[..., TaskReport]] = {
    "partitions": task_partitions,
    "retention": task_retention,
    "maintenance": task_maintenance,
    "stuck_videos": task_stuck_videos,
    "provider_poll": task_provider_poll,
    "s3_orphans": task_s3_orphans,
    "weekly_digest": task_weekly_digest,
    "stripe_parked": task_stripe_parked,
}


def run(task: str, budget: Budget, **clients: Any) -> TaskReport:
    """Run one named task; unknown names raise ValueError (a misconfigured schedule)."""
    if task not in TASKS:
        raise ValueError(f"unknown scheduled task {task!r}; known: {', '.join(sorted(TASKS))}")
    started = time.monotonic()
    report = TASKS[task](budget, **clients)
    logger.info(
        "scheduled task finished",
        extra={
            "task": task,
            "counts": report.counts,
            "complete": report.complete,
            "elapsed_ms": int((time.monotonic() - started) * 1000),
        },
    )
    return report
