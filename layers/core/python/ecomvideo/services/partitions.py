"""Monthly RANGE partitions of the high-volume tables (video_analytics, user_activity, api_usage).

Migration 0006 made the tables partitioned by ``created_at``; this module keeps them healthy at
run time:

* ``ensure_partitions`` creates the partitions of the current month and ``months_ahead``
  months after it (scheduled daily; idempotent). A ``DEFAULT`` partition catches anything
  outside the created ranges, so an insert never fails; when the default already holds rows of
  a month we are about to create, they are moved into the new partition first (PostgreSQL
  refuses to create a partition whose range overlaps rows in the default).
* ``drop_expired_partitions`` drops whole partitions whose upper bound is at or before a cutoff
  (retention in O(1) instead of a DELETE over millions of rows).

Partition names: ``<table>_pYYYYMM`` and ``<table>_default``. All functions run in the caller's
transaction; DDL takes an advisory lock per table so two runs never race.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ecomvideo import clock

PARTITIONED_TABLES: tuple[str, ...] = ("video_analytics", "user_activity", "api_usage")
PARTITION_NAME = re.compile(r"^(video_analytics|user_activity|api_usage)_(p\d{6}|default)$")
DEFAULT_MONTHS_AHEAD = 3
# DDL on a partitioned table needs a brief exclusive lock; never queue behind long readers.
LOCK_TIMEOUT = "5s"

_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


@dataclass(frozen=True)
class Partition:
    """One partition of a partitioned table; ``start``/``end`` are None for the default."""

    table: str
    name: str
    start: datetime | None
    end: datetime | None

    @property
    def is_default(self) -> bool:
        return self.start is None


def month_start(moment: datetime) -> datetime:
    """First instant of ``moment``'s month."""
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment``'s month start shifted by ``months`` (negative goes back)."""
    index = moment.year * 12 + moment.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month:%Y%m}"


def _check_table(table: str) -> None:
    # Table names end up in DDL: only the known ones are accepted.
    if table not in PARTITIONED_TABLES:
        raise ValueError(f"{table!r} is not a partitioned table")


def _lock(session: Session, table: str) -> None:
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"partitions:{table}"}
    )


def list_partitions(session: Session, table: str) -> list[Partition]:
    """The table's partitions ordered by range (default last)."""
    _check_table(table)
    rows = session.execute(
        text(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = CAST(:t AS regclass)
            """
        ),
        {"t": table},
    ).all()
    parts: list[Partition] = []
    for name, bound in rows:
        found = _BOUND.search(bound or "")
        if found is None:
            parts.append(Partition(table, name, None, None))
        else:
            start, end = (datetime.fromisoformat(v) for v in found.groups())
            parts.append(Partition(table, name, start, end))
    return sorted(parts, key=lambda p: (p.start is None, p.start or datetime.min))


def ensure_partitions(
    session: Session,
    table: str,
    *,
    months_ahead: int = DEFAULT_MONTHS_AHEAD,
    months_back: int = 0,
    now: datetime | None = None,
) -> list[str]:
    """Create the missing monthly partitions from ``months_back`` before this month to
    ``months_ahead`` after it (backfills, tests; the schedule uses the defaults).

    Returns the names created (empty when all existed: the job is idempotent).
    """
    _check_table(table)
    _lock(session, table)
    current = month_start(now or clock.utcnow())
    existing = list_partitions(session, table)
    created: list[str] = []
    if not any(p.is_default for p in existing):
        session.execute(text(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT'))
    for offset in range(-months_back, months_ahead + 1):
        start = add_months(current, offset)
        end = add_months(start, 1)
        if any(
            p.start is not None and p.end is not None and p.start < end and start < p.end
            for p in existing
        ):
            continue  # already covered (possibly by a partition created by hand)
        _create_partition(session, table, start, end)
        created.append(partition_name(table, start))
    return created


def _create_partition(session: Session, table: str, start: datetime, end: datetime) -> None:
    name = partition_name(table, start)
    bounds = {"start": start, "end": end}
    in_default = session.execute(
        text(
            f'SELECT EXISTS (SELECT 1 FROM "{table}_default" '  # noqa: S608 - known table
            "WHERE created_at >= :start AND created_at < :end)"
        ),
        bounds,
    ).scalar()
    literal = f"FROM ('{start.isoformat(sep=' ')}') TO ('{end.isoformat(sep=' ')}')"
    if not in_default:
        session.execute(text(f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES {literal}'))
        return
    # Rows of this month landed in the default partition: create the table detached, move the
    # rows into it, then attach it (attaching checks the default no longer has such rows).
    session.execute(
        text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    )
    session.execute(
        text(
            f'WITH moved AS (DELETE FROM "{table}_default" '  # noqa: S608 - known table
            "WHERE created_at >= :start AND created_at < :end RETURNING *) "
            f'INSERT INTO "{name}" SELECT * FROM moved'
        ),
        bounds,
    )
    session.execute(text(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES {literal}'))


def drop_expired_partitions(session: Session, table: str, cutoff: datetime) -> list[str]:
    """Drop every partition whose whole range is before ``cutoff`` (upper bound <= cutoff)."""
    _check_table(table)
    _lock(session, table)
    dropped: list[str] = []
    for part in list_partitions(session, table):
        if part.end is not None and part.end <= cutoff:
            session.execute(text(f'DROP TABLE "{part.name}"'))
            dropped.append(part.name)
    return dropped
