"""Alembic environment: DATABASE_URL (or DB_SECRET_ARN) through the layer's settings."""

from __future__ import annotations

import re
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool

from ecomvideo.db import build_engine
from ecomvideo.models import Base, load_all

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

load_all()
target_metadata = Base.metadata

# Objects that exist only when the server has the extension (feature-detected in the
# migrations), so autogenerate must not treat them as drift.
OPTIONAL_OBJECTS = {"ix_videos_title_trgm", "ix_videos_description_trgm"}


# Monthly partitions (migration 0006) are created and dropped at run time by
# ecomvideo.services.partitions; only their partitioned parents are modelled.
PARTITION_NAME = re.compile(r"^(video_analytics|user_activity|api_usage)_(p\d{6}|default)$")


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and reflected and compare_to is None and PARTITION_NAME.match(name):
        return False
    return not (type_ == "index" and name in OPTIONAL_OBJECTS)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        compare_server_default=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = build_engine(config.get_main_option("sqlalchemy.url") or None, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        include_object=include_object,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
