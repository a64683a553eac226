"""The post-deploy migration Lambda: upgrade to head (no-op when current) and re-seed."""

from __future__ import annotations

import subprocess

import sqlalchemy as sa

from tests.support.lambda_handlers import ROOT, context, load_handler_module


def _head() -> str:
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "alembic"), "heads"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[0]


def test_migrate_upgrades_to_head_and_restores_reference_data(fresh_db):
    engine = sa.create_engine(fresh_db.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM system_settings"))
    module = load_handler_module("migrate")

    result = module.lambda_handler({}, context("migrate"))

    assert result["after"] == result["before"] == _head()
    assert result["seeded"] is True
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM system_settings")).scalar() > 0
    engine.dispose()
