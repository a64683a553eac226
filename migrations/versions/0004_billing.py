"""Billing with Stripe: processed events, customers, credit packs, price mapping.

* ``stripe_events``: processed webhook event ids (primary key) -> redelivery is a no-op.
* ``billing_customers``: user <-> Stripe customer, one per user.
* ``credit_packs``: one-off packs sold through Checkout (three default packs are inserted).
* ``stripe_prices``: Stripe Price id -> plan + billing cycle, or -> credit pack.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 06:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UPDATED_AT_TABLES = ("credit_packs", "stripe_prices")


def upgrade() -> None:
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )
    op.create_index("ix_stripe_events_processed_at", "stripe_events", ["processed_at"])

    op.create_table(
        "billing_customers",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_billing_customers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_billing_customers")),
        sa.UniqueConstraint(
            "stripe_customer_id", name=op.f("uq_billing_customers_stripe_customer_id")
        ),
    )

    op.create_table(
        "credit_packs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'USD'"), nullable=True),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("credits > 0", name=op.f("ck_credit_packs_credits_positive")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_credit_packs_price_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_packs")),
        sa.UniqueConstraint("code", name=op.f("uq_credit_packs_code")),
    )

    op.create_table(
        "stripe_prices",
        sa.Column("stripe_price_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_product_id", sa.String(length=255), nullable=False),
        sa.Column("subscription_plan_id", sa.UUID(), nullable=True),
        sa.Column(
            "billing_cycle",
            sa.Enum(
                "Monthly",
                "Yearly",
                name="billing_cycle",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("credit_pack_id", sa.UUID(), nullable=True),
        sa.Column("unit_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'USD'"), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "(subscription_plan_id IS NOT NULL AND billing_cycle IS NOT NULL"
            " AND credit_pack_id IS NULL)"
            " OR (credit_pack_id IS NOT NULL AND subscription_plan_id IS NULL)",
            name=op.f("ck_stripe_prices_plan_or_pack"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_pack_id"],
            ["credit_packs.id"],
            name=op.f("fk_stripe_prices_credit_pack_id_credit_packs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_plan_id"],
            ["subscription_plans.id"],
            name=op.f("fk_stripe_prices_subscription_plan_id_subscription_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stripe_price_id", name=op.f("pk_stripe_prices")),
    )
    op.create_index("ix_stripe_prices_credit_pack_id", "stripe_prices", ["credit_pack_id"])
    op.create_index(
        "ix_stripe_prices_subscription_plan_id", "stripe_prices", ["subscription_plan_id"]
    )

    for table in _UPDATED_AT_TABLES:
        # set_updated_at() comes from the initial migration.
        op.execute(
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )

    # Default packs: reference data the product sells from day one (admins can edit them).
    op.execute(
        """
        INSERT INTO credit_packs (code, name, credits, price, currency, validity_days, sort_order)
        VALUES ('pack_25', '25 credits', 25, 9.00, 'USD', 365, 0),
               ('pack_100', '100 credits', 100, 29.00, 'USD', 365, 1),
               ('pack_500', '500 credits', 500, 119.00, 'USD', 365, 2)
        """
    )


def downgrade() -> None:
    for table in _UPDATED_AT_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_updated_at ON {table}")
    op.drop_index("ix_stripe_prices_subscription_plan_id", table_name="stripe_prices")
    op.drop_index("ix_stripe_prices_credit_pack_id", table_name="stripe_prices")
    op.drop_table("stripe_prices")
    op.drop_table("credit_packs")
    op.drop_table("billing_customers")
    op.drop_index("ix_stripe_events_processed_at", table_name="stripe_events")
    op.drop_table("stripe_events")
