"""Video/image providers behind one small interface (see ``base``), chosen by name.

Provider modules are imported only when first asked for: the Local provider pulls in PyAV and
Pillow (tens of MB, present only in the worker), so a handler that merely names a provider stays
cheap to cold-start. Each provider module exposes ``create_provider()`` returning a ready
instance; ``get_provider`` keeps one instance per name per container.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecomvideo.providers.base import (
        ContentRejected,
        ImageProvider,
        ImageRequest,
        InvalidProviderInput,
        ProductCard,
        ProviderFailure,
        ProviderOutOfCredits,
        ProviderRateLimited,
        ProviderResult,
        ProviderTaskFailed,
        ProviderTaskNotFound,
        ProviderUnavailable,
        VideoProvider,
        VideoRequest,
        failure_details,
    )

__all__ = [
    "ContentRejected",
    "ImageProvider",
    "ImageRequest",
    "InvalidProviderInput",
    "ProductCard",
    "ProviderFailure",
    "ProviderOutOfCredits",
    "ProviderRateLimited",
    "ProviderResult",
    "ProviderTaskFailed",
    "ProviderTaskNotFound",
    "ProviderUnavailable",
    "VideoProvider",
    "VideoRequest",
    "available_providers",
    "default_provider_name",
    "failure_details",
    "get_provider",
    "makes_clips",
    "register_provider",
    "registered_providers",
    "reset_providers",
]

# Canonical name (as stored in videos.ai_provider) -> "module:factory".
_FACTORIES: dict[str, str | Callable[[], Any]] = {
    "Local": "ecomvideo.providers.local:create_provider",
    "Freepik": "ecomvideo.providers.freepik:create_provider",
}
# Providers whose video step returns a generated clip (their class says ``clips = True``): the
# storyboard shows it in its hero scene. Known by name here so the API can plan a storyboard
# without importing the provider (httpx, PyAV).
_CLIP_PROVIDERS = frozenset({"Freepik"})
_INSTANCES: dict[str, Any] = {}
_LOCK = threading.Lock()


def __getattr__(name: str) -> Any:
    """PEP 562: the names of ``__all__`` not defined here are ``base``'s, imported on first use.

    ``base`` holds the shared exceptions and request types (dataclasses: ~5 ms to declare); a
    function that only names a provider (``makes_clips``, ``canonical_name``) does not import it.
    """
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("ecomvideo.providers.base"), name)
    globals()[name] = value
    return value


def registered_providers() -> list[str]:
    """Canonical names of every registered provider, configured or not."""
    return sorted(_FACTORIES)


def available_providers() -> list[str]:
    """Providers this deployment can run now: Local always, Freepik only when its API key (or
    the secret holding it) is configured; providers registered at runtime (fakes) count too."""
    from ecomvideo.settings import get_settings

    settings = get_settings()
    freepik_ready = bool(settings.freepik_api_key or settings.freepik_secret_arn)
    return sorted(name for name in _FACTORIES if name != "Freepik" or freepik_ready)


def canonical_name(name: str) -> str:
    """``"local"`` -> ``"Local"``; raises ``InvalidProviderInput`` for an unknown name."""
    for known in _FACTORIES:
        if known.lower() == name.strip().lower():
            return known
    from ecomvideo.providers.base import InvalidProviderInput  # lazy: see __getattr__

    raise InvalidProviderInput(f"unknown video provider {name!r}")


def makes_clips(name: str | None) -> bool:
    """Whether the provider ``name`` returns a generated clip (shown by a storyboard scene)."""
    return (name or "").strip().lower() in {p.lower() for p in _CLIP_PROVIDERS}


def default_provider_name() -> str:
    """The provider used when a request does not name one.

    ``VIDEO_PROVIDER`` wins unless it is ``auto``; ``auto`` means Freepik when a key (or the
    secret holding it) is configured, else Local, so the local stack works offline.
    """
    from ecomvideo.settings import get_settings

    settings = get_settings()
    configured = (settings.video_provider or "auto").strip()
    if configured.lower() != "auto":
        return canonical_name(configured)
    if settings.freepik_api_key or settings.freepik_secret_arn:
        return "Freepik"
    return "Local"


def get_provider(name: str | None = None) -> Any:
    """The provider instance for ``name`` (case-insensitive; ``None``/``"auto"`` = default).

    The returned object implements ``ImageProvider`` and ``VideoProvider``. Raises
    ``InvalidProviderInput`` for an unknown name and ``ProviderUnavailable`` when the provider's
    module cannot be loaded in this function (e.g. PyAV missing outside the worker).
    """
    key = default_provider_name() if not name or name.lower() == "auto" else canonical_name(name)
    instance = _INSTANCES.get(key)
    if instance is not None:
        return instance
    with _LOCK:
        instance = _INSTANCES.get(key)
        if instance is None:
            instance = _INSTANCES[key] = _load(key)()
    return instance


def _load(key: str) -> Callable[[], Any]:
    factory = _FACTORIES[key]
    if callable(factory):
        return factory
    module_name, _, attr = factory.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        from ecomvideo.providers.base import ProviderUnavailable  # lazy: see __getattr__

        raise ProviderUnavailable(
            f"{key} provider is not available", provider=key, provider_message=repr(exc)
        ) from exc
    return getattr(module, attr)


def register_provider(name: str, factory: str | Callable[[], Any]) -> None:
    """Add or replace a provider (``"module:factory"`` or a zero-argument callable).

    Tests use it to plug in fakes; the instance cache for that name is dropped.
    """
    with _LOCK:
        for known in list(_FACTORIES):
            if known.lower() == name.lower():
                del _FACTORIES[known]
        _FACTORIES[name] = factory
        _INSTANCES.pop(name, None)


def reset_providers() -> None:
    """Forget the cached instances (tests, or after settings change)."""
    with _LOCK:
        _INSTANCES.clear()
