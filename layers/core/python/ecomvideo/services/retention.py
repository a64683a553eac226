"""Data retention (spec: user activity 2 years, analytics 1 year, API usage 90 days, finished
background jobs 30 days). Periods come from ``system_settings`` (``retention.*_days``), the
spec's values being the defaults.

A row is expired when ``created_at < now - period`` (for jobs: ``completed_at``); a row exactly
at the cutoff is kept. For the partitioned tables whole monthly partitions entirely before the
cutoff are dropped (O(1), no table bloat, no vacuum debt); the rows of the boundary month and of
the default partition are deleted in bounded batches. Each call does one bounded step in the
caller's transaction and reports whether more work is left, so the scheduled function commits
between steps and stops before its time budget runs out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import rowcount
from ecomvideo.services import partitions, system_settings

# table -> (setting key, default days)
RETENTION_RULES: dict[str, tuple[str, int]] = {
    "user_activity": ("retention.user_activity_days", 730),
    "video_analytics": ("retention.video_analytics_days", 365),
    "api_usage": ("retention.api_usage_days", 90),
}
JOBS_RULE: tuple[str, int] = ("retention.background_jobs_days", 30)
# Provider webhook ids kept for de-duplication (added tables, not in the spec): Stripe retries a
# delivery for up to 3 days and Freepik for less, so 90 days covers every redelivery with room
# for investigations. table -> its timestamp column.
WEBHOOK_EVENTS_RULE: tuple[str, int] = ("retention.webhook_events_days", 90)
WEBHOOK_EVENT_TABLES: dict[str, str] = {
    "stripe_events": "processed_at",
    "freepik_webhook_events": "created_at",
    # Only events applied after parking (applied_at is NULL while parked: kept, and alarmed).
    "stripe_parked_events": "applied_at",
}
DEFAULT_BATCH_SIZE = 5000


@dataclass
class RetentionStep:
    """What one step did on one table."""

    table: str
    cutoff: datetime
    partitions_dropped: list[str] = field(default_factory=list)
    rows_deleted: int = 0
    more: bool = False  # a full batch was deleted: call again


def retention_days(session: Session, key: str, default: int) -> int:
    """The configured period in days; a non-positive or malformed value falls back to the spec."""
    try:
        days = int(system_settings.get(session, key, default))
    except (TypeError, ValueError):
        return default
    return days if days > 0 else default


def cutoff_for(session: Session, table: str, now: datetime | None = None) -> datetime:
    """Rows of ``table`` created before this instant are past their retention period."""
    key, default = RETENTION_RULES[table]
    return (now or clock.utcnow()) - timedelta(days=retention_days(session, key, default))


def purge_table(
    session: Session,
    table: str,
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> RetentionStep:
    """Drop expired partitions of ``table``, then delete up to ``batch_size`` expired rows."""
    cutoff = cutoff_for(session, table, now)
    step = RetentionStep(table=table, cutoff=cutoff)
    step.partitions_dropped = partitions.drop_expired_partitions(session, table, cutoff)
    # Only the boundary month and the default partition can still hold expired rows; delete
    # from those partitions directly by ctid (cheapest batched delete: no join on the key).
    remaining = batch_size
    for part in partitions.list_partitions(session, table):
        if remaining <= 0:
            break
        if part.start is not None and part.start >= cutoff:
            continue
        result = session.execute(
            text(
                f'DELETE FROM "{part.name}" WHERE ctid = ANY(ARRAY('  # noqa: S608 - catalog name
                f'SELECT ctid FROM "{part.name}" WHERE created_at < :cutoff LIMIT :n))'
            ),
            {"cutoff": cutoff, "n": remaining},
        )
        step.rows_deleted += rowcount(result)
        remaining = batch_size - step.rows_deleted
    step.more = step.rows_deleted >= batch_size
    return step


def purge_background_jobs(
    session: Session, *, now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> RetentionStep:
    """Delete Completed/Failed jobs finished more than the period ago (one batch)."""
    key, default = JOBS_RULE
    cutoff = (now or clock.utcnow()) - timedelta(days=retention_days(session, key, default))
    result = session.execute(
        text(
            """
            DELETE FROM background_jobs WHERE id IN (
                SELECT id FROM background_jobs
                WHERE status IN ('Completed', 'Failed')
                  AND COALESCE(completed_at, updated_at, created_at) < :cutoff
                LIMIT :n
                FOR UPDATE SKIP LOCKED)
            """
        ),
        {"cutoff": cutoff, "n": batch_size},
    )
    deleted = rowcount(result)
    return RetentionStep(
        table="background_jobs", cutoff=cutoff, rows_deleted=deleted, more=deleted >= batch_size
    )


def purge_webhook_events(
    session: Session,
    table: str,
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> RetentionStep:
    """Delete one batch of provider webhook ids older than the period (``stripe_events``,
    ``freepik_webhook_events``); a redelivery after that is processed as new, which the
    handlers' own state checks make harmless."""
    column = WEBHOOK_EVENT_TABLES[table]  # a fixed name from the mapping above, never input
    key, default = WEBHOOK_EVENTS_RULE
    cutoff = (now or clock.utcnow()) - timedelta(days=retention_days(session, key, default))
    result = session.execute(
        text(
            f"DELETE FROM {table} WHERE ctid IN ("  # noqa: S608 (table/column from a constant)
            f"SELECT ctid FROM {table} WHERE {column} < :cutoff LIMIT :n FOR UPDATE SKIP LOCKED)"
        ),
        {"cutoff": cutoff, "n": batch_size},
    )
    deleted = rowcount(result)
    return RetentionStep(
        table=table, cutoff=cutoff, rows_deleted=deleted, more=deleted >= batch_size
    )
