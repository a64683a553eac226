"""``ecomvideo.models`` is lazy: each model module imports what its foreign keys and
relationships name, so a function that imports one model can configure and flush it without
the other 40-odd mapped classes (cold start)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ecomvideo import models
from tests.support.api import ROOT

_CHECK = """
import json, sys
from sqlalchemy.orm import configure_mappers
import importlib
importlib.import_module("ecomvideo.models." + sys.argv[1])
from ecomvideo.models.base import Base
configure_mappers()
for mapper in Base.registry.mappers:
    mapper._sorted_tables  # the unit of work's table order: resolves every foreign key
for table in Base.metadata.tables.values():
    for fk in table.foreign_keys:
        fk.column
print(json.dumps(sorted(m for m in sys.modules if m.startswith("ecomvideo.models."))))
"""


def _loaded_by(module: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _CHECK, module],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers/core/python"), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", models.MODULES)
def test_each_model_module_configures_and_flushes_on_its_own(module):
    assert f"ecomvideo.models.{module}" in _loaded_by(module)


def test_a_video_does_not_bring_the_whole_registry():
    loaded = {m.rpartition(".")[2] for m in _loaded_by("videos")}

    assert loaded == {"base", "products", "users", "videos"}


def test_every_public_model_name_resolves_lazily():
    for name in models.__all__:
        assert getattr(models, name) is not None


def test_a_users_plan_maps_users_and_subscriptions_only():
    """Every API function asks for the caller's plan (rate limits): payments, invoices, credit
    grants and session tokens stay unmapped there."""
    loaded = {m.rpartition(".")[2] for m in _loaded_by("billing")}

    assert loaded == {"base", "billing", "users"}


def test_model_modules_keep_their_annotations_evaluated():
    """Model modules declare annotations as values (only relationship targets are strings), so
    SQLAlchemy does not ``eval`` each column's annotation (cold start, see models/__init__)."""
    models_dir = ROOT / "layers/core/python/ecomvideo/models"
    stringified = [
        path.name
        for path in sorted(models_dir.glob("*.py"))
        if path.name not in {"__init__.py", "base.py"}
        and "from __future__ import annotations" in path.read_text()
    ]
    assert stringified == []
