"""Analytics report latency on 1 million events, and the public event write path.

    .venv/bin/python bench/analytics_bench.py [--rows 1000000] [--n 50]

Generates the data with ``bench/analytics_data.py`` (scratch database), then prints p50/p95 of:
1. ``reports.report`` for the hot video (30-day and 365-day ranges, by day and by week), the
   owner overview and the admin overview, all through the rollup;
2. ``GET /v1/analytics/videos/{id}`` end to end through the real handler (API Gateway v2 event,
   validation, serialisation);
3. for comparison, the same totals + top-countries computed from the raw 1M rows;
4. ``POST /v1/public/videos/{slug}/events`` (direct write path: lookup, dedup upsert, raw
   insert, counter update, rollup upsert, commit) through the real handler.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
sys.path[:0] = [str(LAYER), str(ROOT)]

RAW_TOTALS = """
SELECT event_type, count(*) FILTER (WHERE metadata->>'counted' = 'true')
FROM video_analytics WHERE video_id = :v AND created_at >= :start GROUP BY 1
"""
RAW_COUNTRIES = """
SELECT country_code, count(*) FROM video_analytics
WHERE video_id = :v AND created_at >= :start AND event_type = 'View'
  AND metadata->>'counted' = 'true'
GROUP BY 1 ORDER BY 2 DESC LIMIT 10
"""


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"p50 {p50 * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms   "
        f"mean {statistics.fmean(samples) * 1000:7.2f} ms   n={len(samples)}"
    )


def _time(fn: Callable[[], Any], n: int) -> list[float]:
    fn()  # warm caches and plans
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def _load(function: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"_bench_{function}", ROOT / "functions" / function / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EcomVideo")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import analytics_data

    data = analytics_data.prepare(args.rows, 365)
    os.environ["DATABASE_URL"] = data["url"]
    from sqlalchemy import text

    from devserver.events import HttpRequest, LambdaContext, http_event
    from ecomvideo import db
    from ecomvideo.services import reports
    from ecomvideo.settings import reset_settings

    reset_settings()
    db.reset_engine()
    video_id, owner_id = uuid.UUID(data["video_id"]), uuid.UUID(data["owner_id"])
    end = date.fromisoformat(data["end"])
    print(f"\nreports over the rollup ({args.rows:,} events on one video, 365 days):")
    cases = {
        "video, 30 days by day": ("video", video_id, 30, "day"),
        "video, 365 days by day": ("video", video_id, 365, "day"),
        "video, 365 days by week": ("video", video_id, 365, "week"),
        "owner overview, 365 days": ("own", owner_id, 365, "day"),
        "admin overview, 365 days": ("all", None, 365, "day"),
    }
    for label, (scope, subject, days, interval) in cases.items():
        rng = reports.make_range(end - timedelta(days=days - 1), end, interval)

        def run(scope=scope, subject=subject, rng=rng) -> None:
            with db.transaction() as session:
                reports.report(session, scope, subject, rng)

        print(f"  {label:<28} {_stats(_time(run, args.n))}")

    analytics = _load("analytics")
    request = HttpRequest("GET", f"/v1/analytics/videos/{video_id}", query="interval=week")
    context = LambdaContext("analytics", memory_mb=512, timeout_s=15, region="us-east-1")

    def handler() -> None:
        event = http_event(
            request,
            route_key="GET /v1/analytics/videos/{video_id}",
            authorizer_context={"userId": str(owner_id), "roles": "User"},
        )
        result = analytics.lambda_handler(event, context)
        assert result["statusCode"] == 200, result

    print(f"  {'handler GET report (30 d)':<28} {_stats(_time(handler, args.n))}")

    start = end - timedelta(days=29)
    print("\nfor comparison, straight from the raw events (30 days):")

    def raw() -> None:
        with db.transaction() as session:
            session.execute(text(RAW_TOTALS), {"v": video_id, "start": start}).all()
            session.execute(text(RAW_COUNTRIES), {"v": video_id, "start": start}).all()

    print(f"  {'raw totals + countries':<28} {_stats(_time(raw, max(5, args.n // 10)))}")

    with db.transaction() as session:
        session.execute(text("UPDATE videos SET is_public = true, video_url = 's3://b/k.mp4'"))
    public = _load("public")
    ctx = LambdaContext("public", memory_mb=512, timeout_s=15, region="us-east-1")
    counter = iter(range(10**9))

    def post_event() -> None:
        n = next(counter)
        body = f'{{"event_type": "View", "session_id": "bench-session-{n:08d}"}}'.encode()
        req = HttpRequest(
            "POST",
            f"/v1/public/videos/{video_id}/events",
            headers=[("content-type", "application/json"), ("user-agent", "Mozilla/5.0 (X11)")],
            body=body,
            source_ip="198.51.100.10",
        )
        result = public.lambda_handler(
            http_event(req, route_key="POST /v1/public/videos/{slug}/events"), ctx
        )
        assert result["statusCode"] == 202, result

    print("\npublic event write path (direct, no queue):")
    print(f"  {'POST event (counted view)':<28} {_stats(_time(post_event, args.n * 4))}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
