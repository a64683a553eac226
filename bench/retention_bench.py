"""Retention on 1 million video_analytics rows: dropping partitions vs DELETE.

    PYTHONPATH=. .venv/bin/python bench/retention_bench.py [--rows 1000000] [--months 12]

Creates a scratch database on the project's PostgreSQL (``devserver.pg``, or DATABASE_URL's
server), migrates it to head, generates ``--rows`` analytics events spread evenly over the last
``--months`` months with ``INSERT ... SELECT generate_series`` into the partitioned table and
an identical unpartitioned copy (same indexes), then removes everything older than a mid-month
cutoff half-way back:

* partitioned: ``services.retention.purge_table`` (drop whole partitions + DELETE of the boundary
  month's expired rows, in batches like the scheduled job);
* plain: one ``DELETE FROM ... WHERE created_at < cutoff``.

Prints rows removed and wall-clock time of each, then drops the scratch database.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

DB_NAME = "ecomvideo_bench_retention"


def server_url() -> str:
    import os

    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from devserver.pg import ensure_server

    return ensure_server()


def admin(url: str) -> psycopg.Connection:
    from devserver.pg import admin_connection

    return admin_connection(url)


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--batch", type=int, default=50_000, help="DELETE batch (partitioned)")
    args = parser.parse_args()

    base = server_url()
    with admin(base) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = make_url(base).set(database=DB_NAME).render_as_string(hide_password=False)
    try:
        run(url, args)
    finally:
        with admin(base) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def run(url: str, args: argparse.Namespace) -> None:
    from ecomvideo import clock
    from ecomvideo.services import partitions, retention

    migrate(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    now = datetime.now().replace(microsecond=0)
    start = now - timedelta(days=30.4 * args.months)
    span_s = int((now - start).total_seconds())
    with Session(engine) as s:
        partitions.ensure_partitions(
            s, "video_analytics", months_back=args.months + 1, months_ahead=0, now=now
        )
        user = s.execute(
            text(
                "INSERT INTO users (email, password_hash) VALUES ('bench@example.com', 'x') "
                "RETURNING id"
            )
        ).scalar_one()
        video = s.execute(
            text(
                "INSERT INTO videos (user_id, title, text_prompt, input_type, status, "
                "resolution, aspect_ratio) VALUES (:u, 'bench', 'p', 'Text', 'Completed', "
                "'1080x1920', '9:16') RETURNING id"
            ),
            {"u": user},
        ).scalar_one()
        s.commit()
        generate = (
            "INSERT INTO {table} (video_id, user_id, event_type, platform, country_code, "
            "device_type, session_id, created_at) "
            "SELECT :v, NULL, (ARRAY['View','Download','Share','Like'])[1 + g % 4], "
            "(ARRAY['TikTok','Instagram','YouTube'])[1 + g % 3], "
            "(ARRAY['US','DE','FR','BR'])[1 + g % 4], 'Mobile', 's' || (g % 5000), "
            ":start + make_interval(secs => (g::bigint * :span / :n)) "
            "FROM generate_series(0, :n - 1) g"
        )
        params = {"v": video, "start": start, "span": span_s, "n": args.rows}
        t0 = time.perf_counter()
        s.execute(text(generate.format(table="video_analytics")), params)
        s.commit()
        gen_partitioned = time.perf_counter() - t0
        # The same rows in an unpartitioned table with the same indexes.
        s.execute(
            text(
                "CREATE TABLE va_plain "
                "(LIKE video_analytics INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
        )
        for col in ("video_id", "user_id", "event_type", "platform", "created_at", "country_code"):
            s.execute(text(f"CREATE INDEX ON va_plain ({col})"))
        s.execute(text("ALTER TABLE va_plain ADD PRIMARY KEY (id)"))
        t0 = time.perf_counter()
        s.execute(text("INSERT INTO va_plain SELECT * FROM video_analytics"))
        s.commit()
        gen_plain = time.perf_counter() - t0
        s.execute(text("ANALYZE"))
        s.commit()

    # Cutoff half-way back, mid-month: whole partitions before it, the rest row by row.
    days = int(30.4 * args.months / 2)
    cutoff = now - timedelta(days=days)
    clock.freeze(now)
    with Session(engine) as s:
        from ecomvideo.services import system_settings

        system_settings.update(
            s, "retention.video_analytics_days", days, data_type="number", updated_by="bench"
        )
        s.commit()
        expired_total = s.scalar(
            text("SELECT count(*) FROM video_analytics WHERE created_at < :c"), {"c": cutoff}
        )

    # Partitioned: drop whole months (timed alone), then the boundary month in batches.
    t0 = time.perf_counter()
    with Session(engine) as s:
        dropped = partitions.drop_expired_partitions(s, "video_analytics", cutoff)
        s.commit()
    drop_s = time.perf_counter() - t0
    deleted = 0
    t0 = time.perf_counter()
    while True:
        with Session(engine) as s:
            step = retention.purge_table(s, "video_analytics", batch_size=args.batch)
            s.commit()
        deleted += step.rows_deleted
        if not step.more:
            break
    boundary_s = time.perf_counter() - t0
    auto = engine.execution_options(isolation_level="AUTOCOMMIT")
    with auto.connect() as conn:
        t0 = time.perf_counter()
        conn.execute(text("VACUUM video_analytics"))
        vacuum_p = time.perf_counter() - t0
        t0 = time.perf_counter()
        plain_deleted = conn.execute(
            text("DELETE FROM va_plain WHERE created_at < :c"), {"c": cutoff}
        ).rowcount
        plain_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute(text("VACUUM va_plain"))
        vacuum_plain = time.perf_counter() - t0
        left_p = conn.execute(text("SELECT count(*) FROM video_analytics")).scalar()
        left_plain = conn.execute(text("SELECT count(*) FROM va_plain")).scalar()
        version = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    clock.unfreeze()

    print(
        f"PostgreSQL {version}; {args.rows:,} rows over {args.months} months "
        f"(generate: partitioned {gen_partitioned:.1f} s, plain copy {gen_plain:.1f} s)"
    )
    print(f"cutoff {cutoff:%Y-%m-%d %H:%M} (retention {days} days): {expired_total:,} rows expired")
    print(
        f"partitioned: DROP of {len(dropped)} whole-month partitions "
        f"({expired_total - deleted:,} rows) {drop_s * 1000:.0f} ms; boundary-month DELETE of "
        f"{deleted:,} rows {boundary_s * 1000:.0f} ms; VACUUM {vacuum_p * 1000:.0f} ms "
        f"({left_p:,} rows left)"
    )
    print(
        f"plain table: DELETE of {plain_deleted:,} rows {plain_s * 1000:.0f} ms; "
        f"VACUUM {vacuum_plain * 1000:.0f} ms ({left_plain:,} rows left)"
    )
    total_p = drop_s + boundary_s + vacuum_p
    total_plain = plain_s + vacuum_plain
    print(
        f"end to end (incl. VACUUM): partitioned {total_p * 1000:.0f} ms vs plain "
        f"{total_plain * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
