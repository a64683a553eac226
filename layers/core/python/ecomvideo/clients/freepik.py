"""Freepik (Magnific) AI API client: text -> image (Mystic), image -> video (Kling and others).

One ``FreepikClient`` per Lambda container; it shares a module-level ``httpx.Client`` (created
lazily) so connections are reused across invocations. Tests pass their own ``http`` client (or
use respx) and a fake ``sleep``.

Sources (docs.freepik.com, ../shared/reference/freepik-api.md). CONFIRMED in the official docs:
``POST /v1/ai/mystic`` and ``GET /v1/ai/mystic/{task_id}``; Mystic fields ``prompt``,
``aspect_ratio`` (``square_1_1``, ``social_story_9_16``, ``widescreen_16_9``, ``social_post_4_5``,
...), ``resolution`` (1k/2k/4k), ``model`` (realism/fluid/zen), ``webhook_url``,
``filter_nsfw`` (NSFW output replaced by a black image); responses ``{"data": {"task_id",
"status", "generated"}}``; statuses CREATED/IN_PROGRESS/COMPLETED/FAILED; the webhook body is
the GET response without the ``data`` wrapper; errors carry ``message``, 400 adds
``invalid_params``; 429 on rate limits. MED (several independent clients agree): Kling create
paths ``/v1/ai/image-to-video/kling-v2-1-pro`` with the poll path dropping the tier
(``.../kling-v2-1/{task_id}``), ``duration`` "5"/"10", ``image`` URL or base64,
``cfg_scale`` 0..1. ASSUMED: rate-limit header names (we read ``Retry-After`` and the common
``*ratelimit-reset*`` spellings), 402 or a "credits"/"quota" message for out-of-credits, and
how a moderation failure is worded.
"""

from __future__ import annotations

import base64
import email.utils
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ecomvideo.errors import PROVIDER_ACCOUNT_PROBLEM, ProviderError
from ecomvideo.observability import logger

__all__ = [
    "ASPECT_RATIOS",
    "MODELS",
    "FreepikAssetTooLarge",
    "FreepikAssetUnavailable",
    "FreepikAuthError",
    "FreepikClient",
    "FreepikContentRejected",
    "FreepikError",
    "FreepikInvalidParams",
    "FreepikNotFound",
    "FreepikOutOfCredits",
    "FreepikRateLimited",
    "FreepikTaskFailed",
    "FreepikUnavailable",
    "KlingRequest",
    "ModelSpec",
    "MysticRequest",
    "TaskResponse",
    "TaskStatus",
    "failure_for_task",
    "get_default_http",
    "nearest_duration",
]

# --------------------------------------------------------------------------------------------
# Models and paths: data, not code. Adding a model is one row here.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """How one Freepik model is called.

    ``poll_path`` drops the tier for Kling 2.1 (GET on the create path reportedly 404s).
    ``durations`` are the allowed lengths in seconds; ``duration_as_string`` says whether the API
    wants ``"5"`` (Kling) or ``6`` (MiniMax). ``image_field`` is the body key of the start frame.
    """

    name: str
    kind: Literal["image", "video"]
    create_path: str
    poll_path: str  # without the trailing "/{task_id}"
    durations: tuple[int, ...] = ()
    duration_as_string: bool = True
    image_field: str = "image"
    supports_cfg_scale: bool = True
    supports_negative_prompt: bool = True
    confidence: Literal["HIGH", "MED", "LOW"] = "MED"

    def poll_url_path(self, task_id: str) -> str:
        """Path of the status endpoint for ``task_id``."""
        return f"{self.poll_path}/{task_id}"


_I2V = "/v1/ai/image-to-video"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("mystic", "image", "/v1/ai/mystic", "/v1/ai/mystic", confidence="HIGH"),
        ModelSpec(
            "kling-v2-1-pro", "video", f"{_I2V}/kling-v2-1-pro", f"{_I2V}/kling-v2-1", (5, 10)
        ),
        ModelSpec(
            "kling-v2-1-std", "video", f"{_I2V}/kling-v2-1-std", f"{_I2V}/kling-v2-1", (5, 10)
        ),
        ModelSpec(
            "kling-v2-5-pro", "video", f"{_I2V}/kling-v2-5-pro", f"{_I2V}/kling-v2-5-pro", (5, 10)
        ),
        ModelSpec(
            "kling-v2-6-pro", "video", f"{_I2V}/kling-v2-6-pro", f"{_I2V}/kling-v2-6", (5, 10)
        ),
        ModelSpec(
            "minimax-hailuo-02-768p",
            "video",
            f"{_I2V}/minimax-hailuo-02-768p",
            f"{_I2V}/minimax-hailuo-02-768p",
            (6, 10),
            duration_as_string=False,
            image_field="first_frame_image",
            supports_cfg_scale=False,
            supports_negative_prompt=False,
            confidence="HIGH",
        ),
        ModelSpec(
            "minimax-hailuo-02-1080p",
            "video",
            f"{_I2V}/minimax-hailuo-02-1080p",
            f"{_I2V}/minimax-hailuo-02-1080p",
            (6,),
            duration_as_string=False,
            image_field="first_frame_image",
            supports_cfg_scale=False,
            supports_negative_prompt=False,
        ),
    )
}

# Our aspect ratios (videos.aspect_ratio) -> Mystic's names. CONFIRMED values.
ASPECT_RATIOS: dict[str, str] = {
    "9:16": "social_story_9_16",
    "1:1": "square_1_1",
    "16:9": "widescreen_16_9",
    "4:5": "social_post_4_5",
}

KLING_MAX_PROMPT = 2500
KLING_MAX_IMAGE_BYTES = 10 * 1024 * 1024


def _spec(model: str, kind: Literal["image", "video"]) -> ModelSpec:
    spec = MODELS.get(model)
    if spec is None or spec.kind != kind:
        known = sorted(n for n, s in MODELS.items() if s.kind == kind)
        raise ValueError(f"unknown Freepik {kind} model {model!r}; known: {known}")
    return spec


def nearest_duration(seconds: float, allowed: tuple[int, ...] = (5, 10)) -> int:
    """The allowed duration closest to ``seconds`` (ties go to the shorter, cheaper one)."""
    if not allowed:
        raise ValueError("no allowed durations")
    return min(sorted(allowed), key=lambda d: abs(d - seconds))


# --------------------------------------------------------------------------------------------
# Request and response models
# --------------------------------------------------------------------------------------------


class MysticRequest(BaseModel):
    """Body of ``POST /v1/ai/mystic``. ``aspect_ratio`` takes ours ("9:16") or Freepik's name."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    aspect_ratio: str = "social_story_9_16"
    resolution: Literal["1k", "2k", "4k"] = "2k"
    model: str = "realism"  # realism | fluid | zen (docs); kept open for new engines
    webhook_url: str | None = None
    filter_nsfw: bool = True

    @field_validator("aspect_ratio", mode="before")
    @classmethod
    def _map_aspect_ratio(cls, value: Any) -> Any:
        if isinstance(value, str):
            v = value.strip()
            if v in ASPECT_RATIOS:
                return ASPECT_RATIOS[v]
            if v in ASPECT_RATIOS.values():
                return v
            raise ValueError(
                f"unsupported aspect ratio {value!r}; use one of {list(ASPECT_RATIOS)}"
            )
        return value

    def to_payload(self) -> dict[str, Any]:
        """JSON body for the API (``None`` fields omitted)."""
        return self.model_dump(exclude_none=True)


class KlingRequest(BaseModel):
    """Image-to-video request (Kling and the other video models in ``MODELS``).

    ``image`` is an https URL (e.g. a presigned S3 GET) or base64 without a data-URI prefix.
    ``duration`` accepts our seconds (int/float/str) and is mapped to the nearest of "5"/"10";
    :meth:`to_payload` re-maps it for models with other lengths (MiniMax: 6/10, integer).
    """

    model_config = ConfigDict(extra="forbid")

    image: str = Field(min_length=1)
    prompt: str | None = Field(default=None, max_length=KLING_MAX_PROMPT)
    negative_prompt: str | None = Field(default=None, max_length=KLING_MAX_PROMPT)
    duration: Literal["5", "10"] = "5"
    cfg_scale: float | None = Field(default=0.5, ge=0.0, le=1.0)
    webhook_url: str | None = None

    @field_validator("duration", mode="before")
    @classmethod
    def _map_duration(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("duration must be a number of seconds")
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip()):
            try:
                seconds = float(value)
            except ValueError:
                raise ValueError(f"duration {value!r} is not a number of seconds") from None
            if not math.isfinite(seconds) or seconds <= 0:
                raise ValueError("duration must be positive")
            return str(nearest_duration(seconds, (5, 10)))
        return value

    @field_validator("image")
    @classmethod
    def _check_image(cls, value: str) -> str:
        if value.startswith(("https://", "http://")):
            return value
        if value.startswith("data:"):
            raise ValueError("send base64 without the data: URI prefix")
        # Base64: estimate the decoded size without decoding megabytes.
        if len(value) * 3 // 4 > KLING_MAX_IMAGE_BYTES:
            raise ValueError("image is larger than the provider's 10 MB limit")
        return value

    @classmethod
    def from_image_bytes(cls, data: bytes, **fields: Any) -> KlingRequest:
        """Build a request that sends the image inline as base64 (for models without URL input)."""
        if len(data) > KLING_MAX_IMAGE_BYTES:
            raise ValueError("image is larger than the provider's 10 MB limit")
        return cls(image=base64.b64encode(data).decode("ascii"), **fields)

    def to_payload(self, model: str = "kling-v2-1-pro") -> dict[str, Any]:
        """JSON body for ``model``: field names and duration format come from ``MODELS``."""
        spec = _spec(model, "video")
        seconds = nearest_duration(int(self.duration), spec.durations or (5, 10))
        body: dict[str, Any] = {
            spec.image_field: self.image,
            "duration": str(seconds) if spec.duration_as_string else seconds,
        }
        if self.prompt:
            body["prompt"] = self.prompt
        if self.negative_prompt and spec.supports_negative_prompt:
            body["negative_prompt"] = self.negative_prompt
        if self.cfg_scale is not None and spec.supports_cfg_scale:
            body["cfg_scale"] = self.cfg_scale
        if self.webhook_url:
            body["webhook_url"] = self.webhook_url
        return body


class TaskStatus(StrEnum):
    CREATED = "CREATED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def rank(self) -> int:
        """Order used to ignore out-of-order deliveries (never move a task backwards)."""
        return _STATUS_RANK[self]

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED)


_STATUS_RANK = {
    TaskStatus.CREATED: 0,
    TaskStatus.IN_PROGRESS: 1,
    TaskStatus.COMPLETED: 2,
    TaskStatus.FAILED: 2,
}

# Keys where a failure reason might appear (undocumented: FAILED usually has none).
_REASON_KEYS = ("error", "reason", "failure_reason", "message", "detail")


class TaskResponse(BaseModel):
    """A task as returned by create/poll (``{"data": {...}}``) or POSTed to the webhook (bare)."""

    model_config = ConfigDict(extra="ignore")

    task_id: str = Field(min_length=1)
    status: TaskStatus
    generated: list[str] = Field(default_factory=list)
    has_nsfw: list[bool] | None = None
    reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        if isinstance(value, Mapping) and isinstance(value.get("data"), Mapping):
            value = value["data"]
        if not isinstance(value, Mapping):
            return value
        out = dict(value)
        if isinstance(out.get("status"), str):
            out["status"] = out["status"].strip().upper()
        generated = out.get("generated")
        if generated is None:
            out["generated"] = []
        elif isinstance(generated, list):
            # Some endpoints have been seen returning objects; keep only the URL.
            out["generated"] = [
                g.get("url") if isinstance(g, Mapping) else g
                for g in generated
                if (isinstance(g, Mapping) and g.get("url")) or (isinstance(g, str) and g)
            ]
        nsfw = out.get("has_nsfw")
        if isinstance(nsfw, bool):
            out["has_nsfw"] = [nsfw]
        if not out.get("reason"):
            for key in _REASON_KEYS:
                candidate = out.get(key)
                if isinstance(candidate, Mapping):
                    candidate = candidate.get("message")
                if isinstance(candidate, str) and candidate.strip():
                    out["reason"] = candidate.strip()[:500]
                    break
        return out

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def all_nsfw(self) -> bool:
        """Every output was flagged (Mystic then returns black images when filtering)."""
        return bool(self.has_nsfw) and all(self.has_nsfw or ())

    def first_url(self) -> str | None:
        return self.generated[0] if self.generated else None


# --------------------------------------------------------------------------------------------
# Exceptions: one hierarchy, each with a user_message safe for videos.error_message
# --------------------------------------------------------------------------------------------


class FreepikError(ProviderError):
    """Base of all Freepik failures. ``user_message`` is safe to store and show.

    ``provider_message`` is Freepik's own text (truncated, API key scrubbed) for logs only.
    Nothing here ever contains the API key.
    """

    default_user_message = "video provider error"
    retryable = False
    # Seconds Freepik asked us to wait (Retry-After of a 429 or 503), when it said.
    retry_after: float | None = None

    def __init__(
        self,
        user_message: str | None = None,
        *,
        status_code: int | None = None,
        provider_message: str | None = None,
    ) -> None:
        self.user_message = user_message or self.default_user_message
        self.status_code = status_code
        self.provider_message = provider_message
        super().__init__(self.user_message)

    def __str__(self) -> str:
        code = f" (HTTP {self.status_code})" if self.status_code else ""
        return f"{self.user_message}{code}"


# Our account's problems (key, credits) are not the user's: product words, vendor details in
# ``provider_message`` and the logs only.
ACCOUNT_PROBLEM = PROVIDER_ACCOUNT_PROBLEM


class FreepikAuthError(FreepikError):
    default_user_message = ACCOUNT_PROBLEM


class FreepikInvalidParams(FreepikError):
    default_user_message = "provider rejected the request"

    def __init__(self, invalid_params: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        self.invalid_params = invalid_params or []
        details = "; ".join(
            f"{p.get('name', '?')}: {p.get('reason', 'invalid')}" for p in self.invalid_params
        )
        msg = f"{self.default_user_message}: {details}" if details else None
        super().__init__(msg[:300] if msg else None, **kw)


class FreepikOutOfCredits(FreepikError):
    default_user_message = ACCOUNT_PROBLEM


class FreepikRateLimited(FreepikError):
    default_user_message = "provider is busy, please try again later"
    retryable = True

    def __init__(self, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kw)


class FreepikUnavailable(FreepikError):
    default_user_message = "provider unavailable"
    retryable = True


class FreepikNotFound(FreepikError):
    default_user_message = "provider task not found"


class FreepikContentRejected(FreepikError):
    default_user_message = "content rejected by provider"


class FreepikTaskFailed(FreepikError):
    default_user_message = "generation failed at provider"


class FreepikAssetUnavailable(FreepikError):
    default_user_message = "provider asset expired or unavailable"


class FreepikAssetTooLarge(FreepikError):
    default_user_message = "provider asset is too large"


_CREDITS_RE = re.compile(r"credit|quota|insufficient|balance|billing|payment", re.I)
_MODERATION_RE = re.compile(r"nsfw|moderat|safety|content polic|inappropriate|not allowed", re.I)


def failure_for_task(task: TaskResponse) -> FreepikError | None:
    """The exception a finished task amounts to, or ``None`` if it is a usable success.

    FAILED with a moderation-sounding reason -> ``FreepikContentRejected``; other FAILED ->
    ``FreepikTaskFailed``; COMPLETED with every output flagged NSFW (Mystic blacks them out) ->
    ``FreepikContentRejected``; COMPLETED without URLs -> ``FreepikTaskFailed``.
    """
    if task.status is TaskStatus.FAILED:
        reason = task.reason or ""
        if _MODERATION_RE.search(reason):
            return FreepikContentRejected(provider_message=reason or None)
        if _CREDITS_RE.search(reason):
            return FreepikOutOfCredits(provider_message=reason)
        return FreepikTaskFailed(provider_message=reason or None)
    if task.status is TaskStatus.COMPLETED:
        if task.all_nsfw:
            return FreepikContentRejected(provider_message="all outputs flagged has_nsfw")
        if not task.generated:
            return FreepikTaskFailed(provider_message="COMPLETED without generated URLs")
    return None


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
DOWNLOAD_TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=10.0, pool=5.0)
_RESET_HEADERS = (
    "x-ratelimit-reset-after",
    "ratelimit-reset",
    "x-ratelimit-reset",
    "x-rate-limit-reset",
)
_default_http: httpx.Client | None = None
_default_http_lock = threading.Lock()


def get_default_http() -> httpx.Client:
    """The container-wide ``httpx.Client`` (created on first use, reused across invocations)."""
    global _default_http
    if _default_http is None:
        with _default_http_lock:
            if _default_http is None:
                _default_http = httpx.Client(
                    timeout=DEFAULT_TIMEOUT,
                    limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
                    headers={"user-agent": "ecomvideo-backend/1 (+httpx)"},
                )
    return _default_http


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _parse_delay(value: str, now: float) -> float | None:
    """Seconds to wait from a Retry-After / reset header (delta seconds, epoch, or HTTP-date)."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - now)
    if not math.isfinite(number) or number < 0:
        return None
    # Large numbers are absolute Unix times (X-RateLimit-Reset style), small ones are deltas.
    return max(0.0, number - now) if number > 1_000_000_000 else number


class FreepikClient:
    """Typed, retrying client for the Freepik AI API.

    Retries 429, 5xx and transport errors with exponential backoff plus jitter (honouring
    ``Retry-After`` / rate-limit reset headers, each wait capped at ``max_wait``); never retries
    other 4xx. ``POST`` (task creation, which costs money) is not retried after a read timeout or
    a dropped connection, because Freepik may already have accepted it and has no idempotency
    key; it is retried when the request provably did not land (connect errors) or the server
    answered 429/5xx.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.freepik.com",
        api_key_header: str = "x-freepik-api-key",
        http: httpx.Client | None = None,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        *,
        max_wait: float = 20.0,
        timeout: httpx.Timeout | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.api_key_header = api_key_header
        self._http = http
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.max_wait = max_wait
        self._sleep = sleep
        self._timeout = timeout or DEFAULT_TIMEOUT
        self._rng = rng or random.Random()  # jitter, not crypto
        self._clock = clock

    @classmethod
    def from_settings(cls, api_key: str, settings: Any = None, **kwargs: Any) -> FreepikClient:
        """Client for the configured host and header (``FREEPIK_BASE_URL``, ``..._HEADER``)."""
        if settings is None:
            from ecomvideo.settings import get_settings

            settings = get_settings()
        return cls(
            api_key,
            base_url=settings.freepik_base_url,
            api_key_header=settings.freepik_api_key_header,
            **kwargs,
        )

    def __repr__(self) -> str:  # never show the key
        return f"FreepikClient(base_url={self.base_url!r}, api_key_header={self.api_key_header!r})"

    @property
    def http(self) -> httpx.Client:
        return self._http if self._http is not None else get_default_http()

    # ---- public API ------------------------------------------------------------------------

    def create_image_task(self, req: MysticRequest, model: str = "mystic") -> TaskResponse:
        """Start a text-to-image task; the result arrives by webhook or :meth:`get_image_task`."""
        spec = _spec(model, "image")
        return self._task("POST", spec.create_path, json=req.to_payload())

    def get_image_task(self, task_id: str, model: str = "mystic") -> TaskResponse:
        """Current status of an image task (polling fallback for lost webhooks)."""
        return self._task("GET", _spec(model, "image").poll_url_path(_safe_id(task_id)))

    def create_video_task(self, req: KlingRequest, model: str = "kling-v2-1-pro") -> TaskResponse:
        """Start an image-to-video task with the body shape ``model`` expects."""
        spec = _spec(model, "video")
        return self._task("POST", spec.create_path, json=req.to_payload(model))

    def get_video_task(self, task_id: str, model: str = "kling-v2-1-pro") -> TaskResponse:
        """Current status of a video task (the poll path comes from ``MODELS``)."""
        return self._task("GET", _spec(model, "video").poll_url_path(_safe_id(task_id)))

    def download(self, url: str, max_bytes: int) -> bytes:
        """Fetch a generated asset (streamed, at most ``max_bytes``). Copy it to S3 at once.

        The signed CDN URL authorises itself: the API key is NOT sent (it must not leak to the
        CDN). 403/404/410 mean the signature expired or the asset is gone.
        """
        if not url.startswith(("https://", "http://")):
            raise FreepikAssetUnavailable(provider_message="not an http(s) URL")
        attempt = 0
        while True:
            try:
                return self._download_once(url, max_bytes)
            except (FreepikUnavailable, FreepikRateLimited) as exc:
                if attempt >= self.max_retries:
                    raise
                delay = self._delay(attempt, getattr(exc, "retry_after", None))
                self._log_retry("GET", "<asset>", attempt, delay, exc.status_code)
                self._sleep(delay)
                attempt += 1

    # ---- internals -------------------------------------------------------------------------

    def _download_once(self, url: str, max_bytes: int) -> bytes:
        try:
            with self.http.stream(
                "GET", url, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True
            ) as response:
                status = response.status_code
                if status == 429:
                    raise FreepikRateLimited(
                        self._retry_after(response.headers), status_code=status
                    )
                if status >= 500:
                    raise FreepikUnavailable(status_code=status)
                if status >= 400:
                    raise FreepikAssetUnavailable(status_code=status)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FreepikAssetTooLarge(
                        status_code=status, provider_message=f"content-length {declared}"
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FreepikAssetTooLarge(
                            status_code=status, provider_message=f"more than {max_bytes} bytes"
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TransportError as exc:
            raise FreepikUnavailable(provider_message=type(exc).__name__) from None

    def _task(self, method: str, path: str, json: dict[str, Any] | None = None) -> TaskResponse:
        payload = self._request(method, path, json=json)
        try:
            return TaskResponse.model_validate(payload)
        except ValueError as exc:
            raise FreepikUnavailable(
                "unexpected provider response", provider_message=str(exc)[:300]
            ) from None

    def _request(self, method: str, path: str, json: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}{path}"
        headers = {self.api_key_header: self._api_key, "accept": "application/json"}
        attempt = 0
        while True:
            try:
                response = self.http.request(
                    method, url, json=json, headers=headers, timeout=self._timeout
                )
            except httpx.TransportError as exc:
                # A POST that may have reached Freepik is not repeated (no idempotency key).
                landed_maybe = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt >= self.max_retries or (method == "POST" and landed_maybe):
                    raise FreepikUnavailable(provider_message=type(exc).__name__) from None
                delay = self._delay(attempt, None)
                self._log_retry(method, path, attempt, delay, type(exc).__name__)
                self._sleep(delay)
                attempt += 1
                continue

            status = response.status_code
            if status < 400:
                body = _json_or_none(response)
                if body is None:
                    raise FreepikUnavailable("unexpected provider response", status_code=status)
                return body
            hint = self._retry_after(response.headers)
            # A wait longer than ``max_wait`` is not slept (nor cut short, which would only
            # earn another 429): the error carries it and the caller re-schedules precisely.
            patient = hint is None or hint <= self.max_wait
            if (status == 429 or status >= 500) and attempt < self.max_retries and patient:
                delay = self._delay(attempt, hint)
                self._log_retry(method, path, attempt, delay, status)
                self._sleep(delay)
                attempt += 1
                continue
            raise self._error_for(response)

    def _retry_after(self, headers: httpx.Headers) -> float | None:
        now = self._clock()
        value = headers.get("retry-after")
        if value is not None:
            parsed = _parse_delay(value, now)
            if parsed is not None:
                return parsed
        for name in _RESET_HEADERS:
            value = headers.get(name)
            if value is not None:
                parsed = _parse_delay(value, now)
                if parsed is not None:
                    return parsed
        return None

    def _delay(self, attempt: int, server_hint: float | None) -> float:
        """Server's hint if any (capped), else exponential backoff with jitter (capped)."""
        if server_hint is not None:
            return min(server_hint, self.max_wait)
        ceiling = self.backoff_base * (2**attempt)
        # "Equal jitter": at least half the backoff, so retries do not collapse to zero.
        return min(ceiling / 2 + self._rng.uniform(0, ceiling / 2), self.max_wait)

    def _log_retry(
        self, method: str, path: str, attempt: int, delay: float, cause: int | str | None
    ) -> None:
        logger.warning(
            "freepik request retry",
            extra={
                "method": method,
                "path": path,
                "attempt": attempt + 1,
                "delay_s": round(delay, 3),
                "cause": cause,
            },
        )

    def _scrub(self, text: str | None) -> str | None:
        if not text:
            return None
        return text.replace(self._api_key, "***")[:500]

    def _error_for(self, response: httpx.Response) -> FreepikError:
        status = response.status_code
        body = _json_or_none(response)
        message = None
        if isinstance(body, Mapping):
            raw = body.get("message") or body.get("detail") or body.get("error")
            message = raw if isinstance(raw, str) else None
        message = self._scrub(message)
        common: dict[str, Any] = {"status_code": status, "provider_message": message}
        logger.warning(
            "freepik request failed",
            extra={
                "status": status,
                "provider_message": message,
                "path": response.request.url.path,
            },
        )
        if status in (401, 403):
            return FreepikAuthError(**common)
        if status == 402 or (message and _CREDITS_RE.search(message) and status in (400, 429)):
            return FreepikOutOfCredits(**common)
        if status == 404:
            return FreepikNotFound(**common)
        if status == 429:
            return FreepikRateLimited(self._retry_after(response.headers), **common)
        if status >= 500:
            unavailable = FreepikUnavailable(**common)
            unavailable.retry_after = self._retry_after(response.headers)
            return unavailable
        if message and _MODERATION_RE.search(message):
            return FreepikContentRejected(**common)
        if status in (400, 422):
            params = body.get("invalid_params") if isinstance(body, Mapping) else None
            cleaned = [
                {
                    "name": str(p.get("name", "?"))[:100],
                    "reason": self._scrub(str(p.get("reason", "invalid"))) or "invalid",
                }
                for p in (params if isinstance(params, list) else [])
                if isinstance(p, Mapping)
            ]
            return FreepikInvalidParams(cleaned, **common)
        return FreepikError(**common)


_TASK_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _safe_id(task_id: str) -> str:
    # Task ids are UUIDs; anything else could smuggle path segments into the URL.
    if not _TASK_ID_RE.match(task_id or ""):
        raise ValueError("invalid Freepik task id")
    return task_id
