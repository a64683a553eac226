"""The provider interface: an image step and a video step, synchronous or asynchronous.

A provider call either finishes at once (``Local``: ``ProviderResult.status == "completed"``
with the asset bytes) or starts a job (``Freepik``: ``status == "pending"`` with ``task_id``;
the result arrives later by webhook or by ``poll_*``). The pipeline worker handles both the
same way: completed -> ``SendTaskSuccess`` now; pending -> store the task id and the Step
Functions task token, and wait.

Failures are exceptions, never a ``"failed"`` result: every provider raises a
``ProviderFailure`` subclass whose ``user_message`` is safe to store in
``videos.error_message`` and whose ``retryable`` says whether trying again later may work.

This module imports nothing heavy (no PyAV, no Pillow, no httpx): handlers that only need the
types stay cheap to cold-start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from ecomvideo.errors import PROVIDER_ACCOUNT_PROBLEM, ProviderError

__all__ = [
    "CLIP_MISSING",
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
    "failure_details",
]

ResultStatus = Literal["completed", "pending"]
# ``ProviderResult.metadata`` key of a completed video task whose generated clip could not be
# downloaded (the value says why): the storyboard's clip scene then shows its photo.
CLIP_MISSING = "clipMissing"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ProviderFailure(ProviderError):
    """A provider could not do the job. ``user_message`` is safe to show and store.

    ``provider_message`` is the provider's own text, for logs only (it may be long or leak
    internals). ``code`` is a stable slug for metrics and tests.
    """

    code: ClassVar[str] = "provider_error"
    default_user_message: ClassVar[str] = "video provider error"
    # Per class, and per instance where a client's error says otherwise (to_provider_failure).
    retryable: bool = False
    # Seconds the provider asked us to wait before trying again, when it said.
    retry_after: float | None = None

    def __init__(
        self,
        user_message: str | None = None,
        *,
        provider: str | None = None,
        provider_message: str | None = None,
    ) -> None:
        self.user_message = (user_message or self.default_user_message)[:500]
        self.provider = provider
        self.provider_message = provider_message
        super().__init__(self.user_message, extra={"code": self.code})


class InvalidProviderInput(ProviderFailure):
    """Our request was unusable (bad image, unsupported size, parameters refused)."""

    code = "invalid_input"
    default_user_message = "the provider rejected the request parameters"


class ContentRejected(ProviderFailure):
    code = "content_rejected"
    default_user_message = "content rejected by provider"


class ProviderOutOfCredits(ProviderFailure):
    code = "out_of_credits"
    default_user_message = PROVIDER_ACCOUNT_PROBLEM


class ProviderRateLimited(ProviderFailure):
    code = "rate_limited"
    default_user_message = "provider is busy, please try again later"
    retryable = True

    def __init__(
        self, user_message: str | None = None, *, retry_after: float | None = None, **kw: Any
    ) -> None:
        self.retry_after = retry_after
        super().__init__(user_message, **kw)


class ProviderUnavailable(ProviderFailure):
    code = "unavailable"
    default_user_message = "provider unavailable"
    retryable = True


class ProviderTaskFailed(ProviderFailure):
    code = "task_failed"
    default_user_message = "generation failed at provider"


class ProviderTaskNotFound(ProviderFailure):
    code = "task_not_found"
    default_user_message = "provider task not found"


def failure_details(exc: BaseException) -> tuple[str, bool]:
    """``(user_message, retryable)`` for any exception a provider call raised.

    Works for ``ProviderFailure`` and for any error carrying the same two attributes (the
    Freepik client's ``FreepikError`` does); anything else is an unexpected bug and gets a
    generic message, so ``str(exc)`` never reaches the user.
    """
    message = getattr(exc, "user_message", None)
    if isinstance(message, str) and message:
        return message, bool(getattr(exc, "retryable", False))
    return "video generation failed", False


# --------------------------------------------------------------------------------------------
# Requests and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductCard:
    """What we know about the product, for prompts and on-screen text.

    Prices are display strings already formatted for the user (``"$49.99"``), so providers never
    format money.
    """

    name: str
    price: str | None = None
    original_price: str | None = None
    brand: str | None = None
    tagline: str | None = None
    call_to_action: str | None = None


def _check_size(width: int, height: int) -> None:
    if not (64 <= width <= 3840 and 64 <= height <= 3840):
        raise InvalidProviderInput(f"unsupported frame size {width}x{height}")
    if width % 2 or height % 2:
        raise InvalidProviderInput(f"frame size {width}x{height} must be even")


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """Make a still image (the video's first frame) from a prompt.

    ``width``/``height`` come from ``ecomvideo.media.formats.frame_size``. ``callback_url`` is
    where an asynchronous provider should POST completion (ignored by synchronous ones);
    ``reference`` is our id for the job (the video id), for logs and provider metadata.
    """

    prompt: str
    aspect_ratio: str
    width: int
    height: int
    style: str | None = None
    product: ProductCard | None = None
    negative_prompt: str | None = None
    callback_url: str | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        _check_size(self.width, self.height)


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """Make a video from an image (bytes, or a URL the provider can fetch) and text.

    With neither ``image_bytes`` nor ``image_url`` a provider may make the picture itself
    (``Local`` renders a title card from the prompt). ``title``/``price_text``/``call_to_action``
    are on-screen text for providers that draw overlays; when ``None`` they fall back to
    ``product``.
    """

    prompt: str
    duration_seconds: float
    aspect_ratio: str
    width: int
    height: int
    image_bytes: bytes | None = field(default=None, repr=False)
    image_url: str | None = None
    title: str | None = None
    price_text: str | None = None
    call_to_action: str | None = None
    product: ProductCard | None = None
    style: str | None = None
    callback_url: str | None = None
    reference: str | None = None
    # Providers with ``storyboards = True`` compose these scenes (media.storyboard) from
    # ``images`` (bytes per storyboard image; ``b""`` for one that could not be fetched).
    storyboard: dict[str, Any] | None = field(default=None, repr=False)
    images: tuple[bytes, ...] = field(default=(), repr=False)
    # Where a storyboard renderer keeps each encoded scene between tries
    # (``media.segments.SegmentStore``); ``None`` renders in one pass.
    segments: Any = field(default=None, repr=False)
    # The clip another provider generated (MP4 bytes), shown by the storyboard's
    # ``generated_clip`` scene; ``None``: that scene shows its photo.
    clip: bytes | None = field(default=None, repr=False)
    # The still that clip was made from: the clip scene's stand-in when the clip is unusable
    # and the scene has no photo of its own.
    clip_still: bytes | None = field(default=None, repr=False)
    # The storyboard's music bed (``media.audio.MusicSource``: the file and its label);
    # ``None``: a silent AAC track.
    music: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _check_size(self.width, self.height)
        if not 0 < self.duration_seconds <= 60:
            raise InvalidProviderInput(
                f"unsupported video duration {self.duration_seconds} s (1-60 s)"
            )


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """Outcome of ``start_*``/``poll_*``.

    ``completed``: ``asset`` (bytes) and/or ``asset_url`` (provider URLs expire: copy to S3 at
    once) with ``content_type``; ``thumbnail`` (JPEG bytes) when the provider made one.
    ``pending``: ``task_id`` to store; ``progress`` 0-100 when the provider reports it.
    """

    status: ResultStatus
    task_id: str | None = None
    asset: bytes | None = field(default=None, repr=False)
    asset_url: str | None = None
    content_type: str | None = None
    thumbnail: bytes | None = field(default=None, repr=False)
    progress: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"

    @classmethod
    def pending(cls, task_id: str, *, progress: int | None = None) -> ProviderResult:
        """A started (or still running) asynchronous task."""
        return cls(status="pending", task_id=task_id, progress=progress)


# --------------------------------------------------------------------------------------------
# Interfaces
# --------------------------------------------------------------------------------------------


@runtime_checkable
class ImageProvider(Protocol):
    """Text (+ product) -> still image."""

    name: str
    asynchronous: bool

    def start_image(self, request: ImageRequest) -> ProviderResult:
        """Make the image, or start a task that will. Raises ``ProviderFailure``."""
        ...

    def poll_image(self, task_id: str) -> ProviderResult:
        """Current state of an image task. Raises ``ProviderFailure`` if it failed."""
        ...


@runtime_checkable
class VideoProvider(Protocol):
    """Image + text -> MP4."""

    name: str
    asynchronous: bool

    def start_video(self, request: VideoRequest) -> ProviderResult:
        """Make the video, or start a task that will. Raises ``ProviderFailure``."""
        ...

    def poll_video(self, task_id: str) -> ProviderResult:
        """Current state of a video task. Raises ``ProviderFailure`` if it failed."""
        ...
