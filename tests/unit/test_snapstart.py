"""SnapStart hooks: registered when the runtime offers them; no sockets or secrets survive."""

from __future__ import annotations

import sys
import types

import pytest

from ecomvideo import db, snapstart


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """A stand-in for the Lambda runtime's ``snapshot_restore_py`` recording registrations."""
    hooks: dict[str, list] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = hooks["before"].append
    module.register_after_restore = hooks["after"].append
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    monkeypatch.setattr(snapstart, "_registered", False)
    return hooks


def test_outside_lambda_nothing_is_registered(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    monkeypatch.setattr(snapstart, "_registered", False)
    assert snapstart.register() is False


def test_the_hooks_are_registered_once(runtime):
    assert snapstart.register() is True
    assert snapstart.register() is True
    assert runtime == {"before": [snapstart.before_snapshot], "after": [snapstart.after_restore]}


def test_creating_an_http_app_registers_the_hooks(runtime):
    from ecomvideo.http.app import create_app

    create_app(usage_and_limits=False)
    assert runtime["before"] == [snapstart.before_snapshot]


def test_before_snapshot_drops_the_engine_and_its_connections(db_url: str, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    from ecomvideo.settings import reset_settings

    reset_settings()
    db.reset_engine()
    assert db.ping()  # a pooled connection now exists
    engine = db.get_engine()
    assert engine.pool.checkedin() == 1

    snapstart.before_snapshot()

    assert engine.pool.checkedin() == 0
    assert db.get_engine() is not engine  # a new engine on first use after the restore
    db.reset_engine()
    reset_settings()


def test_after_restore_forgets_cached_secrets():
    from aws_lambda_powertools.utilities.parameters import base

    class Provider(base.BaseProvider):
        def _get(self, name, **kwargs):
            return "fetched-before-the-snapshot"

        def _get_multiple(self, path, **kwargs):
            return {}

    base.DEFAULT_PROVIDERS["secrets"] = provider = Provider()
    provider.get("db-secret", max_age=300)
    assert provider.store

    snapstart.after_restore()

    assert "secrets" not in base.DEFAULT_PROVIDERS


def test_before_snapshot_builds_the_deferred_schemas_of_what_was_imported(monkeypatch):
    from ecomvideo import db
    from ecomvideo.schemas.videos import VideoCreate, VideoDetail

    monkeypatch.setattr(db, "reset_engine", lambda: None)
    VideoCreate.__pydantic_complete__ = False  # as after a fresh import (defer_build)
    VideoDetail.__pydantic_complete__ = False

    snapstart.before_snapshot()

    assert VideoCreate.__pydantic_complete__ and VideoDetail.__pydantic_complete__
