"""First come, first served at the provider concurrency gate: ``queued_at`` on
video_pipeline_steps.

``queued_at``: when the step first waited for a slot of its provider account. A freed slot goes
to the live queued step with the smallest ``queued_at`` (and ``queue_position`` counts by it).
Set by the worker's clock: ``created_at`` is the inserting transaction's start, which cannot
order rows written by one long transaction.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 07:55:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("video_pipeline_steps", sa.Column("queued_at", sa.DateTime(), nullable=True))
    # The gate counts the queued steps ahead of one: only Queued rows, by provider and order.
    op.create_index(
        "ix_video_pipeline_steps_queued",
        "video_pipeline_steps",
        ["provider", "queued_at"],
        unique=False,
        postgresql_where=sa.text("state = 'Queued'"),
    )


def downgrade() -> None:
    op.drop_index("ix_video_pipeline_steps_queued", table_name="video_pipeline_steps")
    op.drop_column("video_pipeline_steps", "queued_at")
