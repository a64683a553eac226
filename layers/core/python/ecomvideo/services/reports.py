"""Analytics reports: SQL aggregation over the daily rollup, never raw rows in Python.

Reports read ``video_analytics_daily`` (maintained by ``services.analytics.record`` in the same
transaction as each raw event), so a report costs O(days x dimension values), not O(events):
a video with 1 million events over a year reads ~365 x (1 + a few platforms/devices + its
countries) rows through the primary key prefix ``(video_id, day)``. The owner overview uses
``(owner_id, day)`` and the admin overview ``(day)``. Three statements per report: totals and
series (one GROUP BY on the ``total`` dimension), top values per dimension (a window function),
top videos (overviews only).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import rowcount
from ecomvideo.errors import ValidationFailed, field_error
from ecomvideo.schemas import analytics as schemas

MAX_RANGE_DAYS = 731
# Dates a report can be about: far enough from date.min/max that no range or bucket
# arithmetic overflows (to=0001-01-01 or 9999-12-31 used to raise OverflowError, a 500).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2999, 12, 31)
EVENT_FIELDS = {"View": "views", "Download": "downloads", "Share": "shares", "Like": "likes"}
Scope = Literal["video", "own", "all"]
Interval = Literal["day", "week"]
_INTERVALS: dict[str, Interval] = {"day": "day", "week": "week"}


@dataclass(frozen=True)
class Range:
    start: date
    end: date  # inclusive
    interval: Interval = "day"
    top: int = 10


def make_range(start: date | None, end: date | None, interval: str = "day", top: int = 10) -> Range:
    """Defaults to the last 30 days; refuses out-of-range, inverted or over-long ranges (422)."""
    for field, day in (("from", start), ("to", end)):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise ValidationFailed(
                f"{field} must be between {EARLIEST_DAY} and {LATEST_DAY}.",
                errors=[field_error(field, "out of range", "out_of_range")],
            )
    end = end or clock.utcnow().date()
    start = start or end - timedelta(days=29)
    if start > end:
        raise ValidationFailed(
            "from must not be after to.", errors=[field_error("from", "out of range")]
        )
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"The range may span at most {MAX_RANGE_DAYS} days.",
            errors=[field_error("from", "out of range")],
        )
    kind = _INTERVALS.get(interval)
    if kind is None:
        raise ValidationFailed(
            "interval is day or week.", errors=[field_error("interval", "must be day or week")]
        )
    return Range(start, end, kind, max(1, min(top, 50)))


def _filter(scope: Scope) -> str:
    return {
        "video": "d.video_id = :subject",
        "own": "d.owner_id = :subject",
        "all": "TRUE",
    }[scope]


def _bucket(day: date, interval: str) -> date:
    return day - timedelta(days=day.weekday()) if interval == "week" else day


def report(session: Session, scope: Scope, subject: uuid.UUID | None, rng: Range) -> schemas.Report:
    """Totals, series, top platforms/countries/devices (and top videos for overviews)."""
    where = f"{_filter(scope)} AND d.day BETWEEN :start AND :end"
    params: dict[str, Any] = {"subject": subject, "start": rng.start, "end": rng.end}

    rows = session.execute(
        text(
            f"""
            SELECT CAST(date_trunc(:interval, d.day) AS date) AS bucket, d.event_type,
                   sum(d.counted) AS counted, sum(d.events) AS events, sum(d.bots) AS bots,
                   sum(d.watch_seconds) AS watch
            FROM video_analytics_daily d
            WHERE {where} AND d.dimension = 'total'
            GROUP BY 1, 2
            """  # noqa: S608 - only constant SQL fragments are interpolated
        ),
        {**params, "interval": rng.interval},
    ).all()
    totals = schemas.Totals()
    points: dict[date, dict[str, int]] = defaultdict(dict)
    for bucket, event_type, counted, events, bots, watch in rows:
        name = EVENT_FIELDS.get(event_type)
        if name is None:
            continue
        setattr(totals, name, getattr(totals, name) + int(counted))
        totals.bot_events += int(bots)
        totals.raw_events += int(events)
        totals.watch_seconds += int(watch)
        points[bucket][name] = points[bucket].get(name, 0) + int(counted)
    if totals.views:
        totals.avg_watch_seconds = round(totals.watch_seconds / totals.views, 2)

    series: list[schemas.SeriesPoint] = []
    step = timedelta(days=7 if rng.interval == "week" else 1)
    bucket = _bucket(rng.start, rng.interval)
    while bucket <= rng.end:  # every bucket, zeros included, so charts need no gap filling
        series.append(schemas.SeriesPoint(period_start=bucket, **points.get(bucket, {})))
        bucket += step

    tops = session.execute(
        text(
            f"""
            SELECT dimension, value, views FROM (
                SELECT d.dimension, d.value, sum(d.counted) AS views,
                       row_number() OVER (
                           PARTITION BY d.dimension ORDER BY sum(d.counted) DESC, d.value
                       ) AS rank
                FROM video_analytics_daily d
                WHERE {where} AND d.event_type = 'View'
                  AND d.dimension IN ('platform', 'country', 'device')
                GROUP BY d.dimension, d.value
            ) ranked
            WHERE rank <= :top AND views > 0
            ORDER BY dimension, rank
            """  # noqa: S608 - only constant SQL fragments are interpolated
        ),
        {**params, "top": rng.top},
    ).all()
    top: dict[str, list[schemas.TopItem]] = defaultdict(list)
    for dimension, value, views in tops:
        top[dimension].append(schemas.TopItem(value=value, views=int(views)))

    top_videos: list[schemas.TopVideo] = []
    if scope != "video":
        video_rows = session.execute(
            text(
                f"""
                SELECT t.video_id, v.title, t.views FROM (
                    SELECT d.video_id, sum(d.counted) AS views
                    FROM video_analytics_daily d
                    WHERE {where} AND d.dimension = 'total' AND d.event_type = 'View'
                    GROUP BY d.video_id
                    ORDER BY views DESC, d.video_id
                    LIMIT :top
                ) t JOIN videos v ON v.id = t.video_id
                ORDER BY t.views DESC, t.video_id
                """  # noqa: S608 - only constant SQL fragments are interpolated
            ),
            {**params, "top": rng.top},
        ).all()
        top_videos = [
            schemas.TopVideo(video_id=vid, title=title, views=int(views))
            for vid, title, views in video_rows
        ]

    return schemas.Report(
        scope=scope,
        video_id=subject if scope == "video" else None,
        date_from=rng.start,
        date_to=rng.end,
        interval=rng.interval,
        totals=totals,
        series=series,
        top_platforms=top["platform"],
        top_countries=top["country"],
        top_devices=top["device"],
        top_videos=top_videos,
    )


def to_csv(result: schemas.Report) -> str:
    """The report's time series as CSV (one row per period, plus a totals row)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period_start", "views", "downloads", "shares", "likes"])
    for point in result.series:
        writer.writerow(
            [
                point.period_start.isoformat(),
                point.views,
                point.downloads,
                point.shares,
                point.likes,
            ]
        )
    t = result.totals
    writer.writerow(["total", t.views, t.downloads, t.shares, t.likes])
    return out.getvalue()


def rebuild_rollup(session: Session, *, video_id: uuid.UUID | None = None) -> int:
    """Recompute the rollup from raw events (backfills, bulk loads); returns rows written.

    Raw events store whether they counted and whether they were a bot in ``metadata``, so the
    rollup is reproducible from them (until retention drops the raw partitions: the rollup is
    then the only record of those days, which is why this only touches days with raw rows).
    """
    scope = "WHERE a.video_id = :video_id" if video_id else ""
    params = {"video_id": video_id}
    session.execute(
        text(
            f"""
            DELETE FROM video_analytics_daily d
            WHERE (CAST(:video_id AS uuid) IS NULL OR d.video_id = :video_id)
              AND (d.video_id, d.day) IN (
                  SELECT DISTINCT a.video_id, CAST(a.created_at AS date)
                  FROM video_analytics a {scope})
            """  # noqa: S608 - only constant SQL fragments are interpolated
        ),
        params,
    )
    result = session.execute(
        text(
            f"""
            INSERT INTO video_analytics_daily
                (video_id, day, event_type, dimension, value, owner_id, events, counted, bots,
                 watch_seconds)
            SELECT a.video_id, CAST(a.created_at AS date), a.event_type, x.dimension, x.value,
                   v.user_id, count(*),
                   count(*) FILTER (WHERE coalesce(a.metadata->>'counted', 'true') = 'true'),
                   count(*) FILTER (WHERE a.metadata->>'bot' = 'true'),
                   coalesce(sum(a.duration_seconds)
                            FILTER (WHERE coalesce(a.metadata->>'bot', 'false') = 'false'), 0)
            FROM video_analytics a
            JOIN videos v ON v.id = a.video_id
            CROSS JOIN LATERAL (VALUES
                ('total', ''),
                ('platform', coalesce(a.platform, 'Unknown')),
                ('country', coalesce(a.country_code, 'Unknown')),
                ('device', coalesce(a.device_type, 'Unknown'))
            ) AS x(dimension, value)
            {scope}
            GROUP BY 1, 2, 3, 4, 5, 6
            """  # noqa: S608 - only constant SQL fragments are interpolated
        ),
        params,
    )
    return rowcount(result)
