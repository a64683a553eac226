"""The Freepik provider: Mystic text-to-image, Kling image-to-video, both asynchronous.

``start_*`` creates a task with our webhook URL and returns ``pending`` with the task id; the
pipeline stores it with the Step Functions task token. Completion arrives by the signed webhook
(``functions/freepik_webhook``), by the state machine's PollProvider fallback or by the
scheduled sweep; each calls ``poll_*``, which downloads the asset at once (Freepik's URLs are
signed and expire) and returns its bytes for the pipeline to copy to S3.

Every client error (``FreepikError``) is re-raised as the matching ``ProviderFailure`` subclass
keeping its ``user_message`` (safe to store in ``videos.error_message``) and ``retryable``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from ecomvideo.clients import freepik as fp
from ecomvideo.clients.secrets import freepik_secrets
from ecomvideo.observability import logger, metrics
from ecomvideo.providers.base import (
    CLIP_MISSING,
    ContentRejected,
    ImageRequest,
    InvalidProviderInput,
    ProviderFailure,
    ProviderOutOfCredits,
    ProviderRateLimited,
    ProviderResult,
    ProviderTaskFailed,
    ProviderTaskNotFound,
    ProviderUnavailable,
    VideoRequest,
)
from ecomvideo.settings import get_settings

NAME = "Freepik"
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_VIDEO_BYTES = 200 * 1024 * 1024
_PROGRESS = {fp.TaskStatus.CREATED: 5, fp.TaskStatus.IN_PROGRESS: 50}
# Client error -> provider failure (first match wins; subclasses before bases).
_FAILURES: tuple[tuple[type[fp.FreepikError], type[ProviderFailure]], ...] = (
    (fp.FreepikInvalidParams, InvalidProviderInput),
    (fp.FreepikOutOfCredits, ProviderOutOfCredits),
    (fp.FreepikRateLimited, ProviderRateLimited),
    (fp.FreepikUnavailable, ProviderUnavailable),
    (fp.FreepikNotFound, ProviderTaskNotFound),
    (fp.FreepikContentRejected, ContentRejected),
    (fp.FreepikTaskFailed, ProviderTaskFailed),
    (fp.FreepikAssetTooLarge, InvalidProviderInput),
)
T = TypeVar("T")


def webhook_url() -> str | None:
    """Where Freepik should POST status changes (``None``: no public URL, rely on polling)."""
    base = get_settings().public_api_url
    return f"{base.rstrip('/')}/webhooks/freepik" if base else None


def to_provider_failure(exc: fp.FreepikError) -> ProviderFailure:
    """The ``ProviderFailure`` for a client error, same ``user_message`` and ``retryable``."""
    for source, target in _FAILURES:
        if isinstance(exc, source):
            mapped = target(exc.user_message, provider=NAME, provider_message=exc.provider_message)
            mapped.retry_after = exc.retry_after  # a 429's or 503's Retry-After
            return mapped
    failure = ProviderFailure(
        exc.user_message, provider=NAME, provider_message=exc.provider_message
    )
    failure.retryable = bool(exc.retryable)
    return failure


class FreepikProvider:
    """``ImageProvider`` + ``VideoProvider`` over ``FreepikClient`` (asynchronous)."""

    name = NAME
    asynchronous = True
    # Tasks in flight at once per API account ("up to 3 concurrent requests per user",
    # Freepik's Kling docs): the pipeline's concurrency gate uses it unless the
    # ``pipeline.provider_concurrency`` system setting names another limit for "Freepik".
    account_concurrency = 3
    # The pipeline passes ``model=`` (template style_settings / plan features
    # ``freepik_image_model`` / ``freepik_video_model``) and records the model a task was
    # started with, so polling uses that model's status path.
    configurable_models = True
    # The video step returns a generated clip, which the pipeline composes into the storyboard
    # as its hero scene (``services.pipeline.compose``); ``providers.makes_clips`` says so too.
    clips = True

    def __init__(self, client: fp.FreepikClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> fp.FreepikClient:
        """One client per container, built on first use (the API key is a cached secret)."""
        if self._client is None:
            self._client = fp.FreepikClient.from_settings(freepik_secrets()["api_key"])
        return self._client

    # ------------------------------------------------------------------ image (Mystic)

    def model(self, kind: Literal["image", "video"], requested: str | None = None) -> str:
        """``requested`` when it names a known ``kind`` model, else the settings default.

        A misconfigured template or plan must not break generation: it is logged and ignored.
        """
        settings = get_settings()
        default = settings.freepik_image_model if kind == "image" else settings.freepik_video_model
        if requested and requested != default:
            spec = fp.MODELS.get(requested)
            if spec is not None and spec.kind == kind:
                return requested
            logger.warning("unknown Freepik model ignored", extra={"model": requested})
        return default

    def start_image(self, request: ImageRequest, *, model: str | None = None) -> ProviderResult:
        """Start a Mystic task (aspect ratio mapped by ``MysticRequest``); ``pending``.

        ``metadata["model"]`` of the result names the model used (pass it to ``poll_image``).
        """
        try:
            req = fp.MysticRequest(
                prompt=request.prompt[:2500],
                aspect_ratio=request.aspect_ratio,
                webhook_url=webhook_url(),
            )
        except ValueError as exc:
            raise InvalidProviderInput(
                "the image request is not valid for the provider", provider=NAME
            ) from exc
        used = self.model("image", model)
        task = self._call(lambda: self.client.create_image_task(req, used))
        return _with_model(self._result(task, kind="image"), used)

    def poll_image(self, task_id: str, *, model: str | None = None) -> ProviderResult:
        """Current state of an image task; COMPLETED downloads the image at once."""
        used = self.model("image", model)
        task = self._call(lambda: self.client.get_image_task(task_id, used))
        return self._result(task, kind="image")

    # ------------------------------------------------------------------ video (Kling)

    def start_video(self, request: VideoRequest, *, model: str | None = None) -> ProviderResult:
        """Start an image-to-video task; duration mapped to 5/10 s by ``KlingRequest``.

        The image is our S3 copy's presigned URL when the pipeline gives one, else the bytes
        inline as base64 (<= 10 MB).
        """
        fields: dict[str, Any] = {
            "prompt": request.prompt[:2500],
            "duration": request.duration_seconds,
            "webhook_url": webhook_url(),
        }
        try:
            if request.image_url:
                req = fp.KlingRequest(image=request.image_url, **fields)
            elif request.image_bytes:
                req = fp.KlingRequest.from_image_bytes(request.image_bytes, **fields)
            else:
                raise InvalidProviderInput("the video step needs an image", provider=NAME)
        except ValueError as exc:
            raise InvalidProviderInput(
                "the image cannot be used by the video provider (too large or invalid)",
                provider=NAME,
            ) from exc
        used = self.model("video", model)
        task = self._call(lambda: self.client.create_video_task(req, used))
        return _with_model(self._result(task, kind="video"), used)

    def poll_video(self, task_id: str, *, model: str | None = None) -> ProviderResult:
        """Current state of a video task; COMPLETED downloads the MP4 at once."""
        used = self.model("video", model)
        task = self._call(lambda: self.client.get_video_task(task_id, used))
        return self._result(task, kind="video")

    # ------------------------------------------------------------------ helpers

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except fp.FreepikError as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: fp.FreepikError) -> ProviderFailure:
        if isinstance(exc, fp.FreepikOutOfCredits):
            # Our own Freepik balance is empty: every user is affected, so alarm on it.
            metrics.add_metric(name="FreepikOutOfCredits", unit="Count", value=1)
            logger.error("Freepik account is out of credits")
        return to_provider_failure(exc)

    def _result(self, task: fp.TaskResponse, *, kind: str) -> ProviderResult:
        failure = fp.failure_for_task(task)
        if failure is not None:
            raise self._failure(failure)
        if task.status is not fp.TaskStatus.COMPLETED:
            return ProviderResult.pending(task.task_id, progress=_PROGRESS.get(task.status))
        url = task.first_url()
        if url is None:
            raise ProviderTaskFailed("the provider returned no file", provider=NAME)
        limit = MAX_IMAGE_BYTES if kind == "image" else MAX_VIDEO_BYTES
        try:
            asset = self._call(lambda: self.client.download(url, limit))
        except ProviderFailure as exc:
            if kind != "video":
                raise
            # The clip is one scene of the storyboard: its hero scene shows the product photo
            # instead (services.pipeline.compose), the video still completes. The client has
            # already retried transient errors.
            logger.warning(
                "generated clip not downloaded: the storyboard shows the photo instead",
                extra={"task_id": task.task_id, "code": exc.code},
            )
            metrics.add_metric(name="FreepikClipMissing", unit="Count", value=1)
            return ProviderResult(
                status="completed",
                task_id=task.task_id,
                progress=100,
                metadata={CLIP_MISSING: exc.code},
            )
        return ProviderResult(
            status="completed",
            task_id=task.task_id,
            asset=asset,
            content_type=_content_type(asset, kind),
            progress=100,
        )


def _with_model(result: ProviderResult, model: str) -> ProviderResult:
    return dataclasses.replace(result, metadata={**result.metadata, "model": model})


def _content_type(data: bytes, kind: str) -> str:
    if kind == "video":
        return "video/mp4"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def create_provider() -> FreepikProvider:
    """Factory used by ``ecomvideo.providers.get_provider("Freepik")``."""
    return FreepikProvider()
