"""Provider polling schedule and forward-only task tokens on video_pipeline_steps.

``next_poll_at`` / ``polls``: when the worker (or the sweep, if the delayed poll message was
lost) polls the step's provider task next, at a backoff cadence from the task's start.
``token_entered_at``: when the Step Functions state that issued ``task_token`` was entered;
a token only replaces the stored one if its state was entered at or after it
(compare-and-set), so a redelivered older step message cannot regress the token.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 05:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("video_pipeline_steps", sa.Column("next_poll_at", sa.DateTime(), nullable=True))
    op.add_column(
        "video_pipeline_steps",
        sa.Column("polls", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "video_pipeline_steps", sa.Column("token_entered_at", sa.DateTime(), nullable=True)
    )
    # The sweep: waiting provider steps by due time.
    op.create_index(
        "ix_video_pipeline_steps_next_poll_at",
        "video_pipeline_steps",
        ["next_poll_at"],
        unique=False,
        postgresql_where=sa.text("state = 'Started' AND provider_task_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_video_pipeline_steps_next_poll_at", table_name="video_pipeline_steps")
    op.drop_column("video_pipeline_steps", "token_entered_at")
    op.drop_column("video_pipeline_steps", "polls")
    op.drop_column("video_pipeline_steps", "next_poll_at")
