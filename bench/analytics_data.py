"""Generate 1 million analytics events for one video (plus noise) in a scratch database.

    .venv/bin/python bench/analytics_data.py [--rows 1000000] [--days 365]

Creates ``ecomvideo_analytics_bench`` on the project's local PostgreSQL (migrated and seeded),
one owner with a hot video holding ``--rows`` raw ``video_analytics`` events spread over
``--days`` days (7 platforms, 40 countries, 3 devices, ~5 % bots, ~20 % repeat views not
counted), ten other videos with 1 000 events each, then builds the daily rollup from the raw
rows with ``reports.rebuild_rollup`` (the same shape the ingest path maintains) and ANALYZEs.
Prints the database URL and the hot video id as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
sys.path[:0] = [str(LAYER), str(ROOT)]
BENCH_DB = "ecomvideo_analytics_bench"

GENERATE = """
INSERT INTO video_analytics
    (id, video_id, user_id, event_type, platform, ip_address, user_agent, referrer,
     country_code, city, device_type, browser, os, session_id, duration_seconds, metadata,
     created_at)
SELECT gen_random_uuid(), :video_id, NULL,
       (ARRAY['View','View','View','View','View','View','View','Download','Share','Like'])
           [1 + (g % 10)],
       (ARRAY['TikTok','Instagram','YouTube','Twitter/X','Facebook','Pinterest','Link'])
           [1 + (g * 7 % 7 + g / 7 % 7) % 7],
       CAST('198.51.' || (g % 200) || '.0' AS inet),
       'Mozilla/5.0 bench', NULL,
       chr(65 + (g / 3 % 20)) || chr(65 + (g / 11 % 2)),
       NULL,
       (ARRAY['Mobile','Desktop','Tablet'])[1 + (g / 5 % 3)],
       'Chrome', 'Android', 's-' || (g / 4), (g % 60),
       jsonb_build_object('counted', (g % 20 <> 0 AND g % 5 <> 1), 'bot', g % 20 = 0),
       :end_at - make_interval(secs => (g * 31.536 * :days / 365) :: int % (:days * 86400))
FROM generate_series(1, :rows) AS g
"""


def prepare(rows: int, days: int) -> dict[str, str]:
    from sqlalchemy import text

    from devserver.pg import scratch_database

    url = scratch_database(BENCH_DB)
    os.environ["DATABASE_URL"] = url
    from ecomvideo import clock, db
    from ecomvideo.enums import VideoStatus
    from ecomvideo.models.engagement import VideoAnalyticsDaily  # noqa: F401 - mapper
    from ecomvideo.services import reports
    from tests.support.factories import make_user, make_video

    db.reset_engine()
    end_at = clock.utcnow().replace(microsecond=0)
    started = time.perf_counter()
    with db.transaction() as session:
        owner = make_user(session, email="bench-owner@example.com")
        hot = make_video(session, owner, status=VideoStatus.COMPLETED, title="Hot video")
        others = [
            make_video(session, owner, status=VideoStatus.COMPLETED, title=f"Video {i}")
            for i in range(10)
        ]
        session.execute(text("SET LOCAL statement_timeout = 0"))
        session.execute(
            text(GENERATE), {"video_id": hot.id, "rows": rows, "days": days, "end_at": end_at}
        )
        for video in others:
            session.execute(
                text(GENERATE),
                {"video_id": video.id, "rows": 1000, "days": days, "end_at": end_at},
            )
        hot_id, owner_id = str(hot.id), str(owner.id)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    with db.transaction() as session:
        session.execute(text("SET LOCAL statement_timeout = 0"))
        written = reports.rebuild_rollup(session)
    rolled = time.perf_counter() - started
    engine = db.get_engine()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    print(
        f"generated {rows + 10_000:,} raw events in {generated:.1f} s; "
        f"rollup {written:,} rows in {rolled:.1f} s"
    )
    return {"url": url, "video_id": hot_id, "owner_id": owner_id, "end": end_at.date().isoformat()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    print(json.dumps(prepare(args.rows, args.days)))


if __name__ == "__main__":
    main()
