"""Stripe webhook events parked until the object they depend on is known.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 04:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stripe_parked_events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("event_created", sa.DateTime(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("waiting_for", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="parked", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "state IN ('parked', 'applied')", name=op.f("ck_stripe_parked_events_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_parked_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_stripe_parked_events_event_id")),
    )
    op.create_index(
        "ix_stripe_parked_events_state_created_at",
        "stripe_parked_events",
        ["state", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_stripe_parked_events_customer",
        "stripe_parked_events",
        ["stripe_customer_id"],
        unique=False,
        postgresql_where=sa.text("state = 'parked'"),
    )


def downgrade() -> None:
    op.drop_index("ix_stripe_parked_events_customer", table_name="stripe_parked_events")
    op.drop_index("ix_stripe_parked_events_state_created_at", table_name="stripe_parked_events")
    op.drop_table("stripe_parked_events")
