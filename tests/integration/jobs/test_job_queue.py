"""background_jobs as a queue: outbox visibility, SKIP LOCKED workers, backoff, Failed."""

from __future__ import annotations

import importlib
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.enums import JobStatus
from ecomvideo.models import BackgroundJob
from ecomvideo.services import jobs
from tests.support.scheduled import invoke_scheduled

NOW = datetime(2030, 6, 15, 12, 0, 0)


@pytest.fixture(autouse=True)
def _cleanup():
    yield
    clock.unfreeze()
    for name in [t for t in jobs.registered_types() if t.startswith("test.")]:
        jobs._handlers.pop(name, None)


def _count(session, job_type: str) -> int:
    return session.scalar(
        select(func.count()).select_from(BackgroundJob).where(BackgroundJob.job_type == job_type)
    )


def test_outbox_job_is_invisible_when_its_transaction_rolls_back(fresh_db):
    with pytest.raises(RuntimeError), transaction() as session:
        jobs.enqueue(session, "test.outbox", {"n": 1})
        raise RuntimeError("the business change failed")
    with transaction() as session:
        assert _count(session, "test.outbox") == 0
        assert jobs.claim(session, job_types=["test.outbox"]) == []


def test_outbox_job_becomes_claimable_only_when_its_transaction_commits(fresh_db):
    from ecomvideo.db import get_sessionmaker

    writer = get_sessionmaker()()
    try:
        jobs.enqueue(writer, "test.outbox", {"n": 2})  # flushed, not committed
        with transaction() as other:
            assert jobs.claim(other, job_types=["test.outbox"]) == []
        writer.commit()
    finally:
        writer.close()
    with transaction() as other:
        claimed = jobs.claim(other, job_types=["test.outbox"])
    assert [c.job_data["n"] for c in claimed] == [2]


def test_two_workers_in_parallel_never_run_the_same_job(fresh_db):
    seen: list[str] = []
    lock = threading.Lock()

    def record(session, data) -> None:
        time.sleep(0.005)
        with lock:
            seen.append(data["n"])

    jobs.register("test.parallel", record)
    with transaction() as session:
        for n in range(60):
            jobs.enqueue(session, "test.parallel", {"n": str(n)})
    barrier = threading.Barrier(2)
    runs: list[jobs.WorkerRun] = []

    def worker() -> None:
        barrier.wait()
        runs.append(jobs.work(batch_size=3, max_jobs=1000, job_types=["test.parallel"]))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(seen, key=int) == [str(n) for n in range(60)]  # each exactly once
    assert all(r.claimed > 0 for r in runs)  # both really worked
    assert sum(r.completed for r in runs) == 60
    with transaction() as session:
        statuses = session.execute(
            text(
                "SELECT status, max(attempts) FROM background_jobs "
                "WHERE job_type = 'test.parallel' GROUP BY status"
            )
        ).all()
    assert statuses == [("Completed", 1)]


def test_failing_job_retries_with_exponential_backoff_then_fails(session):
    clock.freeze(NOW)
    calls: list[datetime] = []

    def always_fails(session, data) -> None:
        calls.append(clock.utcnow())
        raise ValueError(f"receiver down (call {len(calls)})")

    jobs.register("test.failing", always_fails)
    job = jobs.enqueue(session, "test.failing", {}, max_attempts=3)

    def state() -> tuple:
        session.expire_all()
        row = session.get(BackgroundJob, job.id)
        return row.status, row.attempts, row.scheduled_at, row.error_message

    jobs.work(job_types=["test.failing"])
    assert state() == (
        JobStatus.PENDING,
        1,
        NOW + timedelta(seconds=30),
        "ValueError: receiver down (call 1)",
    )
    jobs.work(job_types=["test.failing"])  # not due yet
    assert len(calls) == 1

    clock.advance(timedelta(seconds=30))
    jobs.work(job_types=["test.failing"])
    assert state()[:3] == (JobStatus.PENDING, 2, NOW + timedelta(seconds=30 + 60))

    clock.advance(timedelta(seconds=60))
    run = jobs.work(job_types=["test.failing"])
    status, attempts, _, error = state()
    assert (status, attempts, error) == (JobStatus.FAILED, 3, "ValueError: receiver down (call 3)")
    assert run.failed == 1
    assert session.get(BackgroundJob, job.id).completed_at == NOW + timedelta(seconds=90)

    clock.advance(timedelta(hours=2))
    jobs.work(job_types=["test.failing"])
    assert len(calls) == 3  # a Failed job is never picked up again


def test_retry_job_keeps_the_handler_writes(session):
    clock.freeze(NOW)

    def partial(session, data) -> None:
        jobs.enqueue(session, "test.side-effect", {"from": "handler"})
        raise jobs.RetryJob("HTTP 500")

    jobs.register("test.partial", partial)
    job = jobs.enqueue(session, "test.partial", {}, max_attempts=2)
    jobs.work(job_types=["test.partial"])
    session.expire_all()
    assert session.get(BackgroundJob, job.id).error_message == "RetryJob: HTTP 500"
    assert _count(session, "test.side-effect") == 1


def test_higher_priority_and_older_jobs_are_claimed_first(session):
    clock.freeze(NOW)
    order = [
        ("low-old", 0, NOW - timedelta(minutes=5)),
        ("high-new", 9, NOW - timedelta(minutes=1)),
        ("high-old", 9, NOW - timedelta(minutes=2)),
        ("future", 99, NOW + timedelta(minutes=1)),
    ]
    for label, priority, at in order:
        jobs.enqueue(session, "test.order", {"l": label}, priority=priority, scheduled_at=at)
    claimed = jobs.claim(session, limit=10, job_types=["test.order"])
    assert [c.job_data["l"] for c in claimed] == ["high-old", "high-new", "low-old"]


def test_dedupe_key_enqueues_once(session):
    first = jobs.enqueue(session, "test.dedupe", {}, dedupe_key="k1")
    second = jobs.enqueue(session, "test.dedupe", {}, dedupe_key="k1")
    assert first is not None and second is None


def test_unknown_job_type_fails_after_its_attempts(session):
    job = jobs.enqueue(session, "test.nobody-handles-this", {}, max_attempts=1)
    jobs.work(job_types=["test.nobody-handles-this"])
    session.expire_all()
    row = session.get(BackgroundJob, job.id)
    assert row.status is JobStatus.FAILED
    assert "no handler registered" in row.error_message


def test_stale_running_job_is_requeued(session):
    clock.freeze(NOW)
    job = jobs.enqueue(session, "test.stale", {}, max_attempts=3)
    jobs.claim(session, job_types=["test.stale"])
    assert jobs.requeue_stale(session, now=NOW + timedelta(minutes=16)) == 1
    session.expire_all()
    assert session.get(BackgroundJob, job.id).status is JobStatus.PENDING


def test_worker_lambda_drains_the_queue_on_its_schedule(session):
    done: list[str] = []
    jobs.register("test.lambda", lambda s, d: done.append(d["x"]))
    jobs.enqueue(session, "test.lambda", {"x": "a"})
    jobs.enqueue(session, "test.lambda", {"x": "b"})

    result = invoke_scheduled("jobs_worker", None, timeout_s=120)

    assert sorted(done) == ["a", "b"]
    assert result["completed"] >= 2 and result["failed"] == 0


@pytest.mark.parametrize("job_type", sorted(jobs.HANDLER_MODULES))
def test_each_job_type_is_handled_by_the_module_listed_for_it(job_type):
    """The worker imports a job type's module on its first job (cold start): the module listed
    must be the one that registers that type's handler."""
    handler = jobs.handler_for(job_type)
    assert handler is not None
    assert handler.__module__ == importlib.import_module(jobs.HANDLER_MODULES[job_type]).__name__
