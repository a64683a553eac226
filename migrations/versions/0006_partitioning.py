"""Monthly RANGE partitioning of video_analytics, user_activity and api_usage on created_at.

For each table: rename the old one aside, create the partitioned parent with the same columns,
defaults and CHECK constraints (``LIKE ... INCLUDING ...``), primary key ``(id, created_at)``
(PostgreSQL requires the partition key in every unique constraint, see docs/decisions.md), the
same foreign keys and every index the old table had (spec names; copied generically from the
catalog so indexes added by earlier migrations survive too), monthly partitions from the oldest
row's month (at most 25 months back) to 3 months ahead, a DEFAULT partition (no insert can ever
fail for lack of a partition), then move the rows and drop the old table.

Partitions are named ``<table>_pYYYYMM`` and ``<table>_default``; the scheduled job
``partitions.ensure_partitions`` keeps creating them ahead, retention drops expired ones.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 07:30:00+00:00
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("video_analytics", "user_activity", "api_usage")
MONTHS_AHEAD = 3
MAX_MONTHS_BACK = 25


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _scalar(sql: str, **params: object) -> object:
    return op.get_bind().execute(sa.text(sql), params).scalar()


def _rows(sql: str, **params: object) -> list:
    return list(op.get_bind().execute(sa.text(sql), params).all())


def _swap(table: str, *, partitioned: bool) -> None:
    """Rebuild ``table`` as partitioned (or back as a plain table) keeping data and objects."""
    old = f"{table}__old"
    pk = f"pk_{table}"
    referencing = _scalar(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = CAST(:t AS regclass)",
        t=table,
    )
    if referencing:
        raise RuntimeError(f"{table} is referenced by a foreign key; cannot rebuild it")
    op.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    op.execute(f'ALTER TABLE "{old}" RENAME CONSTRAINT "{pk}" TO "{pk}__old"')
    # Indexes on the parent only (partition indexes go with their partitions).
    indexes = _rows(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisprimary
        ORDER BY i.relname
        """,
        t=old,
    )
    fks = _rows(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname
        """,
        t=old,
    )
    for name, _definition in indexes:
        op.execute(f'DROP INDEX "{name}"')
    suffix = " PARTITION BY RANGE (created_at)" if partitioned else ""
    op.execute(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
        f"INCLUDING STORAGE INCLUDING COMMENTS){suffix}"
    )
    key = "id, created_at" if partitioned else "id"
    op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{pk}" PRIMARY KEY ({key})')
    for name, definition in fks:
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        # "CREATE INDEX ix ON [ONLY] public.<old> USING ..." -> on the new table.
        rewritten = definition.replace(f" ON ONLY {old} ", f" ON {table} ")
        rewritten = rewritten.replace(f" ON ONLY public.{old} ", f" ON public.{table} ")
        rewritten = rewritten.replace(f" ON {old} ", f" ON {table} ")
        rewritten = rewritten.replace(f" ON public.{old} ", f" ON public.{table} ")
        op.execute(rewritten)
    if partitioned:
        today = _scalar("SELECT CAST(date_trunc('month', CURRENT_TIMESTAMP) AS date)")
        oldest = _scalar(f'SELECT min(created_at) FROM "{old}"')  # noqa: S608
        start = today if oldest is None else min(today, oldest.date().replace(day=1))
        start = max(start, _add_months(today, -MAX_MONTHS_BACK))
        month = start
        while month <= _add_months(today, MONTHS_AHEAD):
            nxt = _add_months(month, 1)
            op.execute(
                f'CREATE TABLE "{table}_p{month:%Y%m}" PARTITION OF "{table}" '
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{nxt.isoformat()}')"
            )
            month = nxt
        op.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
    op.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')  # noqa: S608
    # Partitions of the old parent (downgrade) go with it.
    op.execute(f'DROP TABLE "{old}" CASCADE')


def upgrade() -> None:
    for table in TABLES:
        _swap(table, partitioned=True)


def downgrade() -> None:
    for table in TABLES:
        _swap(table, partitioned=False)
