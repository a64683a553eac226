"""The Freepik provider: Mystic text-to-image, Kling image-to-video, both asynchronous.

``start_*`` creates a task with our webhook URL and returns ``pending`` with the task id; the
pipeline stores it with the Step Functions task token. Completion arrives by the signed webhook
(``functions/freepik_webhook``) or by the polling sweep; either calls ``poll_*``, which downloads
the asset at once (Freepik's URLs are signed and expire) and returns its bytes.

Failures are the client's ``FreepikError`` subclasses: they are ``ProviderError``s whose
``detail`` is safe to show and whose ``retryable`` flag tells the pipeline to let SQS redeliver.
"""

from __future__ import annotations

from typing import Any

from ecomvideo.clients.freepik import (
    FreepikClient,
    FreepikError,
    FreepikOutOfCredits,
    KlingRequest,
    MysticRequest,
    TaskResponse,
    TaskStatus,
    failure_for_task,
)
from ecomvideo.clients.secrets import freepik_secrets
from ecomvideo.observability import logger, metrics
from ecomvideo.providers.base import ImageRequest, ProviderResult, VideoRequest
from ecomvideo.settings import get_settings

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_VIDEO_BYTES = 200 * 1024 * 1024
_PROGRESS = {TaskStatus.CREATED: 5, TaskStatus.IN_PROGRESS: 50}


def webhook_url() -> str | None:
    base = get_settings().public_api_url
    return f"{base.rstrip('/')}/webhooks/freepik" if base else None


class FreepikProvider:
    name = "Freepik"
    asynchronous = True

    def __init__(self, client: FreepikClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> FreepikClient:
        if self._client is None:
            self._client = FreepikClient.from_settings(freepik_secrets()["api_key"])
        return self._client

    # ------------------------------------------------------------------ image (Mystic)

    def start_image(self, request: ImageRequest) -> ProviderResult:
        req = MysticRequest(
            prompt=request.prompt[:2500],
            aspect_ratio=request.aspect_ratio,
            webhook_url=webhook_url(),
        )
        task = self._call(self.client.create_image_task, req, get_settings().freepik_image_model)
        return self._result(task, kind="image")

    def poll_image(self, task_id: str) -> ProviderResult:
        task = self._call(self.client.get_image_task, task_id, get_settings().freepik_image_model)
        return self._result(task, kind="image")

    # ------------------------------------------------------------------ video (Kling)

    def start_video(self, request: VideoRequest) -> ProviderResult:
        if not request.image_bytes:
            from ecomvideo.providers.base import InvalidProviderInput

            raise InvalidProviderInput("the video step needs an image", provider=self.name)
        req = KlingRequest.from_image_bytes(
            request.image_bytes,
            prompt=request.prompt[:2500],
            duration=request.duration_seconds,
            webhook_url=webhook_url(),
        )
        task = self._call(self.client.create_video_task, req, get_settings().freepik_video_model)
        return self._result(task, kind="video")

    def poll_video(self, task_id: str) -> ProviderResult:
        task = self._call(self.client.get_video_task, task_id, get_settings().freepik_video_model)
        return self._result(task, kind="video")

    # ------------------------------------------------------------------ helpers

    def _call(self, fn: Any, *args: Any) -> TaskResponse:
        try:
            return fn(*args)
        except FreepikOutOfCredits:
            # Our own Freepik balance is empty: every user is affected, so page someone.
            metrics.add_metric(name="FreepikOutOfCredits", unit="Count", value=1)
            logger.error("Freepik account is out of credits")
            raise

    def _result(self, task: TaskResponse, *, kind: str) -> ProviderResult:
        failure = failure_for_task(task)
        if failure is not None:
            raise failure
        if task.status is not TaskStatus.COMPLETED:
            return ProviderResult.pending(task.task_id, progress=_PROGRESS.get(task.status))
        url = task.first_url()
        if url is None:
            raise FreepikError("the provider returned no file")
        limit = MAX_IMAGE_BYTES if kind == "image" else MAX_VIDEO_BYTES
        asset = self.client.download(url, limit)
        return ProviderResult(
            status="completed",
            task_id=task.task_id,
            asset=asset,
            content_type=_content_type(asset, kind),
        )


def _content_type(data: bytes, kind: str) -> str:
    if kind == "video":
        return "video/mp4"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def create_provider() -> FreepikProvider:
    return FreepikProvider()
