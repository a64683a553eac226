"""``make dev``: the banner names the provider really in use; Ctrl-C stops its PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from devserver import __main__ as dev
from devserver import pg


@pytest.fixture
def settings_env(monkeypatch):
    from ecomvideo.settings import reset_settings

    for key in ("FREEPIK_API_KEY", "FREEPIK_SECRET_ARN", "VIDEO_PROVIDER", "PUBLIC_API_URL"):
        monkeypatch.delenv(key, raising=False)
    yield monkeypatch
    reset_settings()


def test_banner_says_local_without_a_freepik_key(settings_env):
    assert dev.provider_banner().startswith("Local ")


def test_banner_says_freepik_and_where_webhooks_go_when_a_key_is_set(settings_env):
    settings_env.setenv("FREEPIK_API_KEY", "k")

    assert dev.provider_banner({"PUBLIC_API_URL": "https://t.example.test/"}) == (
        "Freepik (webhooks to https://t.example.test/webhooks/freepik, polling as backstop)"
    )
    assert "no PUBLIC_API_URL" in dev.provider_banner({})


def test_the_dev_server_stops_the_postgresql_it_started_despite_exporting_its_url(
    monkeypatch, tmp_path: Path
):
    calls: list[list[str]] = []
    data = tmp_path / "data"
    data.mkdir()
    (data / "postmaster.pid").write_text("1")
    monkeypatch.setattr(pg, "STATE_DIR", tmp_path)
    monkeypatch.setattr(pg, "DATA_DIR", data)
    monkeypatch.setattr(pg, "_bindir", lambda: tmp_path)
    monkeypatch.setattr(pg, "_run_as_owner", lambda args, **kw: calls.append(args))
    monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1:1/ecomvideo")

    pg.stop_server()  # someone else's DATABASE_URL: left alone
    assert calls == []

    dev.stop_database()  # the dev server exported the URL of the server it started

    assert len(calls) == 1 and calls[0][-1] == "stop"
