"""Choosing a provider by name, lazily, with Local as the offline default."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ecomvideo import providers
from ecomvideo.providers import (
    InvalidProviderInput,
    ProviderResult,
    ProviderUnavailable,
    failure_details,
    get_provider,
)
from ecomvideo.providers.base import ContentRejected, ProviderRateLimited
from ecomvideo.settings import reset_settings


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv("FREEPIK_API_KEY", raising=False)
    monkeypatch.delenv("FREEPIK_SECRET_ARN", raising=False)
    monkeypatch.delenv("VIDEO_PROVIDER", raising=False)
    reset_settings()
    providers.reset_providers()
    saved = dict(providers._FACTORIES)
    yield
    providers._FACTORIES.clear()
    providers._FACTORIES.update(saved)
    providers.reset_providers()
    reset_settings()


def test_local_is_the_default_without_a_freepik_key():
    assert providers.default_provider_name() == "Local"
    assert providers.available_providers() == ["Local"]
    assert providers.registered_providers() == ["Freepik", "Local"]
    assert get_provider().name == "Local"
    assert get_provider("local") is get_provider("LOCAL")  # one instance per container


def test_freepik_is_the_default_with_a_key_unless_overridden(monkeypatch):
    monkeypatch.setenv("FREEPIK_API_KEY", "k")
    reset_settings()
    assert providers.default_provider_name() == "Freepik"
    assert providers.available_providers() == ["Freepik", "Local"]
    monkeypatch.setenv("VIDEO_PROVIDER", "Local")
    reset_settings()
    assert providers.default_provider_name() == "Local"


def test_unknown_provider_is_refused():
    with pytest.raises(InvalidProviderInput, match="unknown video provider"):
        get_provider("Sora")


def test_missing_provider_module_is_unavailable_not_a_crash():
    providers.register_provider("Ghost", "ecomvideo.providers.does_not_exist:create_provider")
    with pytest.raises(ProviderUnavailable):
        get_provider("ghost")


def test_registered_fake_is_returned():
    class Fake:
        name = "Fake"
        asynchronous = True

        def start_video(self, request):
            return ProviderResult.pending("t-1")

    providers.register_provider("Fake", Fake)
    result = get_provider("fake").start_video(None)
    assert result.status == "pending" and result.task_id == "t-1" and not result.is_completed


def test_failures_carry_user_messages_and_retry_flags():
    assert failure_details(ContentRejected()) == ("content rejected by provider", False)
    limited = ProviderRateLimited(retry_after=12)
    assert failure_details(limited) == ("provider is busy, please try again later", True)
    assert limited.retry_after == 12
    assert failure_details(RuntimeError("db password in here")) == (
        "video generation failed",
        False,
    )


def test_importing_the_registry_does_not_load_pyav_or_pillow():
    code = (
        "import sys, ecomvideo.providers, ecomvideo.media.formats; "
        "print(sorted(m for m in ('av', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "layers/core/python"},
    )
    assert out.stdout.strip() == "[]"


def test_the_registry_knows_which_providers_return_clips_as_their_classes_declare(monkeypatch):
    monkeypatch.setenv("FREEPIK_API_KEY", "k")
    reset_settings()
    for name in providers.registered_providers():
        declared = bool(getattr(get_provider(name), "clips", False))
        assert providers.makes_clips(name) is declared, name
        assert providers.makes_clips(name.lower()) is declared, name
    assert providers.makes_clips("Freepik") and not providers.makes_clips("Local")
    assert not providers.makes_clips(None)
