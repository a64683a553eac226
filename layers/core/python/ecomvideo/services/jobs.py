"""``background_jobs`` as a transactional job queue (outbox + SKIP LOCKED workers).

Enqueue: ``enqueue(session, job_type, data)`` inserts the job in the *caller's* transaction, so
the job exists exactly when the business change commits (outbox pattern): a rolled-back request
leaves no job behind, a committed one always has its job.

Claim: ``claim`` flips up to ``limit`` due Pending jobs to Running with
``SELECT ... FOR UPDATE SKIP LOCKED`` (highest ``priority`` first, then oldest ``scheduled_at``),
counting the attempt and stamping ``started_at``, in its own short transaction; two workers
never get the same job.

Run: each claimed job runs in its own transaction with the handler registered for its
``job_type``; success marks it Completed in the same transaction as the handler's writes. A
failure rolls the handler's writes back and, in a new transaction, either re-schedules the job
(Pending, ``scheduled_at = now + backoff``; backoff doubles per attempt) or, after
``max_attempts``, marks it Failed. ``error_message`` keeps the last error. A handler may raise
``RetryJob`` to keep its writes (e.g. a delivery log row) and still be retried.

A job whose worker died stays Running; ``requeue_stale`` returns it to the queue after its
lease. Priority: larger numbers run first (default 0).
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import rowcount, transaction
from ecomvideo.enums import JobStatus
from ecomvideo.models import BackgroundJob
from ecomvideo.observability import logger

JobHandler = Callable[[Session, dict[str, Any]], None]

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
DEFAULT_LEASE = timedelta(minutes=15)
# The module whose import registers each job type's handler: imported on the first job of that
# type, so a worker run that only sends mail never loads the webhook delivery stack (httpx).
HANDLER_MODULES = {
    "auth.email": "ecomvideo.services.auth_mail",
    "billing.email": "ecomvideo.services.billing_mail",
    "media.purge": "ecomvideo.services.media_purge",
    "notification.email": "ecomvideo.services.notifications",
    "webhook.deliver": "ecomvideo.services.outbound_webhooks",
}

_handlers: dict[str, JobHandler] = {}


class RetryJob(Exception):
    """Raised by a handler: keep its writes, count a failed attempt, retry with backoff."""


class UnknownJobType(Exception):
    pass


def register(job_type: str, handler: JobHandler) -> None:
    """Register ``handler(session, job_data)`` for ``job_type`` (last registration wins)."""
    _handlers[job_type] = handler


def handler(job_type: str) -> Callable[[JobHandler], JobHandler]:
    """Decorator form of ``register``."""

    def decorate(fn: JobHandler) -> JobHandler:
        register(job_type, fn)
        return fn

    return decorate


def registered_types() -> list[str]:
    return sorted(_handlers)


def load_default_handlers() -> None:
    """Import every module that registers one of the application's job handlers (eagerly;
    the worker itself loads them per job type, see ``handler_for``)."""
    for module in HANDLER_MODULES.values():
        importlib.import_module(module)


def handler_for(job_type: str) -> JobHandler | None:
    """The handler registered for ``job_type``, importing its module on first use."""
    fn = _handlers.get(job_type)
    if fn is None and job_type in HANDLER_MODULES:
        importlib.import_module(HANDLER_MODULES[job_type])
        fn = _handlers.get(job_type)
    return fn


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed tries: 30 s, 60 s, 120 s... <= 1 h."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(BACKOFF_CAP_SECONDS, seconds))


def enqueue(
    session: Session,
    job_type: str,
    data: dict[str, Any],
    *,
    priority: int = 0,
    scheduled_at: datetime | None = None,
    max_attempts: int = 3,
    dedupe_key: str | None = None,
) -> BackgroundJob | None:
    """Add a job in the caller's transaction (visible only once the caller commits).

    With ``dedupe_key`` the job is skipped (returns None) when a job of the same type with the
    same key already exists (pending, running or finished and not yet purged).
    """
    payload = dict(data)
    if dedupe_key is not None:
        payload["dedupe_key"] = dedupe_key
        # Serialise enqueuers of the same key so the existence check cannot race.
        lock_key = f"job:{job_type}:{dedupe_key}"
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": lock_key})
        exists = session.execute(
            text(
                "SELECT 1 FROM background_jobs WHERE job_type = :t "
                "AND job_data->>'dedupe_key' = :k LIMIT 1"
            ),
            {"t": job_type, "k": dedupe_key},
        ).first()
        if exists:
            return None
    job = BackgroundJob(
        id=uuid.uuid4(),
        job_type=job_type,
        job_data=payload,
        status=JobStatus.PENDING,
        priority=priority,
        attempts=0,
        max_attempts=max_attempts,
        scheduled_at=scheduled_at or clock.utcnow(),
    )
    session.add(job)
    session.flush()
    return job


@dataclass(frozen=True)
class ClaimedJob:
    id: uuid.UUID
    job_type: str
    job_data: dict[str, Any]
    attempts: int
    max_attempts: int


def claim(
    session: Session,
    *,
    limit: int = 10,
    job_types: list[str] | None = None,
    now: datetime | None = None,
) -> list[ClaimedJob]:
    """Mark up to ``limit`` due Pending jobs Running and return them (commit right after)."""
    moment = now or clock.utcnow()
    rows = session.execute(
        text(
            """
            UPDATE background_jobs j
            SET status = 'Running', started_at = :now, attempts = COALESCE(j.attempts, 0) + 1
            FROM (
                SELECT id FROM background_jobs
                WHERE status = 'Pending' AND scheduled_at <= :now
                  AND (CAST(:types AS text[]) IS NULL OR job_type = ANY(CAST(:types AS text[])))
                ORDER BY priority DESC NULLS LAST, scheduled_at, created_at
                LIMIT :limit
                FOR UPDATE SKIP LOCKED
            ) due
            WHERE j.id = due.id
            RETURNING j.id, j.job_type, j.job_data, j.attempts, j.max_attempts, j.priority,
                      j.scheduled_at
            """
        ),
        {"now": moment, "limit": limit, "types": job_types},
    ).all()
    rows = sorted(rows, key=lambda r: (-(r.priority or 0), r.scheduled_at))
    return [
        ClaimedJob(r.id, r.job_type, dict(r.job_data), r.attempts, r.max_attempts or 1)
        for r in rows
    ]


def _finish(session: Session, job_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        text(
            "UPDATE background_jobs SET status = 'Completed', completed_at = :now, "
            "error_message = NULL WHERE id = :id"
        ),
        {"id": job_id, "now": now},
    )


def record_failure(session: Session, job: ClaimedJob, error: str, now: datetime) -> JobStatus:
    """Re-schedule with backoff, or mark Failed when the attempts are used up."""
    message = error[:2000]
    if job.attempts >= job.max_attempts:
        session.execute(
            text(
                "UPDATE background_jobs SET status = 'Failed', completed_at = :now, "
                "error_message = :err WHERE id = :id"
            ),
            {"id": job.id, "now": now, "err": message},
        )
        return JobStatus.FAILED
    session.execute(
        text(
            "UPDATE background_jobs SET status = 'Pending', scheduled_at = :at, "
            "error_message = :err WHERE id = :id"
        ),
        {"id": job.id, "at": now + backoff(job.attempts), "err": message},
    )
    return JobStatus.PENDING


def _describe(exc: BaseException) -> str:
    # Job errors are internal (admins read them), but keep them short and typed.
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {detail}"[:2000] if detail else type(exc).__name__


def run_job(job: ClaimedJob) -> JobStatus:
    """Run one claimed job in its own transaction; returns its resulting status."""
    fn = handler_for(job.job_type)
    try:
        with transaction() as session:
            if fn is None:
                raise UnknownJobType(f"no handler registered for {job.job_type!r}")
            try:
                fn(session, job.job_data)
            except RetryJob as exc:
                return record_failure(session, job, _describe(exc), clock.utcnow())
            _finish(session, job.id, clock.utcnow())
            return JobStatus.COMPLETED
    except Exception as exc:
        logger.warning(
            "background job failed",
            extra={"job_id": str(job.id), "job_type": job.job_type, "attempt": job.attempts},
            exc_info=True,
        )
        with transaction() as session:
            return record_failure(session, job, _describe(exc), clock.utcnow())


@dataclass
class WorkerRun:
    claimed: int = 0
    completed: int = 0
    retried: int = 0
    failed: int = 0
    statuses: dict[str, str] = field(default_factory=dict)


def work(
    *,
    batch_size: int = 10,
    max_jobs: int = 100,
    time_left_ms: Callable[[], int] | None = None,
    reserve_ms: int = 5000,
    job_types: list[str] | None = None,
) -> WorkerRun:
    """Claim and run jobs until the queue has nothing due, ``max_jobs`` ran, or time is short.

    Claims in batches (each claim is its own short transaction); a claimed job is always run or
    re-queued in this invocation, so the budget check happens before each claim.
    """
    run = WorkerRun()
    started = time.monotonic()
    while run.claimed < max_jobs:
        if time_left_ms is not None and time_left_ms() < reserve_ms:
            break
        with transaction() as session:
            batch = claim(
                session, limit=min(batch_size, max_jobs - run.claimed), job_types=job_types
            )
        if not batch:
            break
        run.claimed += len(batch)
        for job in batch:
            status = run_job(job)
            run.statuses[str(job.id)] = status.value
            if status is JobStatus.COMPLETED:
                run.completed += 1
            elif status is JobStatus.FAILED:
                run.failed += 1
            else:
                run.retried += 1
    logger.info(
        "jobs worker run",
        extra={
            "claimed": run.claimed,
            "completed": run.completed,
            "retried": run.retried,
            "failed": run.failed,
            "elapsed_ms": int((time.monotonic() - started) * 1000),
        },
    )
    return run


def requeue_stale(
    session: Session, *, lease: timedelta = DEFAULT_LEASE, now: datetime | None = None
) -> int:
    """Jobs Running longer than ``lease`` (their worker died): retry them or mark them Failed."""
    moment = now or clock.utcnow()
    result = session.execute(
        text(
            """
            UPDATE background_jobs
            SET status = CASE WHEN attempts >= max_attempts THEN 'Failed' ELSE 'Pending' END,
                completed_at = CASE WHEN attempts >= max_attempts THEN :now END,
                scheduled_at = :now,
                error_message = 'worker lease expired'
            WHERE id IN (
                SELECT id FROM background_jobs
                WHERE status = 'Running' AND started_at < :stale
                LIMIT 500 FOR UPDATE SKIP LOCKED)
            """
        ),
        {"now": moment, "stale": moment - lease},
    )
    return rowcount(result)


def get(session: Session, job_id: uuid.UUID) -> BackgroundJob | None:
    return session.get(BackgroundJob, job_id)
