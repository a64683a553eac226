"""Videos: creation (validation, plan limits, credits, idempotency), the library, cancel/retry.

Creation is two-phase on purpose. One transaction inserts the video (Pending), holds its
credits and stores the Idempotency-Key record; only after it commits is the Step Functions
execution started (the worker must find the row). If StartExecution fails, a second transaction
marks the video Failed and releases the hold, so no credits stay held by an orphan video.
``submit``, ``cancel``, ``retry`` and ``delete`` therefore open their own transactions; every
other function works inside the caller's session.

During processing ``videos.metadata`` holds ``{"request": {...}}`` (attempt, cost, template
variables, product URL); once the video is Completed it is exactly the spec's VideoMetadata.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.enums import (
    UserRole,
    VideoInputType,
    VideoStatus,
)
from ecomvideo.errors import (
    Conflict,
    NotFound,
    PaymentRequired,
    PlanLimitExceeded,
    ServiceUnavailable,
)
from ecomvideo.http.auth import Principal
from ecomvideo.http.pagination import apply_keyset, clamp_limit, decode_cursor, page
from ecomvideo.media.formats import CLASS_LONG_SIDE
from ecomvideo.models import (
    SubscriptionPlan,
    UserPreferences,
    Video,
    VideoTag,
    VideoTemplate,
    video_tag_mappings,
)
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.observability import logger
from ecomvideo.schemas import videos as schemas
from ecomvideo.services import (
    catalog,
    credits,
    idempotency,
    media_store,
    plans,
    provider_inputs,
    system_settings,
)
from ecomvideo.services.video_lifecycle import (
    POLL_AFTER_SECONDS,
    StepState,
    close_open_steps,
    execution_arn,
    execution_name,
    progress_percent,
    queue_position,
    transition,
)
from ecomvideo.services.video_lifecycle import (
    attempt_of as current_attempt,
)
from ecomvideo.settings import get_settings

IDEMPOTENCY_SCOPE = "POST /v1/videos"
READ_ALL_ROLES = (UserRole.ADMIN, UserRole.MODERATOR, UserRole.SUPPORT)
RESOLUTION_RANK = {"720p": 1, "1080p": 2, "4k": 3}
RATIOS = {"9:16": (9, 16), "1:1": (1, 1), "16:9": (16, 9), "4:5": (4, 5)}
MIN_SIDE, MAX_SIDE = 64, 3840
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
DOWNLOAD_URL_TTL = 3600
PREMIUM_FEATURE = "Premium Templates"


# ---------------------------------------------------------------------------- resolution


def class_resolution(klass: str, aspect_ratio: str) -> str:
    """'1080p' + '9:16' -> '1080x1920'; the long side fixed by the class, both sides even."""
    rw, rh = RATIOS[aspect_ratio]
    long_side = CLASS_LONG_SIDE[klass]
    if klass == "1080p" and aspect_ratio in {"1:1", "4:5"}:
        long_side = 1080 if aspect_ratio == "1:1" else 1350
    if klass == "720p" and aspect_ratio in {"1:1", "4:5"}:
        long_side = 720 if aspect_ratio == "1:1" else 900
    if klass == "4k" and aspect_ratio in {"1:1", "4:5"}:
        long_side = 2160 if aspect_ratio == "1:1" else 2700
    if rw >= rh:
        width, height = long_side, long_side * rh // rw
    else:
        width, height = long_side * rw // rh, long_side
    return f"{width - width % 2}x{height - height % 2}"


def normalise_resolution(resolution: str, aspect_ratio: str) -> str:
    """Validate 'WxH' against the aspect ratio (exact, even sides) or expand a class."""
    text = resolution.lower().strip()
    if text in CLASS_LONG_SIDE:
        return class_resolution(text, aspect_ratio)
    try:
        width, height = (int(p) for p in text.split("x", 1))
    except ValueError:
        raise _invalid("resolution", "must look like 1080x1920 or 720p/1080p/4k") from None
    rw, rh = RATIOS[aspect_ratio]
    if width * rh != height * rw:
        raise _invalid("resolution", f"{width}x{height} is not {aspect_ratio}")
    if (
        width % 2
        or height % 2
        or not (min(width, height) >= MIN_SIDE and max(width, height) <= MAX_SIDE)
    ):
        raise _invalid("resolution", f"sides must be even and between {MIN_SIDE} and {MAX_SIDE}")
    return f"{width}x{height}"


_invalid = provider_inputs.invalid  # a 422 for one field


# ---------------------------------------------------------------------------- plans


def _allows_premium(plan: SubscriptionPlan) -> bool:
    features = plan.features or []
    return isinstance(features, list) and PREMIUM_FEATURE in features


# ---------------------------------------------------------------------------- preparation


@dataclass
class Prepared:
    """A validated request with every default applied (what will be stored)."""

    input_type: VideoInputType
    title: str
    description: str | None
    text_prompt: str
    template: VideoTemplate | None
    category_id: uuid.UUID | None
    tags: list[str]
    style: str | None
    duration_seconds: int
    aspect_ratio: str
    resolution: str
    provider: str
    image_url: str | None
    product_url: str | None
    variables: dict[str, str] = field(default_factory=dict)
    cost: int = 0
    auto_render: bool = True
    more_images: list[str] = field(default_factory=list)


def available_providers() -> set[str]:
    """Providers this deployment can run (Freepik needs a key, Local always works)."""
    try:
        from ecomvideo.providers import available_providers as registry_available

        return set(registry_available())
    except ImportError:  # pragma: no cover - registry not present
        pass
    settings = get_settings()
    names = {"Local"}
    if settings.freepik_api_key or settings.freepik_secret_arn:
        names.add("Freepik")
    return names


def default_provider() -> str:
    choice = get_settings().video_provider
    if choice.lower() == "auto":
        return "Freepik" if "Freepik" in available_providers() else "Local"
    return choice


def prepare(session: Session, user_id: uuid.UUID, body: schemas.VideoCreate) -> Prepared:
    """Apply defaults (request, then preferences, then template), check plan limits, price."""
    entitled = plans.entitlement(session, user_id)
    if not entitled.can_generate:
        raise PaymentRequired(
            "Your last payment failed; update your payment method to create videos again."
        )
    plan = entitled.plan
    prefs = session.scalar(select(UserPreferences).where(UserPreferences.user_id == user_id))
    template = catalog.get_template(session, body.template_id) if body.template_id else None
    if template is not None and template.is_premium and not _allows_premium(plan):
        raise PlanLimitExceeded(
            f"The template '{template.name}' is premium; the {plan.name} plan does not include "
            "premium templates.",
            limit="premium_templates",
            allowed=False,
            requested=True,
        )

    aspect_ratio = body.aspect_ratio or _first(
        prefs and prefs.default_aspect_ratio, template and template.aspect_ratio, "9:16"
    )
    if aspect_ratio not in RATIOS:
        aspect_ratio = "9:16"
    max_class = (plan.max_resolution or "1080p").lower()
    if body.resolution:
        resolution = normalise_resolution(body.resolution, aspect_ratio)
    else:
        # A default must never trip a plan limit: use its class, capped at the plan's maximum.
        default = _first(
            prefs and prefs.default_video_resolution, template and template.resolution, "1080p"
        )
        klass = credits.resolution_class(default)
        if RESOLUTION_RANK.get(klass, 2) > RESOLUTION_RANK.get(max_class, 2):
            klass = max_class
        resolution = class_resolution(klass, aspect_ratio)
    requested_class = credits.resolution_class(resolution)
    if RESOLUTION_RANK.get(requested_class, 2) > RESOLUTION_RANK.get(max_class, 2):
        raise PlanLimitExceeded(
            f"The {plan.name} plan allows up to {max_class}; {resolution} is {requested_class}.",
            limit="max_resolution",
            allowed=max_class,
            requested=requested_class,
        )

    max_duration = int(plan.max_video_duration or 15)
    if body.duration_seconds is not None:
        duration = body.duration_seconds
    else:
        duration = min(
            int(
                _first(
                    prefs and prefs.default_video_duration,
                    template and template.default_duration,
                    5,
                )
            ),
            max_duration,
        )
    if duration > max_duration:
        raise PlanLimitExceeded(
            f"The {plan.name} plan allows videos up to {max_duration} s.",
            limit="max_video_duration",
            allowed=max_duration,
            requested=duration,
        )

    available = available_providers()
    allowed_providers = list(plan.ai_providers or ["Local"])
    if body.provider:
        provider = body.provider
        if provider not in allowed_providers:
            raise PlanLimitExceeded(
                f"The {plan.name} plan does not include the {provider} provider.",
                limit="ai_providers",
                allowed=allowed_providers,
                requested=provider,
            )
        if provider not in available:
            raise _invalid("provider", f"{provider} is not available right now")
    else:
        preferred = prefs.preferred_ai_provider if prefs else None
        candidates = [preferred, default_provider(), "Local"]
        provider = next(
            p for p in candidates if p and p in available and p in [*allowed_providers, "Local"]
        )

    variables = {k: v for k, v in body.variables.items()}
    prompt_parts = []
    if template is not None:
        prompt_parts.append(catalog.render_prompt(template.prompt_template, variables))
    if body.text_prompt:
        prompt_parts.append(body.text_prompt)
    title = body.title or variables.get("product_name") or (template.name if template else None)
    if not prompt_parts:
        subject = title or (str(body.product_url) if body.product_url else "the product")
        prompt_parts.append(f"Marketing video for {subject}")
    text_prompt = " ".join(prompt_parts)
    if len(text_prompt) > 2000:
        raise _invalid("text_prompt", "the prompt (with the template) exceeds 2000 characters")
    title = (title or text_prompt[:60].rstrip() or "Untitled video")[:200]

    image_url = None
    more_images = [
        _upload_reference(user_id, key, "more_upload_keys") for key in body.more_upload_keys
    ]
    if body.input_type is VideoInputType.IMAGE:
        image_url = _image_reference(user_id, body, provider)

    category_id = catalog.resolve_category(session, body.category) if body.category else None
    if category_id is None and template is not None:
        category_id = template.category_id

    cost = credits.quote(
        session, duration_seconds=duration, resolution=resolution, provider=provider
    )
    return Prepared(
        input_type=body.input_type,
        title=title,
        description=body.description,
        text_prompt=text_prompt,
        template=template,
        category_id=category_id,
        tags=catalog.normalise_tags(body.tags),
        style=body.style or _template_style(template),
        duration_seconds=duration,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        provider=provider,
        image_url=image_url,
        product_url=str(body.product_url) if body.product_url else None,
        variables=variables,
        cost=cost,
        auto_render=body.auto_render,
        more_images=more_images,
    )


def _first(*values: Any) -> Any:
    return next(v for v in values if v)


def _template_style(template: VideoTemplate | None) -> str | None:
    if template is None or not template.style_settings:
        return None
    palette = template.style_settings.get("palette")
    return str(palette)[:100] if palette else None


def upload_prefix(user_id: uuid.UUID) -> str:
    return f"users/{user_id}/"


def _image_reference(user_id: uuid.UUID, body: schemas.VideoCreate, provider: str) -> str:
    """The image of an Image video: our uploads bucket (checked now) or an https URL."""
    if body.image_url:
        # Checked against the model's limits (provider_inputs) before credits are held.
        if limits := provider_inputs.limits_for(provider):
            provider_inputs.check_remote(str(body.image_url), limits, "image_url")
        return str(body.image_url)
    return _upload_reference(user_id, body.upload_key or "", "upload_key", provider)


def _upload_reference(
    user_id: uuid.UUID, key: str, field_name: str, provider: str | None = None
) -> str:
    """``s3://`` URI of one of the user's uploads, checked to exist and be an image (and, with
    ``provider``, to fit that provider's image-to-video model)."""
    key = key.strip()
    if not key.startswith(upload_prefix(user_id)) or ".." in key:
        raise _invalid(field_name, "unknown upload")
    bucket = get_settings().uploads_bucket
    try:
        head = aws.s3().head_object(Bucket=bucket, Key=key)
    except Exception as exc:  # botocore ClientError (404) or a transport error
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in {"404", "NoSuchKey", "NotFound", "403"}:
            raise _invalid(field_name, "the upload was not found; PUT the file first") from exc
        raise ServiceUnavailable("Storage is not reachable; try again.") from exc
    if (
        head.get("ContentType") not in UPLOAD_TYPES
        or head.get("ContentLength", 0) > UPLOAD_MAX_BYTES
    ):
        raise _invalid(field_name, "the upload must be a JPEG, PNG or WebP up to 10 MB")
    if limits := provider_inputs.limits_for(provider):
        provider_inputs.check_upload(bucket, key, limits, field_name)
    return f"s3://{bucket}/{key}"


# ---------------------------------------------------------------------------- quote / create


def quote(session: Session, user_id: uuid.UUID, body: schemas.VideoCreate) -> schemas.Quote:
    """The cost of a request as it would be created now; creates nothing."""
    from ecomvideo.media import storyboard as sb
    from ecomvideo.services import storyboards

    prepared = prepare(session, user_id, body)
    story = storyboards.story_input(
        session,
        title=prepared.title,
        prompt=prepared.text_prompt,
        variables=prepared.variables,
        style=prepared.style,
        image_url=prepared.image_url,
        more_images=prepared.more_images,
    )
    board = sb.build(
        story, float(prepared.duration_seconds), storyboards.template_spec(prepared.template)
    )
    return schemas.Quote(
        cost=prepared.cost,
        balance=credits.balance(session, user_id),
        duration_seconds=prepared.duration_seconds,
        resolution=prepared.resolution,
        aspect_ratio=prepared.aspect_ratio,
        provider=prepared.provider,
        storyboard=storyboards.to_schema(board),
    )


def _insert_video(session: Session, user_id: uuid.UUID, prepared: Prepared) -> Video:
    request_meta: dict[str, Any] = {
        "attempt": 1,
        "cost": prepared.cost,
        "hasImage": prepared.input_type is VideoInputType.IMAGE,
    }
    if correlation_id := logger.get_correlation_id():
        # The request that created the video: the execution, its worker steps and the provider
        # webhooks log under it (pipeline.adopt_correlation_id).
        request_meta["correlationId"] = correlation_id
    if prepared.variables:
        request_meta["variables"] = prepared.variables
    if prepared.product_url:
        request_meta["productUrl"] = prepared.product_url
    if not prepared.auto_render:
        request_meta["awaitingConfirmation"] = True
    if prepared.more_images:
        request_meta["moreImages"] = prepared.more_images
    video = Video(
        id=uuid.uuid4(),
        user_id=user_id,
        category_id=prepared.category_id,
        template_id=prepared.template.id if prepared.template else None,
        title=prepared.title,
        description=prepared.description,
        text_prompt=prepared.text_prompt,
        input_type=prepared.input_type,
        status=VideoStatus.PENDING,
        resolution=prepared.resolution,
        aspect_ratio=prepared.aspect_ratio,
        duration_seconds=prepared.duration_seconds,
        style=prepared.style,
        image_url=prepared.image_url,
        ai_provider=prepared.provider,
        meta={"request": request_meta},
        created_by=str(user_id),
    )
    session.add(video)
    session.flush()
    if prepared.tags:
        catalog.set_video_tags(session, video.id, prepared.tags)
    return video


def _warn_when_credits_low(session: Session, user_id: uuid.UUID) -> None:
    """Tell the customer's webhooks (credits.low) when this hold left the balance low."""
    from ecomvideo.services import outbound_webhooks

    outbound_webhooks.emit_credits_low(session, user_id, credits.balance(session, user_id))


def submit(
    user_id: uuid.UUID, body: schemas.VideoCreate, *, idempotency_key: str | None = None
) -> tuple[schemas.VideoAccepted, bool]:
    """Create a video and start its pipeline. Returns (response, replayed).

    Owns its transactions (see the module docstring).
    """
    key = idempotency.validate_key(idempotency_key)
    body_hash = idempotency.request_hash(body.model_dump(mode="json"))
    with transaction() as session:
        if system_settings.get(session, "app.maintenance_mode", False):
            raise ServiceUnavailable("New videos are paused for maintenance; try again soon.")
        if key is not None:
            replay = idempotency.claim(session, user_id, IDEMPOTENCY_SCOPE, key, body_hash)
            if replay is not None:
                return _replayed(session, replay), True
        prepared = prepare(session, user_id, body)
        video = _insert_video(session, user_id, prepared)
        credits.hold(session, user_id, video.id, prepared.cost, attempt=1)
        _warn_when_credits_low(session, user_id)
        accepted = schemas.VideoAccepted(id=video.id, status=video.status, cost=prepared.cost)
        if key is not None:
            idempotency.complete(
                session,
                user_id,
                IDEMPOTENCY_SCOPE,
                key,
                resource_id=video.id,
                status_code=202,
                response=accepted.model_dump(mode="json"),
            )
        start_input = _execution_input(video, attempt=1)
    if not prepared.auto_render:
        return accepted, False  # POST /v1/videos/{id}/render starts it
    status = start_execution(video.id, user_id, start_input, attempt=1)
    return accepted.model_copy(update={"status": status}), False


def awaiting_confirmation(video: Video) -> bool:
    """Created with ``auto_render: false`` and not rendered yet."""
    request = (video.meta or {}).get("request") or {}
    return video.status is VideoStatus.PENDING and bool(request.get("awaitingConfirmation"))


def render(principal: Principal, video_id: uuid.UUID) -> schemas.VideoAccepted:
    """Confirm a video created with ``auto_render: false``: start its pipeline (once).

    The credits were held at creation; a second call answers 409.
    """
    with transaction() as session:
        video = owned_video(session, principal, video_id, write=True, lock=True)
        if not awaiting_confirmation(video):
            raise Conflict("The video is not waiting for confirmation.")
        request = dict((video.meta or {}).get("request") or {})
        request.pop("awaitingConfirmation", None)
        video.meta = {**(video.meta or {}), "request": request}
        start_input = _execution_input(video, attempt=current_attempt(video))
        cost = int(request.get("cost", 0))
        user_id = video.user_id
        attempt = current_attempt(video)
    status = start_execution(video_id, user_id, start_input, attempt=attempt)
    return schemas.VideoAccepted(id=video_id, status=status, cost=cost)


def _replayed(session: Session, replay: idempotency.Replay) -> schemas.VideoAccepted:
    stored = schemas.VideoAccepted.model_validate(replay.response or {})
    video = session.get(Video, replay.resource_id) if replay.resource_id else None
    # The current status is more useful to the client than the one stored at creation.
    return stored.model_copy(update={"status": video.status}) if video else stored


def _execution_input(video: Video, *, attempt: int) -> dict[str, Any]:
    request = (video.meta or {}).get("request", {})
    return {
        # The correlation id of the request that started this attempt (API Gateway request
        # id): the state machine copies it into every step message. The video id when there
        # is none (the key must exist for "$$.Execution.Input.correlationId").
        "correlationId": request.get("correlationId") or str(video.id),
        "videoId": str(video.id),
        "userId": str(video.user_id),
        "inputType": str(video.input_type),
        "hasImage": bool(request.get("hasImage")),
        "attempt": attempt,
    }


def start_execution(
    video_id: uuid.UUID, user_id: uuid.UUID, start_input: dict[str, Any], *, attempt: int
) -> VideoStatus:
    """StartExecution (name = video id, or '<id>-<attempt>' for retries); on failure the video
    is marked Failed and its hold released. Returns the video's status afterwards."""
    settings = get_settings()
    try:
        if not settings.state_machine_arn:
            raise RuntimeError("STATE_MACHINE_ARN is not configured")
        aws.stepfunctions().start_execution(
            stateMachineArn=settings.state_machine_arn,
            name=execution_name(video_id, attempt),
            input=json.dumps(start_input),
        )
        return VideoStatus.PENDING
    except Exception as exc:
        if type(exc).__name__ == "ExecutionAlreadyExists":
            return VideoStatus.PENDING
        logger.exception("StartExecution failed", extra={"video_id": str(video_id)})
        with transaction() as session:
            video = session.get(Video, video_id, with_for_update=True)
            if video is not None and not video.status.is_terminal:
                transition(video, VideoStatus.FAILED)
                video.error_message = (
                    "The video pipeline could not be started; no credits were used."
                )
            credits.release(session, user_id, video_id)
        return VideoStatus.FAILED


# ---------------------------------------------------------------------------- library


def _visible(principal: Principal) -> Any:
    if principal.has_any(*READ_ALL_ROLES):
        return True
    return Video.user_id == principal.user_id


def owned_video(
    session: Session,
    principal: Principal,
    video_id: uuid.UUID,
    *,
    write: bool = False,
    lock: bool = False,
) -> Video:
    """The video if the caller may see it (writes: only the owner); else 404, never 403."""
    stmt = select(Video).where(Video.id == video_id)
    stmt = (
        stmt.where(Video.user_id == principal.user_id) if write else stmt.where(_visible(principal))
    )
    if lock:
        stmt = stmt.with_for_update()
    video = session.scalar(stmt)
    if video is None:
        raise NotFound("No such video.")
    return video


@dataclass(frozen=True)
class ListFilters:
    status: VideoStatus | None = None
    category: str | None = None
    tag: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str | None = None
    all_users: bool = False

    def __post_init__(self) -> None:
        # Timestamps are naive UTC in the database.
        for name in ("created_from", "created_to"):
            if (value := getattr(self, name)) is not None:
                object.__setattr__(self, name, clock.naive_utc(value))


def _list_statement(session: Session, principal: Principal, filters: ListFilters) -> Select:
    stmt = select(Video)
    if filters.all_users and principal.has_any(*READ_ALL_ROLES):
        pass
    else:
        stmt = stmt.where(Video.user_id == principal.user_id)
    if filters.status is not None:
        stmt = stmt.where(Video.status == filters.status)
    if filters.category:
        stmt = stmt.where(Video.category_id == catalog.resolve_category(session, filters.category))
    if filters.tag:
        tag_name = catalog.normalise_tags([filters.tag])
        stmt = stmt.where(
            Video.id.in_(
                select(video_tag_mappings.c.video_id)
                .join(VideoTag, VideoTag.id == video_tag_mappings.c.tag_id)
                .where(VideoTag.name == (tag_name[0] if tag_name else ""))
            )
        )
    if filters.created_from is not None:
        stmt = stmt.where(Video.created_at >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(Video.created_at < filters.created_to)
    if filters.q:
        # ILIKE is served by the pg_trgm GIN indexes when the extension is installed.
        pattern = (
            "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            or_(
                Video.title.ilike(pattern, escape="\\"),
                Video.description.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def list_videos(
    session: Session,
    principal: Principal,
    filters: ListFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> schemas.VideoPage:
    """Newest first, keyset-paginated; two queries per page whatever its size."""
    size = clamp_limit(limit)
    stmt = apply_keyset(
        _list_statement(session, principal, filters),
        Video.created_at,
        Video.id,
        decode_cursor(cursor),
    ).limit(size + 1)
    rows, next_cursor = page(list(session.scalars(stmt)), size)
    tags = catalog.tags_for_videos(session, [v.id for v in rows])
    return schemas.VideoPage(
        items=[_summary(v, tags.get(v.id, [])) for v in rows], next_cursor=next_cursor
    )


def _thumbnail(video: Video) -> str | None:
    if not video.thumbnail_url:
        return None
    try:
        bucket, key = aws.split_s3_uri(video.thumbnail_url)
    except ValueError:
        return video.thumbnail_url
    return aws.presigned_get(bucket, key, expires_in=DOWNLOAD_URL_TTL)


def _summary(video: Video, tags: list[str]) -> schemas.VideoSummary:
    return schemas.VideoSummary(
        id=video.id,
        title=video.title,
        description=video.description,
        status=video.status,
        input_type=video.input_type,
        aspect_ratio=video.aspect_ratio,
        resolution=video.resolution,
        duration_seconds=video.duration_seconds,
        category_id=video.category_id,
        template_id=video.template_id,
        tags=tags,
        is_public=bool(video.is_public),
        ai_provider=video.ai_provider,
        thumbnail_url=_thumbnail(video),
        created_at=video.created_at,
        completed_at=video.completed_at,
    )


def poll_headers(video_id: uuid.UUID | None, status: VideoStatus) -> dict[str, str]:
    """``Location`` of a started video and, while it runs, ``Retry-After`` (poll hint)."""
    headers = {"Location": f"/v1/videos/{video_id}"} if video_id else {}
    wait = POLL_AFTER_SECONDS.get(status)
    if wait is not None:
        headers["Retry-After"] = str(wait)
    return headers


def accepted_headers(accepted: schemas.VideoAccepted, *, replayed: bool = False) -> dict[str, str]:
    """``poll_headers`` of a video just started (create, retry, render); an Idempotency-Key
    replay says so (``Idempotent-Replayed``)."""
    headers = poll_headers(accepted.id, accepted.status)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return headers


def detail(session: Session, principal: Principal, video_id: uuid.UUID) -> schemas.VideoDetail:
    video = owned_video(session, principal, video_id)
    tags = catalog.tags_for_videos(session, [video.id])[video.id]
    step, shown_step, provider_progress, position = None, None, None, None
    if not video.status.is_terminal:
        current = session.scalar(
            select(PipelineStep)
            .where(PipelineStep.video_id == video.id)
            .order_by(PipelineStep.attempt.desc(), PipelineStep.created_at.desc())
            .limit(1)
        )
        if current is not None:
            step = shown_step = current.step
            provider_progress = (current.output or {}).get("provider_progress")
            if current.state == StepState.QUEUED:
                shown_step, position = "Queued", queue_position(session, current)
    download_url = None
    if video.status is VideoStatus.COMPLETED and video.video_url:
        bucket, key = aws.split_s3_uri(video.video_url)
        download_url = aws.presigned_get(bucket, key, expires_in=DOWNLOAD_URL_TTL)
    meta = video.meta or {}
    metadata = (
        meta  # validated (and anything else dropped) as schemas.VideoMetadata
        if video.status is VideoStatus.COMPLETED and "width" in meta
        else None
    )
    return schemas.VideoDetail(
        **_summary(video, tags).model_dump(),
        text_prompt=video.text_prompt,
        style=video.style,
        progress_step=shown_step,
        progress_percent=progress_percent(video.status, step, provider_progress),
        queue_position=position,
        poll_after_seconds=POLL_AFTER_SECONDS.get(video.status),
        error_message=video.error_message,
        download_url=download_url,
        download_url_expires_in=DOWNLOAD_URL_TTL if download_url else None,
        file_size_bytes=video.file_size_bytes or 0,
        download_count=video.download_count or 0,
        view_count=video.view_count or 0,
        generation_cost_credits=video.generation_cost_credits or 0,
        metadata=metadata,
        user_id=video.user_id,
        updated_at=video.updated_at,
    )


def update_video(
    session: Session, principal: Principal, video_id: uuid.UUID, changes: schemas.VideoUpdate
) -> None:
    video = owned_video(session, principal, video_id, write=True, lock=True)
    data = changes.model_dump(exclude_unset=True)
    if data.get("title"):
        video.title = data["title"]
    if "description" in data:
        video.description = data["description"]
    if "category" in data:
        video.category_id = catalog.resolve_category(session, data["category"])
    if "is_public" in data and data["is_public"] is not None:
        video.is_public = data["is_public"]
    if data.get("tags") is not None:
        catalog.set_video_tags(session, video.id, data["tags"])
    video.updated_by = str(principal.user_id)
    session.flush()


def record_download(session: Session, principal: Principal, video_id: uuid.UUID) -> str:
    """Count the download atomically and return a presigned URL (1 h) to redirect to."""
    row = session.execute(
        update(Video)
        .where(Video.id == video_id, _visible(principal), Video.status == VideoStatus.COMPLETED)
        .values(download_count=func.coalesce(Video.download_count, 0) + 1)
        .returning(Video.video_url, Video.title)
    ).first()
    if row is None or not row.video_url:
        owned_video(session, principal, video_id)  # 404 for others' ids
        raise Conflict("The video is not ready to download yet.")
    bucket, key = aws.split_s3_uri(row.video_url)
    safe_name = "".join(c for c in row.title if c.isalnum() or c in " -_")[:60].strip() or "video"
    return aws.presigned_get(bucket, key, expires_in=DOWNLOAD_URL_TTL, filename=f"{safe_name}.mp4")


# ---------------------------------------------------------------------------- cancel, retry, delete


def _stop_execution(video_id: uuid.UUID, attempt: int, cause: str) -> None:
    settings = get_settings()
    if not settings.state_machine_arn:
        return
    try:
        aws.stepfunctions().stop_execution(
            executionArn=execution_arn(settings.state_machine_arn, video_id, attempt),
            error="Cancelled",
            cause=cause,
        )
    except Exception:
        # The worker ignores steps of cancelled videos and ends their executions itself.
        logger.warning("StopExecution failed", extra={"video_id": str(video_id)})


def cancel(principal: Principal, video_id: uuid.UUID) -> VideoStatus:
    """Cancel a video in progress: status Cancelled, hold released, execution stopped.

    Idempotent: cancelling a Cancelled video answers the same; Completed/Failed -> 409.
    """
    with transaction() as session:
        video = owned_video(session, principal, video_id, write=True, lock=True)
        if video.status is VideoStatus.CANCELLED:
            return video.status
        if video.status.is_terminal:
            raise Conflict(f"The video is already {video.status}.")
        transition(video, VideoStatus.CANCELLED)
        video.error_message = None
        credits.release(session, video.user_id, video.id)
        close_open_steps(session, video.id, "The video was cancelled.")
        attempt = current_attempt(video)
        user_id = video.user_id
    _stop_execution(video_id, attempt, "cancelled by the user")
    media_store.discard_unfinished(user_id, video_id)  # a late step writes nothing (pipeline)
    return VideoStatus.CANCELLED


def retry(principal: Principal, video_id: uuid.UUID) -> schemas.VideoAccepted:
    """Run a Failed video again: new hold (attempt + 1), new execution '<id>-<attempt>'."""
    with transaction() as session:
        video = owned_video(session, principal, video_id, write=True, lock=True)
        if video.status is not VideoStatus.FAILED:
            raise Conflict("Only failed videos can be retried.")
        attempt = current_attempt(video) + 1
        cost = credits.quote(
            session,
            duration_seconds=video.duration_seconds,
            resolution=video.resolution,
            provider=video.ai_provider or "Local",
        )
        credits.hold(session, video.user_id, video.id, cost, attempt=attempt)
        transition(video, VideoStatus.PENDING, retry=True)
        video.error_message = None
        request = dict((video.meta or {}).get("request") or {})
        request.update(attempt=attempt, cost=cost)
        if correlation_id := logger.get_correlation_id():
            request["correlationId"] = correlation_id  # the retry request starts this attempt
        video.meta = {**_kept_meta(video), "request": request}
        start_input = _execution_input(video, attempt=attempt)
        user_id = video.user_id
    status = start_execution(video_id, user_id, start_input, attempt=attempt)
    return schemas.VideoAccepted(id=video_id, status=status, cost=cost)


def _kept_meta(video: Video) -> dict[str, Any]:
    """What a new attempt keeps of the metadata: the user's edited storyboard."""
    from ecomvideo.services.storyboards import STORYBOARD_KEY

    meta = video.meta or {}
    return {STORYBOARD_KEY: meta[STORYBOARD_KEY]} if STORYBOARD_KEY in meta else {}


def delete(principal: Principal, video_id: uuid.UUID) -> None:
    """Delete a video, its tags' counts, its S3 objects; an unfinished one is cancelled first."""
    with transaction() as session:
        video = owned_video(session, principal, video_id, write=True, lock=True)
        running = not video.status.is_terminal
        attempt = current_attempt(video)
        if running:
            credits.release(session, video.user_id, video.id)
        prefix = media_store.media_prefix(video.user_id, video.id)
        catalog.untag_video(session, video.id)
        session.delete(video)
        session.flush()
    if running:
        _stop_execution(video_id, attempt, "deleted by the user")
    media_store.delete_prefix(get_settings().videos_bucket, prefix)


# ---------------------------------------------------------------------------- uploads / credits


def create_upload(user_id: uuid.UUID, request: schemas.UploadRequest) -> schemas.UploadTicket:
    """A presigned PUT for an image under the user's prefix of the uploads bucket."""
    if request.size_bytes > UPLOAD_MAX_BYTES:
        raise _invalid("size_bytes", f"images are limited to {UPLOAD_MAX_BYTES} bytes")
    key = f"{upload_prefix(user_id)}{uuid.uuid4().hex}.{UPLOAD_TYPES[request.content_type]}"
    expires_in = 900
    url = aws.presigned_put(
        get_settings().uploads_bucket,
        key,
        content_type=request.content_type,
        content_length=request.size_bytes,
        expires_in=expires_in,
    )
    return schemas.UploadTicket(
        upload_url=url,
        upload_key=key,
        headers={"Content-Type": request.content_type},
        expires_in=expires_in,
        max_bytes=UPLOAD_MAX_BYTES,
    )


def credits_summary(
    session: Session, user_id: uuid.UUID, cursor: str | None = None, limit: int | None = None
) -> schemas.CreditsOut:
    """Balance and grants (bounded: one row per grant) and one page of the ledger's movements,
    newest first (``next_cursor`` continues it)."""
    now = clock.utcnow()
    size = clamp_limit(limit)
    rows, next_cursor = page(
        credits.movements(session, user_id, limit=size + 1, after=decode_cursor(cursor)), size
    )
    grant_rows = credits.grants(session, user_id)
    return schemas.CreditsOut(
        balance=credits.balance(session, user_id),
        grants=[
            schemas.GrantOut(
                id=g.id,
                source=str(g.source),
                amount=g.amount,
                used_amount=g.used_amount,
                remaining=(
                    g.amount - g.used_amount
                    if g.is_active and (g.expires_at is None or g.expires_at > now)
                    else 0
                ),
                expires_at=g.expires_at,
                is_active=bool(g.is_active),
                created_at=g.created_at,
            )
            for g in grant_rows
        ],
        movements=[
            schemas.MovementOut(
                id=m.id,
                kind=str(m.kind),
                amount=m.amount,
                video_id=m.video_id,
                usage_credit_id=m.usage_credit_id,
                reference=m.reference,
                created_at=m.created_at,
            )
            for m in rows
        ],
        next_cursor=next_cursor,
    )


__all__ = [
    "ListFilters",
    "Prepared",
    "cancel",
    "create_upload",
    "credits_summary",
    "delete",
    "detail",
    "list_videos",
    "normalise_resolution",
    "prepare",
    "quote",
    "record_download",
    "retry",
    "submit",
    "update_video",
]
