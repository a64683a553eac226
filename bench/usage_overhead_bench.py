"""Cost per request of the api_usage log and the rate limiter (Powertools middlewares).

    .venv/bin/python bench/usage_overhead_bench.py [--n 500]

Builds three resolvers with the project's ``create_app()`` and the same trivial authenticated
route (one ``SELECT 1`` transaction, like a cheap real endpoint), on a scratch database
``ecomvideo_usage_bench``: (a) no middleware, (b) ``usage_middleware``, (c) ``usage_middleware``
+ ``rate_limit_middleware``. Each request is a full API Gateway v2 event through ``resolve``;
the difference of the medians is the overhead per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
sys.path[:0] = [str(LAYER), str(ROOT)]
BENCH_DB = "ecomvideo_usage_bench"


def _prepare() -> str:
    from devserver.pg import scratch_database

    return scratch_database(BENCH_DB)


def _app(middlewares: list[Any]) -> Any:
    from sqlalchemy import text

    from ecomvideo.db import transaction
    from ecomvideo.http.app import create_app

    app = create_app(usage_and_limits=False)

    @app.get("/v1/things/<thing_id>")
    def get_thing(thing_id: uuid.UUID) -> dict[str, Any]:
        with transaction() as session:
            session.execute(text("SELECT 1"))
        return {"id": str(thing_id), "name": "bench", "tags": ["a", "b", "c"]}

    if middlewares:
        app.use(middlewares)
    return app


def _stats(samples: list[float]) -> tuple[float, str]:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return p50, (
        f"p50 {p50 * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms   "
        f"mean {statistics.fmean(samples) * 1000:6.2f} ms   n={len(samples)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = _prepare()
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    from sqlalchemy import func, select

    from devserver.events import HttpRequest, LambdaContext, http_event
    from ecomvideo import db
    from ecomvideo.http.ratelimit import rate_limit_middleware
    from ecomvideo.http.usage import usage_middleware
    from ecomvideo.models import ApiUsage, User
    from ecomvideo.services import system_settings

    db.reset_engine()
    with db.transaction() as session:
        user = User(email="bench@example.com", password_hash="x", first_name="Bench")  # noqa: S106
        session.add(user)
        session.flush()
        user_id = str(user.id)
        # High enough that the limiter never refuses during the run.
        system_settings.update(session, "ratelimit.plans", {}, updated_by="bench", data_type="json")
        system_settings.update(session, "ratelimit.requests_per_minute", 10**9, updated_by="bench")
    context = LambdaContext("bench", memory_mb=512, timeout_s=15, region="us-east-1")
    request = HttpRequest(
        "GET", f"/v1/things/{uuid.uuid4()}", headers=[("user-agent", "bench/1.0")]
    )
    variants = {
        "no middleware": [],
        "api_usage log": [usage_middleware],
        "api_usage + rate limit": [usage_middleware, rate_limit_middleware],
    }
    medians: dict[str, float] = {}
    for label, middlewares in variants.items():
        app = _app(middlewares)
        event = http_event(
            request,
            route_key="GET /v1/things/{thing_id}",
            authorizer_context={"userId": user_id, "roles": "User"},
        )
        for _ in range(20):  # warm up pools, caches, route stacks
            app.resolve(event, context)
        samples = []
        for _ in range(args.n):
            started = time.perf_counter()
            result = app.resolve(event, context)
            samples.append(time.perf_counter() - started)
            assert result["statusCode"] == 200, result
        medians[label], line = _stats(samples)
        print(f"  {label:<24} {line}")
    base = medians["no middleware"]
    for label in ("api_usage log", "api_usage + rate limit"):
        print(
            f"  overhead of {label:<24} {(medians[label] - base) * 1000:+6.2f} ms per request (p50)"
        )
    with db.transaction() as session:
        rows = session.scalar(select(func.count()).select_from(ApiUsage))
    print(f"  api_usage rows written: {rows}")


if __name__ == "__main__":
    main()
