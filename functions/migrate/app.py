"""Post-deploy database migration: ``alembic upgrade head``, then the idempotent seed.

Invoked once after every deploy (docs/deploy.md): ``aws lambda invoke --function-name <Migrate
output> out.json``. The build (Makefile here) copies ``migrations/`` and ``alembic.ini`` next
to this module; from a checkout they are found at the repository root instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import get_engine
from ecomvideo.observability import logger
from ecomvideo.seed import run_seed

HERE = Path(__file__).resolve().parent


def _config() -> Config:
    """Alembic config of the packaged copy, else of the repository checkout."""
    base = HERE if (HERE / "alembic.ini").is_file() else HERE.parents[1]
    config = Config(str(base / "alembic.ini"))
    config.set_main_option("script_location", str(base / "migrations"))
    # Powertools owns logging in Lambda: keep alembic.ini's fileConfig out of it.
    config.attributes["configure_logger"] = False
    return config


def current_revision() -> str | None:
    """The revision the database is at (None before the first migration)."""
    with get_engine().connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    """Upgrade to ``event["revision"]`` (default head) and seed the reference data."""
    target = (event or {}).get("revision", "head")
    before = current_revision()
    command.upgrade(_config(), target)
    after = current_revision()
    run_seed()
    logger.info("migrated", extra={"before": before, "after": after})
    return {"before": before, "after": after, "seeded": True}
