"""Freepik pipeline: time from POST /v1/videos to Completed under each fault.

Real handlers in process (videos API, pipeline worker, Freepik webhook), the real ASL executed
by moto, the queue's production visibility timeout (360 s), the fake Freepik at the HTTP layer
(each provider task takes ``--task-seconds`` to finish), a scratch PostgreSQL database.

    ECOMVIDEO_PG_PORT=... .venv/bin/python bench/pipeline_recovery_bench.py \\
        [--intervals 10,20,40,60] [--task-seconds 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]
os.environ.update(
    {
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "LOG_LEVEL": "ERROR",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "EcomVideoBench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
)


class _Env:
    """monkeypatch's setenv/delenv, enough for ``freepik_configured``."""

    def setenv(self, key: str, value: str) -> None:
        os.environ[key] = value

    def delenv(self, key: str, raising: bool = True) -> None:
        os.environ.pop(key, None)


def _drive(stack, fake, video_ids, *, task_seconds: float, deliver: bool) -> float:
    """Feed the worker until every video is terminal; returns the seconds it took."""
    from devserver.events import HttpRequest, http_event
    from ecomvideo.db import transaction
    from ecomvideo.models import Video
    from tests.support.pipeline_stack import context, load_function

    started = time.monotonic()
    born: dict[str, float] = {}
    hook = load_function("freepik_webhook")
    while True:
        with transaction() as session:
            statuses = [session.get(Video, v).status for v in video_ids]
        if all(s.is_terminal for s in statuses):
            assert all(s.value == "Completed" for s in statuses), statuses
            return time.monotonic() - started
        assert time.monotonic() - started < 600, "not settled in 10 min"
        messages = stack.receive()
        if messages:
            stack.deliver(messages)
        for task in list(fake.tasks.values()):
            if task.status in ("COMPLETED", "FAILED"):
                continue
            if time.monotonic() - born.setdefault(task.task_id, time.monotonic()) >= task_seconds:
                fake.complete(task.task_id)
        for delivery in fake.pop_outbox():
            if deliver:
                request = HttpRequest(
                    method="POST",
                    path="/webhooks/freepik",
                    headers=list(delivery.headers.items()),
                    body=delivery.body,
                )
                hook.lambda_handler(
                    http_event(request, route_key="POST /webhooks/freepik"), context("hook")
                )
        time.sleep(0.05)


def _scenario(
    name: str, videos: int, prepare: Callable, *, deliver: bool, task_seconds: float
) -> str:
    from moto import mock_aws

    from ecomvideo.db import transaction
    from tests.fakes.freepik_fake import freepik_configured
    from tests.integration.pipeline.test_pipeline_freepik import BODY
    from tests.support.factories import make_grant, make_user
    from tests.support.pipeline_stack import PipelineStack, call

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        stack = PipelineStack(visibility_timeout=360)
        try:
            with freepik_configured(_Env()) as fake:
                prepare(fake)
                ids = []
                for _ in range(videos):
                    with transaction() as session:
                        user = make_user(session)
                        make_grant(session, user, 10)
                        user_id = user.id
                    status, accepted, _ = call(
                        "videos", "POST", "/v1/videos", user_id=user_id, body=BODY
                    )
                    assert status == 202, accepted
                    ids.append(uuid.UUID(accepted["id"]))
                seconds = _drive(stack, fake, ids, task_seconds=task_seconds, deliver=deliver)
        finally:
            stack.close()
    return f"| {name} | {videos} | {seconds:.1f} s |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--intervals", default="10,20,40,60")
    parser.add_argument("--task-seconds", type=float, default=1.0)
    args = parser.parse_args()

    from devserver.pg import scratch_database

    os.environ["DATABASE_URL"] = scratch_database("ecomvideo_bench_recovery")
    os.environ["PROVIDER_POLL_INTERVALS"] = args.intervals
    # The gate's limit is Freepik's account default (3; `pipeline.provider_concurrency`).
    os.environ["PROVIDER_GATE_RETRY_SECONDS"] = "2"
    ts = args.task_seconds

    def nothing(fake) -> None:
        return None

    def rate_limited(fake) -> None:
        fake.fail_next("rate_limited", times=5, scope="create", retry_after=2)

    def server_errors(fake) -> None:
        fake.fail_next("unavailable", times=6, scope="any")

    scenarios = [
        ("webhooks delivered (baseline)", 1, nothing, True),
        ("every webhook lost", 1, nothing, False),
        ("429 burst (5 x Retry-After: 2) at create", 1, rate_limited, True),
        ("503 burst (6 x, no Retry-After)", 1, server_errors, True),
        ("5 simultaneous videos, provider limit 3", 5, nothing, True),
    ]
    rows = [
        _scenario(name, n, prepare, deliver=deliver, task_seconds=ts)
        for name, n, prepare, deliver in scenarios
    ]
    print(f"poll intervals {args.intervals} s, provider task {ts} s, visibility timeout 360 s")
    print("| fault | videos | time to Completed (all) |")
    print("|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
