"""Sharing and analytics: share link slugs, daily analytics rollup, counted-session dedup.

See ecomvideo/models/engagement.py and docs/decisions.md (issue 9). The raw
``video_analytics`` table (partitioned by 0006) is unchanged: reports read the rollup.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "video_share_links",
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("share_id", sa.UUID(), nullable=False),
        sa.Column("video_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["video_shares.id"],
            name=op.f("fk_video_share_links_share_id_video_shares"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_share_links_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_video_share_links")),
        sa.UniqueConstraint("share_id", name=op.f("uq_video_share_links_share_id")),
    )
    op.create_index("ix_video_share_links_video_id", "video_share_links", ["video_id"])

    op.create_table(
        "video_analytics_daily",
        sa.Column("video_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("event_type", sa.String(length=20), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("events", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("counted", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("bots", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("watch_seconds", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_analytics_daily_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "video_id",
            "day",
            "event_type",
            "dimension",
            "value",
            name=op.f("pk_video_analytics_daily"),
        ),
    )
    op.create_index(
        "ix_video_analytics_daily_owner_id_day", "video_analytics_daily", ["owner_id", "day"]
    )
    op.create_index("ix_video_analytics_daily_day", "video_analytics_daily", ["day"])

    op.create_table(
        "analytics_counted_sessions",
        sa.Column("video_id", sa.UUID(), nullable=False),
        sa.Column("session_key", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=20), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "video_id", "session_key", "event_type", name=op.f("pk_analytics_counted_sessions")
        ),
    )
    op.create_index(
        "ix_analytics_counted_sessions_counted_at", "analytics_counted_sessions", ["counted_at"]
    )

    # Backfill the rollup from raw events recorded before this migration (bots unknown then:
    # every stored event counts, as the video counters did).
    op.execute(
        """
        INSERT INTO video_analytics_daily
            (video_id, day, event_type, dimension, value, owner_id, events, counted, bots,
             watch_seconds)
        SELECT a.video_id, CAST(a.created_at AS date), a.event_type, d.dimension, d.value,
               v.user_id, count(*), count(*), 0, coalesce(sum(a.duration_seconds), 0)
        FROM video_analytics a
        JOIN videos v ON v.id = a.video_id
        CROSS JOIN LATERAL (VALUES
            ('total', ''),
            ('platform', coalesce(a.platform, 'Unknown')),
            ('country', coalesce(a.country_code, 'Unknown')),
            ('device', coalesce(a.device_type, 'Unknown'))
        ) AS d(dimension, value)
        GROUP BY 1, 2, 3, 4, 5, 6
        """
    )


def downgrade() -> None:
    op.drop_index(
        "ix_analytics_counted_sessions_counted_at", table_name="analytics_counted_sessions"
    )
    op.drop_table("analytics_counted_sessions")
    op.drop_index("ix_video_analytics_daily_day", table_name="video_analytics_daily")
    op.drop_index("ix_video_analytics_daily_owner_id_day", table_name="video_analytics_daily")
    op.drop_table("video_analytics_daily")
    op.drop_index("ix_video_share_links_video_id", table_name="video_share_links")
    op.drop_table("video_share_links")
