"""A fake Freepik API at the HTTP layer (respx), for unit and integration tests.

    state = FreepikFakeState()
    with freepik_respx("https://api.freepik.com", state):
        client = FreepikClient(state.api_key, sleep=lambda s: None)
        task = client.create_video_task(KlingRequest(image=url, duration=5))
        state.complete(task.task_id)                 # or state.advance(...) step by step
        delivery = state.outbox[-1]                  # signed webhook for that change
        handler(body=delivery.body, headers=delivery.headers)

It keeps its own knowledge of paths (independent of ``ecomvideo.clients.freepik.MODELS``) so
that a wrong path in the client fails a test: Kling 2.1 polls on ``.../kling-v2-1/{id}`` and a
GET on the create path answers 404, as reported for the real API.

Failures are queued with :meth:`FreepikFakeState.fail_next` (400 invalid_params, 429 with
Retry-After, 500, 503, 401, 402). Assets are served at signed-looking, expiring URLs
``https://cdn.freepik.test/...?token=exp=<unix>~hmac=<hex>``; the fake serves a real PNG for
images and a real H.264 MP4 for videos (rendered once with Pillow/PyAV).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import respx

from ecomvideo.webhooks.signature import sign_freepik_webhook

FailureKind = Literal[
    "invalid_params",
    "rate_limited",
    "server_error",
    "unavailable",
    "unauthorized",
    "out_of_credits",
]
Scope = Literal["create", "poll", "asset", "any"]

MYSTIC_ASPECT_RATIOS = {
    "square_1_1", "classic_4_3", "traditional_3_4", "widescreen_16_9", "social_story_9_16",
    "smartphone_horizontal_20_9", "smartphone_vertical_9_20", "standard_3_2", "portrait_2_3",
    "horizontal_2_1", "vertical_1_2", "social_5_4", "social_post_4_5",
}  # fmt: skip

# create model -> (poll path segment, body flavour)
VIDEO_MODELS: dict[str, tuple[str, str]] = {
    "kling-v2-1-pro": ("kling-v2-1", "kling"),
    "kling-v2-1-std": ("kling-v2-1", "kling"),
    "kling-v2-5-pro": ("kling-v2-5-pro", "kling"),
    "kling-v2-6-pro": ("kling-v2-6", "kling"),
    "minimax-hailuo-02-768p": ("minimax-hailuo-02-768p", "minimax"),
    "minimax-hailuo-02-1080p": ("minimax-hailuo-02-1080p", "minimax"),
}
_NEXT = {"CREATED": "IN_PROGRESS", "IN_PROGRESS": "COMPLETED"}
_CDN_KEY = b"fake-cdn-signing-key"


@dataclass
class FakeTask:
    task_id: str
    model: str
    kind: Literal["image", "video"]
    request: dict[str, Any]
    webhook_url: str | None
    status: str = "CREATED"
    generated: list[str] = field(default_factory=list)
    has_nsfw: list[bool] | None = None
    reason: str | None = None
    history: list[str] = field(default_factory=lambda: ["CREATED"])

    def body(self) -> dict[str, Any]:
        """The task as Freepik shows it (GET ``data`` / webhook body)."""
        out: dict[str, Any] = {
            "task_id": self.task_id,
            "status": self.status,
            "generated": list(self.generated),
        }
        if self.kind == "image" and self.has_nsfw is not None:
            out["has_nsfw"] = list(self.has_nsfw)
        return out


@dataclass
class WebhookDelivery:
    """One signed POST Freepik would make to ``url``."""

    url: str | None
    task_id: str
    status: str
    webhook_id: str
    body: bytes
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class _Failure:
    kind: FailureKind
    scope: Scope
    retry_after: int
    invalid_params: list[dict[str, str]] | None
    message: str | None


@dataclass
class FreepikFakeState:
    """In-memory Freepik: tasks, queued failures, outgoing webhooks, served assets."""

    api_key: str = "fake-freepik-key"
    api_key_header: str = "x-freepik-api-key"
    webhook_secret: str = "fake-webhook-secret"
    cdn_base: str = "https://cdn.freepik.test"
    asset_ttl: int = 3600
    clock: Callable[[], float] = time.time
    auto_advance: bool = False  # each poll moves the task one step (CREATED->...->COMPLETED)
    nsfw: bool = False  # mystic results flagged has_nsfw
    image_bytes: bytes | None = None
    video_bytes: bytes | None = None
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    outbox: list[WebhookDelivery] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    call_times: list[float] = field(default_factory=list)  # time.monotonic() of each call
    _failures: deque[_Failure] = field(default_factory=deque)

    # ---- test controls ---------------------------------------------------------------------

    def fail_next(
        self,
        kind: FailureKind,
        *,
        times: int = 1,
        scope: Scope = "any",
        retry_after: int = 1,
        invalid_params: list[dict[str, str]] | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with an error of ``kind``."""
        for _ in range(times):
            self._failures.append(_Failure(kind, scope, retry_after, invalid_params, message))

    def advance(self, task_id: str) -> str:
        """Move a task one step forward; returns the new status."""
        task = self.tasks[task_id]
        nxt = _NEXT.get(task.status)
        if nxt:
            self.set_status(task_id, nxt)
        return task.status

    def start(self, task_id: str) -> None:
        self.set_status(task_id, "IN_PROGRESS")

    def complete(self, task_id: str, *, nsfw: bool | None = None) -> FakeTask:
        """Finish a task with a fresh signed asset URL (and its webhook)."""
        if nsfw is not None:
            self.tasks[task_id].has_nsfw = [nsfw]
        return self.set_status(task_id, "COMPLETED")

    def fail(self, task_id: str, reason: str | None = None) -> FakeTask:
        return self.set_status(task_id, "FAILED", reason=reason)

    def set_status(self, task_id: str, status: str, *, reason: str | None = None) -> FakeTask:
        """Set any status (even backwards, to simulate odd providers); queues a webhook."""
        task = self.tasks[task_id]
        if task.status == status:
            return task
        task.status = status
        task.history.append(status)
        if status == "COMPLETED":
            task.generated = [self.asset_url(task)]
            if task.kind == "image" and task.has_nsfw is None:
                task.has_nsfw = [self.nsfw]
        elif status == "FAILED":
            task.generated = []
            task.reason = reason
        if task.webhook_url:
            self.outbox.append(self.delivery(task_id))
        return task

    def delivery(
        self,
        task_id: str,
        *,
        webhook_id: str | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> WebhookDelivery:
        """A signed webhook for the task's current status (build duplicates/replays with it)."""
        task = self.tasks[task_id]
        body_obj = task.body()
        if task.status == "FAILED" and task.reason:
            body_obj["error"] = task.reason  # ASSUMED field: Freepik documents no reason
        body = json.dumps(body_obj, separators=(",", ":")).encode()
        wid = webhook_id or f"msg_{uuid.uuid4().hex}"
        ts = int(self.clock()) if timestamp is None else timestamp
        headers = {
            **sign_freepik_webhook(body, secret or self.webhook_secret, wid, ts),
            "content-type": "application/json",
            "user-agent": "Freepik-Webhooks/1.0 (fake)",
        }
        return WebhookDelivery(task.webhook_url, task_id, task.status, wid, body, headers)

    def pop_outbox(self) -> list[WebhookDelivery]:
        out, self.outbox = self.outbox, []
        return out

    def asset_url(self, task: FakeTask) -> str:
        ext = "mp4" if task.kind == "video" else "jpeg"
        path = f"/{task.kind}s/{task.model}/{task.task_id}.{ext}"
        exp = int(self.clock()) + self.asset_ttl
        return f"{self.cdn_base}{path}?token=exp={exp}~hmac={_cdn_sig(path, exp)}"

    def asset_bytes(self, kind: str) -> bytes:
        if kind == "videos":
            return self.video_bytes if self.video_bytes is not None else sample_mp4()
        return self.image_bytes if self.image_bytes is not None else sample_png()

    def _take_failure(self, scope: Scope) -> _Failure | None:
        if self._failures and self._failures[0].scope in (scope, "any"):
            return self._failures.popleft()
        return None


def _cdn_sig(path: str, exp: int) -> str:
    return hmac.new(_CDN_KEY, f"{path}:{exp}".encode(), hashlib.sha256).hexdigest()


def _error(status: int, message: str, **extra: Any) -> httpx.Response:
    return httpx.Response(status, json={"message": message, **extra})


def _failure_response(f: _Failure) -> httpx.Response:
    if f.kind == "invalid_params":
        return _error(
            400,
            f.message or "Your request parameters didn't validate.",
            invalid_params=f.invalid_params or [{"name": "prompt", "reason": "Invalid prompt"}],
        )
    if f.kind == "rate_limited":
        resp = _error(429, f.message or "Rate limit exceeded")
        resp.headers["Retry-After"] = str(f.retry_after)
        return resp
    if f.kind == "server_error":
        return _error(500, f.message or "Internal Server Error")
    if f.kind == "unavailable":
        return _error(503, f.message or "Service Unavailable")
    if f.kind == "unauthorized":
        return _error(401, f.message or "Invalid API key")
    return _error(402, f.message or "Not enough credits")


def _validate(model: str, flavour: str, body: dict[str, Any]) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []

    def bad(name: str, reason: str) -> None:
        problems.append({"name": name, "reason": reason})

    if flavour == "mystic":
        if body.get("aspect_ratio", "square_1_1") not in MYSTIC_ASPECT_RATIOS:
            bad("aspect_ratio", "Invalid aspect ratio")
        if body.get("resolution", "2k") not in ("1k", "2k", "4k"):
            bad("resolution", "Input should be '1k', '2k' or '4k'")
        return problems
    for name in ("prompt", "negative_prompt"):
        if len(body.get(name) or "") > 2500:
            bad(name, "String should have at most 2500 characters")
    if flavour == "kling":
        if not body.get("image"):
            bad("image", "Field required")
        if body.get("duration") not in ("5", "10"):
            bad("duration", "Input should be '5' or '10'")
        cfg = body.get("cfg_scale", 0.5)
        if not isinstance(cfg, int | float) or not 0 <= cfg <= 1:
            bad("cfg_scale", "Input should be between 0 and 1")
    else:  # minimax
        if not body.get("first_frame_image"):
            bad("first_frame_image", "Field required")
        if body.get("duration") not in (6, 10):
            bad("duration", "Input should be 6 or 10")
    return problems


def freepik_respx(
    base_url: str = "https://api.freepik.com",
    state: FreepikFakeState | None = None,
    *,
    pass_through_local: bool = True,
) -> respx.MockRouter:
    """A respx router serving the fake Freepik API and CDN from ``state``.

    Use it as a context manager (patches every httpx client) or as a transport:
    ``httpx.Client(transport=httpx.MockTransport(router.handler))``. The state is reachable as
    ``router.freepik_state``. Requests to 127.0.0.1/localhost pass through (moto, local servers).
    """
    st = state if state is not None else FreepikFakeState()
    base = base_url.rstrip("/")
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    router.freepik_state = st  # type: ignore[attr-defined]  # the fake's state rides on respx's router
    api = re.escape(base)
    tid = r"(?P<task_id>[^/?]+)"

    def authorised(request: httpx.Request) -> httpx.Response | None:
        st.calls.append((request.method, request.url.path))
        st.call_times.append(time.monotonic())
        key = request.headers.get(st.api_key_header)
        if not key:
            return _error(401, "Missing API key")
        if key != st.api_key:
            return _error(401, "Invalid API key")
        return None

    def create(request: httpx.Request, model: str, kind: Literal["image", "video"]) -> Any:
        if (denied := authorised(request)) is not None:
            return denied
        if (f := st._take_failure("create")) is not None:
            return _failure_response(f)
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return _error(400, "Invalid JSON body")
        flavour = "mystic" if kind == "image" else VIDEO_MODELS[model][1]
        if problems := _validate(model, flavour, body):
            return _error(400, "Your request parameters didn't validate.", invalid_params=problems)
        task = FakeTask(str(uuid.uuid4()), model, kind, body, body.get("webhook_url"))
        st.tasks[task.task_id] = task
        return httpx.Response(200, json={"data": task.body()})

    def poll(request: httpx.Request, task_id: str, models: set[str]) -> Any:
        if (denied := authorised(request)) is not None:
            return denied
        if (f := st._take_failure("poll")) is not None:
            return _failure_response(f)
        task = st.tasks.get(task_id)
        if task is None or task.model not in models:
            return _error(404, "Not found")
        if st.auto_advance:
            st.advance(task_id)
        return httpx.Response(200, json={"data": task.body()})

    router.post(url__regex=rf"^{api}/v1/ai/mystic$").mock(
        side_effect=lambda request: create(request, "mystic", "image")
    )
    router.get(url__regex=rf"^{api}/v1/ai/mystic/{tid}$").mock(
        side_effect=lambda request, task_id: poll(request, task_id, {"mystic"})
    )
    polls: dict[str, set[str]] = {}
    for model, (poll_segment, _) in VIDEO_MODELS.items():
        polls.setdefault(poll_segment, set()).add(model)
    for model in VIDEO_MODELS:
        router.post(url__regex=rf"^{api}/v1/ai/image-to-video/{re.escape(model)}$").mock(
            side_effect=lambda request, m=model: create(request, m, "video")
        )
    for segment, models in polls.items():
        router.get(url__regex=rf"^{api}/v1/ai/image-to-video/{re.escape(segment)}/{tid}$").mock(
            side_effect=lambda request, task_id, ms=frozenset(models): poll(request, task_id, ms)
        )
    # Anything else under the API (e.g. GET on the tiered create path) is a 404, like Freepik.
    router.route(url__regex=rf"^{api}/").mock(
        side_effect=lambda request: authorised(request) or _error(404, "Not found")
    )

    def asset(request: httpx.Request) -> httpx.Response:
        st.calls.append((request.method, request.url.path))
        st.call_times.append(time.monotonic())
        if (f := st._take_failure("asset")) is not None:
            return _failure_response(f)
        path = request.url.path
        token = request.url.params.get("token", "")
        m = re.fullmatch(r"exp=(\d+)~hmac=([0-9a-f]{64})", token)
        if not m or not hmac.compare_digest(m.group(2), _cdn_sig(path, int(m.group(1)))):
            return httpx.Response(403, text="Forbidden: bad token")
        if int(m.group(1)) < st.clock():
            return httpx.Response(403, text="Forbidden: token expired")
        kind = path.strip("/").split("/", 1)[0]
        data = st.asset_bytes(kind)
        ctype = "video/mp4" if kind == "videos" else "image/png"
        return httpx.Response(200, content=data, headers={"content-type": ctype})

    cdn_host = urlsplit(st.cdn_base).netloc
    router.get(host=cdn_host).mock(side_effect=asset)
    if pass_through_local:
        router.route(host="127.0.0.1").pass_through()
        router.route(host="localhost").pass_through()
    return router


# ---- media ---------------------------------------------------------------------------------


@cache
def sample_png(width: int = 576, height: int = 1024) -> bytes:
    """A real PNG (vertical, big enough for Kling's 300x300 minimum)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), (236, 112, 38))
    draw = ImageDraw.Draw(img)
    draw.rectangle((width // 6, height // 4, width * 5 // 6, height * 3 // 4), fill=(20, 60, 160))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


SUBJECT_COLOUR = (40, 220, 60)


def clip_colour(index: int, frames: int) -> tuple[int, int, int]:
    """The background colour of frame ``index`` of a ``sample_mp4`` clip of ``frames`` frames:
    red rises and blue falls frame by frame, so a frame's colour says which frame it is."""
    shade = int(255 * index / frames)
    return (shade, 90, 255 - shade)


@cache
def sample_mp4(
    width: int = 360,
    height: int = 640,
    seconds: float = 1.0,
    fps: int = 12,
    subject: tuple[float, float] | None = None,
) -> bytes:
    """A real H.264 MP4 (so ffprobe-style metadata probing works on what the fake serves).

    Frame ``i`` is filled with ``clip_colour(i, frames)``; ``subject`` (fractions of the frame)
    adds a green disc (``SUBJECT_COLOUR``, a fifth of the short side) centred there."""
    import av
    from PIL import Image, ImageDraw

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        frames = max(1, int(seconds * fps))
        for i in range(frames):
            img = Image.new("RGB", (width, height), clip_colour(i, frames))
            if subject is not None:
                r = min(width, height) // 10
                x, y = subject[0] * width, subject[1] * height
                ImageDraw.Draw(img).ellipse((x - r, y - r, x + r, y + r), fill=SUBJECT_COLOUR)
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


WEBHOOK_SECRET = "fake-webhook-secret"


@contextmanager
def freepik_configured(
    monkeypatch: Any, *, public_api_url: str | None = "https://api.ecomvideo.test"
) -> Iterator[FreepikFakeState]:
    """The layer pointed at the fake (API key, webhook secret, callback URL) with settings and
    providers reset before and after; yields the fake's state."""
    from ecomvideo.providers import reset_providers
    from ecomvideo.settings import reset_settings

    monkeypatch.setenv("FREEPIK_API_KEY", "fake-freepik-key")
    monkeypatch.setenv("FREEPIK_WEBHOOK_SECRET", WEBHOOK_SECRET)
    if public_api_url:
        monkeypatch.setenv("PUBLIC_API_URL", public_api_url)
    reset_settings()
    reset_providers()
    state = FreepikFakeState(webhook_secret=WEBHOOK_SECRET)
    try:
        with freepik_respx(state=state):
            yield state
    finally:
        monkeypatch.delenv("FREEPIK_API_KEY")
        reset_settings()
        reset_providers()
