"""What a step handler gets and returns, and the failures it may raise.

``StepContext`` in; ``Output`` (synchronous result), ``Started`` (an asynchronous provider
task), ``Recorded`` (already recorded, Finalize) out. ``StepFailed`` carries a message for the
user; ``VideoNotActive`` ends the work of a cancelled/failed/superseded video;
``ProviderGateFull`` re-runs a step queued behind the provider concurrency gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecomvideo.errors import ProviderError
from ecomvideo.models import Video
from ecomvideo.services.pipeline.messages import StepMessage


class ProviderGateFull(ProviderError):
    """The provider account's concurrent tasks are at the limit: run the step again later."""

    retryable = True

    def __init__(self, retry_after: float) -> None:
        super().__init__("Waiting for a free slot at the video provider.")
        self.retry_after = retry_after


class StepFailed(Exception):
    """A failure to report to the user (``message`` goes into error_message)."""

    def __init__(self, message: str, *, error: str = "StepFailed") -> None:
        super().__init__(message)
        self.message = message[:2000]
        self.error = error


class VideoNotActive(StepFailed):
    """The video was cancelled, failed, deleted or superseded by a newer attempt."""

    def __init__(self) -> None:
        super().__init__("The video is no longer active.", error="VideoNotActive")


@dataclass(frozen=True)
class StepContext:
    """What a step handler needs; ``video`` is a detached snapshot (no session held)."""

    message: StepMessage
    video: Video
    step_row_state: str


@dataclass(frozen=True)
class Output:
    """A synchronous result to record and send."""

    data: dict[str, Any]


@dataclass(frozen=True)
class Started:
    """An asynchronous provider task was started; completion comes by webhook or poll.

    ``options`` are what polling the task needs again (e.g. ``{"model": ...}``).
    """

    provider: str
    task_id: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """The handler already recorded the step as Done (Finalize); just send ``data``."""

    data: dict[str, Any]


StepResult = Output | Started | Recorded


def provider_for(video: Video) -> Any:
    # lazy: the provider registry (httpx, renderers) loads only in the step that calls a provider
    from ecomvideo.providers import get_provider

    return get_provider(video.ai_provider or None)


def provider_named(name: str | None) -> Any:
    # lazy: the provider registry (httpx, renderers) loads only in the step that calls a provider
    from ecomvideo.providers import get_provider

    return get_provider(name or None)
