"""Scraping: the per-domain politeness gate shared by every scraper invocation.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scrape_domain_gates",
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("next_fetch_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_scrape_domain_gates")),
    )
    # Same trigger as every other table with updated_at (function from 0001).
    op.execute(
        "CREATE TRIGGER trg_scrape_domain_gates_updated_at BEFORE UPDATE ON scrape_domain_gates "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_scrape_domain_gates_updated_at ON scrape_domain_gates")
    op.drop_table("scrape_domain_gates")
