"""Initial schema: every table, index and constraint of the spec.

Beyond the spec's DDL (see docs/decisions.md): CHECK constraints for enum columns and credit
ranges, one active subscription per user, GIN indexes on queried JSONB, an updated_at trigger,
and trigram indexes for title search when pg_trgm is available.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 06:25:25.238325+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


EXTENSIONS = ("uuid-ossp", "pg_trgm", "btree_gin")


def _available_extensions() -> set[str]:
    rows = op.get_bind().execute(sa.text("SELECT name FROM pg_available_extensions"))
    return {row[0] for row in rows}


def upgrade() -> None:
    # Extensions are created when the server ships them (contrib); servers without contrib
    # (e.g. embedded builds) still get the full schema, minus trigram search indexes.
    available = _available_extensions()
    for name in EXTENSIONS:
        if name in available:
            op.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')

    op.create_table(
        "background_jobs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_type", sa.String(length=100), nullable=False),
        sa.Column("job_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "Pending",
                "Running",
                "Completed",
                "Failed",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            server_default=sa.text("'Pending'"),
            nullable=True,
        ),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("max_attempts", sa.Integer(), server_default=sa.text("3"), nullable=True),
        sa.Column(
            "scheduled_at",
            sa.DateTime(),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("error_message", sa.String(length=2000), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_jobs")),
    )
    op.create_index("ix_background_jobs_job_type", "background_jobs", ["job_type"], unique=False)
    op.create_index("ix_background_jobs_priority", "background_jobs", ["priority"], unique=False)
    op.create_index(
        "ix_background_jobs_scheduled_at", "background_jobs", ["scheduled_at"], unique=False
    )
    op.create_index("ix_background_jobs_status", "background_jobs", ["status"], unique=False)
    op.create_table(
        "product_categories",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("level", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["product_categories.id"],
            name=op.f("fk_product_categories_parent_id_product_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_product_categories_name")),
    )
    op.create_index(
        "ix_product_categories_is_active", "product_categories", ["is_active"], unique=False
    )
    op.create_index("ix_product_categories_name", "product_categories", ["name"], unique=False)
    op.create_index(
        "ix_product_categories_parent_id", "product_categories", ["parent_id"], unique=False
    )
    op.create_table(
        "scraping_rules",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("domain", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column("selectors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("delay_ms", sa.Integer(), server_default=sa.text("1000"), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scraping_rules")),
        sa.UniqueConstraint("domain", name=op.f("uq_scraping_rules_domain")),
    )
    op.create_index("ix_scraping_rules_domain", "scraping_rules", ["domain"], unique=False)
    op.create_index("ix_scraping_rules_is_active", "scraping_rules", ["is_active"], unique=False)
    op.create_index("ix_scraping_rules_platform", "scraping_rules", ["platform"], unique=False)
    op.create_table(
        "subscription_plans",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price_monthly", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("price_yearly", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'USD'"), nullable=True),
        sa.Column(
            "video_credits_monthly", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("max_video_duration", sa.Integer(), server_default=sa.text("15"), nullable=True),
        sa.Column(
            "max_resolution", sa.String(length=20), server_default=sa.text("'1080p'"), nullable=True
        ),
        sa.Column("ai_providers", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("features", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("is_popular", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("trial_days", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "price_monthly >= 0", name=op.f("ck_subscription_plans_price_monthly_non_negative")
        ),
        sa.CheckConstraint(
            "video_credits_monthly >= 0", name=op.f("ck_subscription_plans_credits_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_subscription_plans_name")),
    )
    op.create_index(
        "ix_subscription_plans_features_gin",
        "subscription_plans",
        ["features"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_subscription_plans_is_active", "subscription_plans", ["is_active"], unique=False
    )
    op.create_index(
        "ix_subscription_plans_is_popular", "subscription_plans", ["is_popular"], unique=False
    )
    op.create_index("ix_subscription_plans_name", "subscription_plans", ["name"], unique=False)
    op.create_table(
        "system_settings",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "data_type",
            sa.Enum(
                "string",
                "number",
                "boolean",
                "json",
                name="data_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default=sa.text("'string'"),
            nullable=True,
        ),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_public", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_system_settings_key")),
    )
    op.create_index("ix_system_settings_category", "system_settings", ["category"], unique=False)
    op.create_index("ix_system_settings_is_public", "system_settings", ["is_public"], unique=False)
    op.create_index("ix_system_settings_key", "system_settings", ["key"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("email_verified", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("avatar_url", sa.String(length=500), nullable=True),
        sa.Column("phone_number", sa.String(length=20), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("timezone", sa.String(length=50), server_default=sa.text("'UTC'"), nullable=True),
        sa.Column("locale", sa.String(length=10), server_default=sa.text("'en-US'"), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column(
            "failed_login_attempts", sa.Integer(), server_default=sa.text("0"), nullable=True
        ),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index("ix_users_created_at", "users", ["created_at"], unique=False)
    op.create_index("ix_users_email", "users", ["email"], unique=False)
    op.create_index("ix_users_is_active", "users", ["is_active"], unique=False)
    op.create_table(
        "video_categories",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("color_hex", sa.String(length=7), nullable=True),
        sa.Column("icon_name", sa.String(length=50), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_video_categories_name")),
    )
    op.create_index(
        "ix_video_categories_is_active", "video_categories", ["is_active"], unique=False
    )
    op.create_index("ix_video_categories_name", "video_categories", ["name"], unique=False)
    op.create_table(
        "video_tags",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("color_hex", sa.String(length=7), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_video_tags_name")),
    )
    op.create_index("ix_video_tags_name", "video_tags", ["name"], unique=False)
    op.create_table(
        "api_usage",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_time_ms", sa.Integer(), nullable=True),
        sa.Column("request_size_bytes", sa.Integer(), nullable=True),
        sa.Column("response_size_bytes", sa.Integer(), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=1000), nullable=True),
        sa.Column("api_key_id", sa.UUID(), nullable=True),
        sa.Column("rate_limit_hit", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_usage_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_usage")),
    )
    op.create_index("ix_api_usage_created_at", "api_usage", ["created_at"], unique=False)
    op.create_index("ix_api_usage_endpoint", "api_usage", ["endpoint"], unique=False)
    op.create_index("ix_api_usage_rate_limit_hit", "api_usage", ["rate_limit_hit"], unique=False)
    op.create_index("ix_api_usage_status_code", "api_usage", ["status_code"], unique=False)
    op.create_index("ix_api_usage_user_id", "api_usage", ["user_id"], unique=False)
    op.create_table(
        "email_verification_tokens",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("token", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_verification_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_verification_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_email_verification_tokens_token")),
    )
    op.create_index(
        "ix_email_verification_tokens_token", "email_verification_tokens", ["token"], unique=False
    )
    op.create_index(
        "ix_email_verification_tokens_user_id",
        "email_verification_tokens",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "notification_settings",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("video_completed", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("video_failed", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column(
            "subscription_renewal", sa.Boolean(), server_default=sa.text("true"), nullable=True
        ),
        sa.Column(
            "subscription_expired", sa.Boolean(), server_default=sa.text("true"), nullable=True
        ),
        sa.Column("payment_failed", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("new_features", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column(
            "marketing_updates", sa.Boolean(), server_default=sa.text("false"), nullable=True
        ),
        sa.Column("weekly_digest", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("email_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("push_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("sms_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_settings")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_settings_user_id")),
    )
    op.create_index(
        "ix_notification_settings_user_id", "notification_settings", ["user_id"], unique=False
    )
    op.create_table(
        "password_reset_tokens",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("token", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_reset_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_password_reset_tokens_token")),
    )
    op.create_index(
        "ix_password_reset_tokens_token", "password_reset_tokens", ["token"], unique=False
    )
    op.create_index(
        "ix_password_reset_tokens_user_id", "password_reset_tokens", ["user_id"], unique=False
    )
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "CreditCard",
                "PayPal",
                "BankAccount",
                name="type",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column(
            "provider",
            sa.Enum(
                "Stripe",
                "PayPal",
                name="provider",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("last_four_digits", sa.String(length=4), nullable=True),
        sa.Column("brand", sa.String(length=50), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_payment_methods_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
    )
    op.create_index(
        "ix_payment_methods_external_id", "payment_methods", ["external_id"], unique=False
    )
    op.create_index("ix_payment_methods_is_active", "payment_methods", ["is_active"], unique=False)
    op.create_index(
        "ix_payment_methods_is_default", "payment_methods", ["is_default"], unique=False
    )
    op.create_index("ix_payment_methods_user_id", "payment_methods", ["user_id"], unique=False)
    op.create_table(
        "product_data",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=True),
        sa.Column("original_url", sa.String(length=1000), nullable=False),
        sa.Column("domain", sa.String(length=100), nullable=True),
        sa.Column("platform", sa.String(length=50), nullable=True),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'USD'"), nullable=True),
        sa.Column("original_price", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("discount_percent", sa.Integer(), nullable=True),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("availability", sa.String(length=50), nullable=True),
        sa.Column("rating", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("review_count", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("main_image_url", sa.String(length=500), nullable=True),
        sa.Column(
            "scraping_status",
            sa.Enum(
                "Pending",
                "Success",
                "Failed",
                name="scraping_status",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            server_default=sa.text("'Pending'"),
            nullable=True,
        ),
        sa.Column("scraped_at", sa.DateTime(), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["product_categories.id"],
            name=op.f("fk_product_data_category_id_product_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_product_data_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_data")),
    )
    op.create_index("ix_product_data_category_id", "product_data", ["category_id"], unique=False)
    op.create_index("ix_product_data_created_at", "product_data", ["created_at"], unique=False)
    op.create_index("ix_product_data_domain", "product_data", ["domain"], unique=False)
    op.create_index(
        "ix_product_data_metadata_gin",
        "product_data",
        ["metadata"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_product_data_original_url", "product_data", ["original_url"], unique=False)
    op.create_index("ix_product_data_platform", "product_data", ["platform"], unique=False)
    op.create_index(
        "ix_product_data_scraping_status", "product_data", ["scraping_status"], unique=False
    )
    op.create_index("ix_product_data_user_id", "product_data", ["user_id"], unique=False)
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("token", sa.String(length=500), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("is_revoked", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_refresh_tokens_token")),
    )
    op.create_index("ix_refresh_tokens_expires_at", "refresh_tokens", ["expires_at"], unique=False)
    op.create_index("ix_refresh_tokens_token", "refresh_tokens", ["token"], unique=False)
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "user_activity",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=True),
        sa.Column("resource_id", sa.UUID(), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=1000), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_activity_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_activity")),
    )
    op.create_index("ix_user_activity_action", "user_activity", ["action"], unique=False)
    op.create_index("ix_user_activity_created_at", "user_activity", ["created_at"], unique=False)
    op.create_index(
        "ix_user_activity_resource_type", "user_activity", ["resource_type"], unique=False
    )
    op.create_index("ix_user_activity_user_id", "user_activity", ["user_id"], unique=False)
    op.create_table(
        "user_interests",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), server_default=sa.text("1"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_user_interests_level_range")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_interests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_interests")),
    )
    op.create_index("ix_user_interests_category", "user_interests", ["category"], unique=False)
    op.create_index(
        "ix_user_interests_user_category", "user_interests", ["user_id", "category"], unique=True
    )
    op.create_index("ix_user_interests_user_id", "user_interests", ["user_id"], unique=False)
    op.create_table(
        "user_preferences",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "default_video_resolution",
            sa.String(length=20),
            server_default=sa.text("'1080x1920'"),
            nullable=True,
        ),
        sa.Column(
            "default_aspect_ratio",
            sa.String(length=10),
            server_default=sa.text("'9:16'"),
            nullable=True,
        ),
        sa.Column(
            "default_video_duration", sa.Integer(), server_default=sa.text("5"), nullable=True
        ),
        sa.Column(
            "preferred_ai_provider",
            sa.String(length=50),
            server_default=sa.text("'Freepik'"),
            nullable=True,
        ),
        sa.Column(
            "auto_save_to_library", sa.Boolean(), server_default=sa.text("true"), nullable=True
        ),
        sa.Column(
            "auto_generate_thumbnails", sa.Boolean(), server_default=sa.text("true"), nullable=True
        ),
        sa.Column(
            "watermark_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=True
        ),
        sa.Column(
            "default_video_quality",
            sa.String(length=20),
            server_default=sa.text("'High'"),
            nullable=True,
        ),
        sa.Column(
            "preferred_language",
            sa.String(length=10),
            server_default=sa.text("'en-US'"),
            nullable=True,
        ),
        sa.Column("timezone", sa.String(length=50), server_default=sa.text("'UTC'"), nullable=True),
        sa.Column(
            "date_format",
            sa.String(length=20),
            server_default=sa.text("'MM/DD/YYYY'"),
            nullable=True,
        ),
        sa.Column(
            "time_format", sa.String(length=10), server_default=sa.text("'12h'"), nullable=True
        ),
        sa.Column("theme", sa.String(length=20), server_default=sa.text("'Dark'"), nullable=True),
        sa.Column(
            "email_notifications_enabled",
            sa.Boolean(),
            server_default=sa.text("true"),
            nullable=True,
        ),
        sa.Column(
            "push_notifications_enabled",
            sa.Boolean(),
            server_default=sa.text("true"),
            nullable=True,
        ),
        sa.Column(
            "marketing_emails_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=True
        ),
        sa.Column(
            "two_factor_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=True
        ),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_preferences")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_preferences_user_id")),
    )
    op.create_index("ix_user_preferences_user_id", "user_preferences", ["user_id"], unique=False)
    op.create_table(
        "user_roles",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "role_name",
            sa.Enum(
                "User",
                "Admin",
                "Moderator",
                "Support",
                name="role_name",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_roles")),
        sa.UniqueConstraint("user_id", "role_name", name="uq_user_roles_user_id_role_name"),
    )
    op.create_index("ix_user_roles_role_name", "user_roles", ["role_name"], unique=False)
    op.create_index("ix_user_roles_user_id", "user_roles", ["user_id"], unique=False)
    op.create_table(
        "video_templates",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("thumbnail_url", sa.String(length=500), nullable=True),
        sa.Column("preview_url", sa.String(length=500), nullable=True),
        sa.Column("prompt_template", sa.Text(), nullable=False),
        sa.Column("style_settings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("default_duration", sa.Integer(), server_default=sa.text("5"), nullable=True),
        sa.Column(
            "aspect_ratio", sa.String(length=10), server_default=sa.text("'9:16'"), nullable=True
        ),
        sa.Column(
            "resolution", sa.String(length=20), server_default=sa.text("'1080x1920'"), nullable=True
        ),
        sa.Column("is_premium", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["video_categories.id"],
            name=op.f("fk_video_templates_category_id_video_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_templates")),
    )
    op.create_index(
        "ix_video_templates_category_id", "video_templates", ["category_id"], unique=False
    )
    op.create_index("ix_video_templates_is_active", "video_templates", ["is_active"], unique=False)
    op.create_index(
        "ix_video_templates_is_premium", "video_templates", ["is_premium"], unique=False
    )
    op.create_table(
        "product_images",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("product_data_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("alt_text", sa.String(length=500), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("file_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["product_data_id"],
            ["product_data.id"],
            name=op.f("fk_product_images_product_data_id_product_data"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_images")),
    )
    op.create_index("ix_product_images_is_primary", "product_images", ["is_primary"], unique=False)
    op.create_index(
        "ix_product_images_product_data_id", "product_images", ["product_data_id"], unique=False
    )
    op.create_table(
        "user_subscriptions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("subscription_plan_id", sa.UUID(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "Active",
                "Cancelled",
                "Expired",
                "Trial",
                "PastDue",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
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
            nullable=False,
        ),
        sa.Column("price_paid", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'USD'"), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("trial_ends_at", sa.DateTime(), nullable=True),
        sa.Column("auto_renew", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("payment_method_id", sa.UUID(), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_user_subscriptions_payment_method_id_payment_methods"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_plan_id"],
            ["subscription_plans.id"],
            name=op.f("fk_user_subscriptions_subscription_plan_id_subscription_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_subscriptions")),
    )
    op.create_index(
        "ix_user_subscriptions_ends_at", "user_subscriptions", ["ends_at"], unique=False
    )
    op.create_index("ix_user_subscriptions_status", "user_subscriptions", ["status"], unique=False)
    op.create_index(
        "ix_user_subscriptions_stripe_subscription_id",
        "user_subscriptions",
        ["stripe_subscription_id"],
        unique=False,
    )
    op.create_index(
        "ix_user_subscriptions_subscription_plan_id",
        "user_subscriptions",
        ["subscription_plan_id"],
        unique=False,
    )
    op.create_index(
        "ix_user_subscriptions_user_id", "user_subscriptions", ["user_id"], unique=False
    )
    op.create_index(
        "ux_user_subscriptions_one_active",
        "user_subscriptions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('Active', 'Trial', 'PastDue')"),
    )
    op.create_table(
        "videos",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=True),
        sa.Column("template_id", sa.UUID(), nullable=True),
        sa.Column("product_data_id", sa.UUID(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("text_prompt", sa.String(length=2000), nullable=False),
        sa.Column(
            "input_type",
            sa.Enum(
                "Text",
                "Image",
                "Url",
                name="input_type",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "Pending",
                "Processing",
                "GeneratingImage",
                "GeneratingVideo",
                "Completed",
                "Failed",
                "Cancelled",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("resolution", sa.String(length=50), nullable=False),
        sa.Column("aspect_ratio", sa.String(length=10), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("style", sa.String(length=100), nullable=True),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("video_url", sa.String(length=500), nullable=True),
        sa.Column("thumbnail_url", sa.String(length=500), nullable=True),
        sa.Column("freepik_task_id", sa.String(length=100), nullable=True),
        sa.Column("freepik_image_task_id", sa.String(length=100), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("error_message", sa.String(length=2000), nullable=True),
        sa.Column("file_size_bytes", sa.BigInteger(), server_default=sa.text("0"), nullable=True),
        sa.Column("view_count", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("download_count", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("share_count", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column("is_public", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("ai_provider", sa.String(length=50), nullable=True),
        sa.Column(
            "generation_cost_credits", sa.Integer(), server_default=sa.text("0"), nullable=True
        ),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["video_categories.id"],
            name=op.f("fk_videos_category_id_video_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["product_data_id"],
            ["product_data.id"],
            name=op.f("fk_videos_product_data_id_product_data"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["video_templates.id"],
            name=op.f("fk_videos_template_id_video_templates"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_videos_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videos")),
    )
    op.create_index("ix_videos_category_id", "videos", ["category_id"], unique=False)
    op.create_index("ix_videos_created_at", "videos", ["created_at"], unique=False)
    op.create_index(
        "ix_videos_freepik_image_task_id",
        "videos",
        ["freepik_image_task_id"],
        unique=True,
        postgresql_where=sa.text("freepik_image_task_id IS NOT NULL"),
    )
    op.create_index(
        "ix_videos_freepik_task_id",
        "videos",
        ["freepik_task_id"],
        unique=True,
        postgresql_where=sa.text("freepik_task_id IS NOT NULL"),
    )
    op.create_index("ix_videos_is_featured", "videos", ["is_featured"], unique=False)
    op.create_index("ix_videos_is_public", "videos", ["is_public"], unique=False)
    op.create_index(
        "ix_videos_metadata_gin", "videos", ["metadata"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_videos_product_data_id", "videos", ["product_data_id"], unique=False)
    op.create_index("ix_videos_status", "videos", ["status"], unique=False)
    op.create_index("ix_videos_template_id", "videos", ["template_id"], unique=False)
    op.create_index("ix_videos_user_id", "videos", ["user_id"], unique=False)
    op.create_index(
        "ix_videos_user_id_created_at", "videos", ["user_id", "created_at"], unique=False
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("user_subscription_id", sa.UUID(), nullable=True),
        sa.Column("payment_method_id", sa.UUID(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'USD'"), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "Pending",
                "Succeeded",
                "Failed",
                "Refunded",
                "Cancelled",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=False),
        sa.Column(
            "provider",
            sa.Enum(
                "Stripe",
                "PayPal",
                name="provider",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("provider_fee", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "refunded_amount",
            sa.Numeric(precision=8, scale=2),
            server_default=sa.text("0"),
            nullable=True,
        ),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payments_amount_non_negative")),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount",
            name=op.f("ck_payments_refund_range"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_payments_payment_method_id_payment_methods"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_subscription_id"],
            ["user_subscriptions.id"],
            name=op.f("fk_payments_user_subscription_id_user_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("payment_intent_id", name=op.f("uq_payments_payment_intent_id")),
    )
    op.create_index("ix_payments_created_at", "payments", ["created_at"], unique=False)
    op.create_index(
        "ix_payments_payment_intent_id", "payments", ["payment_intent_id"], unique=False
    )
    op.create_index(
        "ix_payments_payment_method_id", "payments", ["payment_method_id"], unique=False
    )
    op.create_index("ix_payments_status", "payments", ["status"], unique=False)
    op.create_index("ix_payments_user_id", "payments", ["user_id"], unique=False)
    op.create_index(
        "ix_payments_user_subscription_id", "payments", ["user_subscription_id"], unique=False
    )
    op.create_table(
        "usage_credits",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("user_subscription_id", sa.UUID(), nullable=True),
        sa.Column(
            "credit_type",
            sa.Enum(
                "VideoGeneration",
                "PremiumFeature",
                name="credit_type",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("used_amount", sa.Integer(), server_default=sa.text("0"), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "Subscription",
                "Purchase",
                "Bonus",
                "Refund",
                name="source",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_usage_credits_amount_non_negative")),
        sa.CheckConstraint(
            "used_amount >= 0 AND used_amount <= amount",
            name=op.f("ck_usage_credits_used_amount_range"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_usage_credits_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_subscription_id"],
            ["user_subscriptions.id"],
            name=op.f("fk_usage_credits_user_subscription_id_user_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_credits")),
    )
    op.create_index("ix_usage_credits_credit_type", "usage_credits", ["credit_type"], unique=False)
    op.create_index("ix_usage_credits_expires_at", "usage_credits", ["expires_at"], unique=False)
    op.create_index("ix_usage_credits_is_active", "usage_credits", ["is_active"], unique=False)
    op.create_index("ix_usage_credits_user_id", "usage_credits", ["user_id"], unique=False)
    op.create_index(
        "ix_usage_credits_user_subscription_id",
        "usage_credits",
        ["user_subscription_id"],
        unique=False,
    )
    op.create_table(
        "video_analytics",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("video_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column(
            "event_type",
            sa.Enum(
                "View",
                "Download",
                "Share",
                "Like",
                name="event_type",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=50), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=1000), nullable=True),
        sa.Column("referrer", sa.String(length=500), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column(
            "device_type",
            sa.Enum(
                "Mobile",
                "Desktop",
                "Tablet",
                name="device_type",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=True,
        ),
        sa.Column("browser", sa.String(length=100), nullable=True),
        sa.Column("os", sa.String(length=100), nullable=True),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_video_analytics_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_analytics_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_analytics")),
    )
    op.create_index(
        "ix_video_analytics_country_code", "video_analytics", ["country_code"], unique=False
    )
    op.create_index(
        "ix_video_analytics_created_at", "video_analytics", ["created_at"], unique=False
    )
    op.create_index(
        "ix_video_analytics_event_type", "video_analytics", ["event_type"], unique=False
    )
    op.create_index("ix_video_analytics_platform", "video_analytics", ["platform"], unique=False)
    op.create_index("ix_video_analytics_user_id", "video_analytics", ["user_id"], unique=False)
    op.create_index("ix_video_analytics_video_id", "video_analytics", ["video_id"], unique=False)
    op.create_table(
        "video_shares",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("video_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column(
            "shared_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_video_shares_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_shares_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_shares")),
    )
    op.create_index("ix_video_shares_platform", "video_shares", ["platform"], unique=False)
    op.create_index("ix_video_shares_shared_at", "video_shares", ["shared_at"], unique=False)
    op.create_index("ix_video_shares_user_id", "video_shares", ["user_id"], unique=False)
    op.create_index("ix_video_shares_video_id", "video_shares", ["video_id"], unique=False)
    op.create_table(
        "video_tag_mappings",
        sa.Column("video_id", sa.UUID(), nullable=False),
        sa.Column("tag_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["video_tags.id"],
            name=op.f("fk_video_tag_mappings_tag_id_video_tags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_tag_mappings_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("video_id", "tag_id", name=op.f("pk_video_tag_mappings")),
    )
    op.create_index("ix_video_tag_mappings_tag_id", "video_tag_mappings", ["tag_id"], unique=False)
    op.create_index(
        "ix_video_tag_mappings_video_id", "video_tag_mappings", ["video_id"], unique=False
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("invoice_number", sa.String(length=50), nullable=False),
        sa.Column("amount", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column(
            "tax_amount",
            sa.Numeric(precision=8, scale=2),
            server_default=sa.text("0"),
            nullable=True,
        ),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'USD'"), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "Draft",
                "Sent",
                "Paid",
                "Cancelled",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("pdf_url", sa.String(length=500), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_invoices_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("invoice_number", name=op.f("uq_invoices_invoice_number")),
    )
    op.create_index("ix_invoices_invoice_number", "invoices", ["invoice_number"], unique=False)
    op.create_index("ix_invoices_issued_at", "invoices", ["issued_at"], unique=False)
    op.create_index("ix_invoices_payment_id", "invoices", ["payment_id"], unique=False)
    op.create_index("ix_invoices_status", "invoices", ["status"], unique=False)
    # ### end Alembic commands ###
    _create_updated_at_triggers()
    if "pg_trgm" in available:
        op.execute("CREATE INDEX ix_videos_title_trgm ON videos USING gin (title gin_trgm_ops)")
        op.execute(
            "CREATE INDEX ix_videos_description_trgm ON videos USING gin (description gin_trgm_ops)"
        )


def _create_updated_at_triggers() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $$
        BEGIN
            NEW.updated_at := (now() AT TIME ZONE 'UTC');
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    tables = op.get_bind().execute(
        sa.text(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'updated_at' "
            "ORDER BY table_name"
        )
    )
    for (table,) in tables:
        op.execute(
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index("ix_invoices_status", table_name="invoices")
    op.drop_index("ix_invoices_payment_id", table_name="invoices")
    op.drop_index("ix_invoices_issued_at", table_name="invoices")
    op.drop_index("ix_invoices_invoice_number", table_name="invoices")
    op.drop_table("invoices")
    op.drop_index("ix_video_tag_mappings_video_id", table_name="video_tag_mappings")
    op.drop_index("ix_video_tag_mappings_tag_id", table_name="video_tag_mappings")
    op.drop_table("video_tag_mappings")
    op.drop_index("ix_video_shares_video_id", table_name="video_shares")
    op.drop_index("ix_video_shares_user_id", table_name="video_shares")
    op.drop_index("ix_video_shares_shared_at", table_name="video_shares")
    op.drop_index("ix_video_shares_platform", table_name="video_shares")
    op.drop_table("video_shares")
    op.drop_index("ix_video_analytics_video_id", table_name="video_analytics")
    op.drop_index("ix_video_analytics_user_id", table_name="video_analytics")
    op.drop_index("ix_video_analytics_platform", table_name="video_analytics")
    op.drop_index("ix_video_analytics_event_type", table_name="video_analytics")
    op.drop_index("ix_video_analytics_created_at", table_name="video_analytics")
    op.drop_index("ix_video_analytics_country_code", table_name="video_analytics")
    op.drop_table("video_analytics")
    op.drop_index("ix_usage_credits_user_subscription_id", table_name="usage_credits")
    op.drop_index("ix_usage_credits_user_id", table_name="usage_credits")
    op.drop_index("ix_usage_credits_is_active", table_name="usage_credits")
    op.drop_index("ix_usage_credits_expires_at", table_name="usage_credits")
    op.drop_index("ix_usage_credits_credit_type", table_name="usage_credits")
    op.drop_table("usage_credits")
    op.drop_index("ix_payments_user_subscription_id", table_name="payments")
    op.drop_index("ix_payments_user_id", table_name="payments")
    op.drop_index("ix_payments_status", table_name="payments")
    op.drop_index("ix_payments_payment_method_id", table_name="payments")
    op.drop_index("ix_payments_payment_intent_id", table_name="payments")
    op.drop_index("ix_payments_created_at", table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_videos_user_id_created_at", table_name="videos")
    op.drop_index("ix_videos_user_id", table_name="videos")
    op.drop_index("ix_videos_template_id", table_name="videos")
    op.drop_index("ix_videos_status", table_name="videos")
    op.drop_index("ix_videos_product_data_id", table_name="videos")
    op.drop_index("ix_videos_metadata_gin", table_name="videos", postgresql_using="gin")
    op.drop_index("ix_videos_is_public", table_name="videos")
    op.drop_index("ix_videos_is_featured", table_name="videos")
    op.drop_index(
        "ix_videos_freepik_task_id",
        table_name="videos",
        postgresql_where=sa.text("freepik_task_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_videos_freepik_image_task_id",
        table_name="videos",
        postgresql_where=sa.text("freepik_image_task_id IS NOT NULL"),
    )
    op.drop_index("ix_videos_created_at", table_name="videos")
    op.drop_index("ix_videos_category_id", table_name="videos")
    op.drop_table("videos")
    op.drop_index(
        "ux_user_subscriptions_one_active",
        table_name="user_subscriptions",
        postgresql_where=sa.text("status IN ('Active', 'Trial', 'PastDue')"),
    )
    op.drop_index("ix_user_subscriptions_user_id", table_name="user_subscriptions")
    op.drop_index("ix_user_subscriptions_subscription_plan_id", table_name="user_subscriptions")
    op.drop_index("ix_user_subscriptions_stripe_subscription_id", table_name="user_subscriptions")
    op.drop_index("ix_user_subscriptions_status", table_name="user_subscriptions")
    op.drop_index("ix_user_subscriptions_ends_at", table_name="user_subscriptions")
    op.drop_table("user_subscriptions")
    op.drop_index("ix_product_images_product_data_id", table_name="product_images")
    op.drop_index("ix_product_images_is_primary", table_name="product_images")
    op.drop_table("product_images")
    op.drop_index("ix_video_templates_is_premium", table_name="video_templates")
    op.drop_index("ix_video_templates_is_active", table_name="video_templates")
    op.drop_index("ix_video_templates_category_id", table_name="video_templates")
    op.drop_table("video_templates")
    op.drop_index("ix_user_roles_user_id", table_name="user_roles")
    op.drop_index("ix_user_roles_role_name", table_name="user_roles")
    op.drop_table("user_roles")
    op.drop_index("ix_user_preferences_user_id", table_name="user_preferences")
    op.drop_table("user_preferences")
    op.drop_index("ix_user_interests_user_id", table_name="user_interests")
    op.drop_index("ix_user_interests_user_category", table_name="user_interests")
    op.drop_index("ix_user_interests_category", table_name="user_interests")
    op.drop_table("user_interests")
    op.drop_index("ix_user_activity_user_id", table_name="user_activity")
    op.drop_index("ix_user_activity_resource_type", table_name="user_activity")
    op.drop_index("ix_user_activity_created_at", table_name="user_activity")
    op.drop_index("ix_user_activity_action", table_name="user_activity")
    op.drop_table("user_activity")
    op.drop_index("ix_refresh_tokens_user_id", table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_token", table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_expires_at", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_product_data_user_id", table_name="product_data")
    op.drop_index("ix_product_data_scraping_status", table_name="product_data")
    op.drop_index("ix_product_data_platform", table_name="product_data")
    op.drop_index("ix_product_data_original_url", table_name="product_data")
    op.drop_index("ix_product_data_metadata_gin", table_name="product_data", postgresql_using="gin")
    op.drop_index("ix_product_data_domain", table_name="product_data")
    op.drop_index("ix_product_data_created_at", table_name="product_data")
    op.drop_index("ix_product_data_category_id", table_name="product_data")
    op.drop_table("product_data")
    op.drop_index("ix_payment_methods_user_id", table_name="payment_methods")
    op.drop_index("ix_payment_methods_is_default", table_name="payment_methods")
    op.drop_index("ix_payment_methods_is_active", table_name="payment_methods")
    op.drop_index("ix_payment_methods_external_id", table_name="payment_methods")
    op.drop_table("payment_methods")
    op.drop_index("ix_password_reset_tokens_user_id", table_name="password_reset_tokens")
    op.drop_index("ix_password_reset_tokens_token", table_name="password_reset_tokens")
    op.drop_table("password_reset_tokens")
    op.drop_index("ix_notification_settings_user_id", table_name="notification_settings")
    op.drop_table("notification_settings")
    op.drop_index("ix_email_verification_tokens_user_id", table_name="email_verification_tokens")
    op.drop_index("ix_email_verification_tokens_token", table_name="email_verification_tokens")
    op.drop_table("email_verification_tokens")
    op.drop_index("ix_api_usage_user_id", table_name="api_usage")
    op.drop_index("ix_api_usage_status_code", table_name="api_usage")
    op.drop_index("ix_api_usage_rate_limit_hit", table_name="api_usage")
    op.drop_index("ix_api_usage_endpoint", table_name="api_usage")
    op.drop_index("ix_api_usage_created_at", table_name="api_usage")
    op.drop_table("api_usage")
    op.drop_index("ix_video_tags_name", table_name="video_tags")
    op.drop_table("video_tags")
    op.drop_index("ix_video_categories_name", table_name="video_categories")
    op.drop_index("ix_video_categories_is_active", table_name="video_categories")
    op.drop_table("video_categories")
    op.drop_index("ix_users_is_active", table_name="users")
    op.drop_index("ix_users_email", table_name="users")
    op.drop_index("ix_users_created_at", table_name="users")
    op.drop_table("users")
    op.drop_index("ix_system_settings_key", table_name="system_settings")
    op.drop_index("ix_system_settings_is_public", table_name="system_settings")
    op.drop_index("ix_system_settings_category", table_name="system_settings")
    op.drop_table("system_settings")
    op.drop_index("ix_subscription_plans_name", table_name="subscription_plans")
    op.drop_index("ix_subscription_plans_is_popular", table_name="subscription_plans")
    op.drop_index("ix_subscription_plans_is_active", table_name="subscription_plans")
    op.drop_index(
        "ix_subscription_plans_features_gin",
        table_name="subscription_plans",
        postgresql_using="gin",
    )
    op.drop_table("subscription_plans")
    op.drop_index("ix_scraping_rules_platform", table_name="scraping_rules")
    op.drop_index("ix_scraping_rules_is_active", table_name="scraping_rules")
    op.drop_index("ix_scraping_rules_domain", table_name="scraping_rules")
    op.drop_table("scraping_rules")
    op.drop_index("ix_product_categories_parent_id", table_name="product_categories")
    op.drop_index("ix_product_categories_name", table_name="product_categories")
    op.drop_index("ix_product_categories_is_active", table_name="product_categories")
    op.drop_table("product_categories")
    op.drop_index("ix_background_jobs_status", table_name="background_jobs")
    op.drop_index("ix_background_jobs_scheduled_at", table_name="background_jobs")
    op.drop_index("ix_background_jobs_priority", table_name="background_jobs")
    op.drop_index("ix_background_jobs_job_type", table_name="background_jobs")
    op.drop_table("background_jobs")
    # ### end Alembic commands ###
    op.execute("DROP FUNCTION IF EXISTS set_updated_at()")
