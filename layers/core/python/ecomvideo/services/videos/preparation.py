"""A create request made concrete: resolution classes and checks, the providers this
deployment runs, uploaded images (checked against the provider's model), plan limits, defaults
from preferences and templates, and the price (``prepare``); presigned uploads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo import prompts
from ecomvideo.clients import aws
from ecomvideo.enums import VideoInputType
from ecomvideo.errors import (
    PaymentRequired,
    PlanLimitExceeded,
    invalid_field,
)
from ecomvideo.media.formats import CLASS_LONG_SIDE
from ecomvideo.models.billing import SubscriptionPlan
from ecomvideo.models.preferences import UserPreferences
from ecomvideo.models.videos import VideoTemplate
from ecomvideo.schemas import videos as schemas
from ecomvideo.services import plans, pricing, provider_inputs, tagging, video_formats
from ecomvideo.services.uploads import (
    AUDIO_MAX_BYTES,
    AUDIO_TYPES,
    music_choice,
    stored_upload,
    upload_prefix,
)
from ecomvideo.settings import get_settings

RESOLUTION_RANK = {"720p": 1, "1080p": 2, "4k": 3}
RATIOS = {"9:16": (9, 16), "1:1": (1, 1), "16:9": (16, 9), "4:5": (4, 5)}
MIN_SIDE, MAX_SIDE = 64, 3840
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
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
        raise invalid_field("resolution", "must look like 1080x1920 or 720p/1080p/4k") from None
    rw, rh = RATIOS[aspect_ratio]
    if width * rh != height * rw:
        raise invalid_field("resolution", f"{width}x{height} is not {aspect_ratio}")
    if (
        width % 2
        or height % 2
        or not (min(width, height) >= MIN_SIDE and max(width, height) <= MAX_SIDE)
    ):
        raise invalid_field(
            "resolution", f"sides must be even and between {MIN_SIDE} and {MAX_SIDE}"
        )
    return f"{width}x{height}"


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
    formats: list[str] = field(default_factory=list)
    music: dict[str, str] | None = None


def available_providers() -> set[str]:
    """Providers this deployment can run (Freepik needs a key, Local always works)."""
    try:
        # lazy: quoting in the API must not load the provider registry (httpx, renderers)
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
    template = tagging.get_template(session, body.template_id) if body.template_id else None
    if template is not None and template.is_premium and not _allows_premium(plan):
        raise PlanLimitExceeded(
            f"The template '{template.name}' is premium; the {plan.name} plan does not include "
            "premium templates.",
            limit="premium_templates",
            allowed=False,
            requested=True,
        )

    aspect_ratio = body.aspect_ratio or _first(
        body.formats and body.formats[0],
        prefs and prefs.default_aspect_ratio,
        template and template.aspect_ratio,
        "9:16",
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
        klass = pricing.resolution_class(default)
        if RESOLUTION_RANK.get(klass, 2) > RESOLUTION_RANK.get(max_class, 2):
            klass = max_class
        resolution = class_resolution(klass, aspect_ratio)
    requested_class = pricing.resolution_class(resolution)
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
    provider: str  # the request's choice, or a default from the user's or the plan's providers
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
            raise invalid_field("provider", f"{provider} is not available right now")
    else:
        preferred = prefs.preferred_ai_provider if prefs else None
        candidates = [preferred, default_provider(), "Local"]
        provider = next(
            p for p in candidates if p and p in available and p in [*allowed_providers, "Local"]
        )

    variables = {k: v for k, v in body.variables.items()}
    prompt_parts = []
    if template is not None:
        prompt_parts.append(prompts.render_prompt(template.prompt_template, variables))
    if body.text_prompt:
        prompt_parts.append(body.text_prompt)
    title = body.title or variables.get("product_name") or (template.name if template else None)
    if not prompt_parts:
        subject = title or (str(body.product_url) if body.product_url else "the product")
        prompt_parts.append(f"Marketing video for {subject}")
    text_prompt = " ".join(prompt_parts)
    if len(text_prompt) > 2000:
        raise invalid_field("text_prompt", "the prompt (with the template) exceeds 2000 characters")
    title = (title or text_prompt[:60].rstrip() or "Untitled video")[:200]

    image_url = None
    more_images = [
        upload_reference(user_id, key, "more_upload_keys") for key in body.more_upload_keys
    ]
    if body.input_type is VideoInputType.IMAGE:
        image_url = _image_reference(user_id, body, provider)
    music = music_choice(user_id, body.music)

    category_id = tagging.resolve_category(session, body.category) if body.category else None
    if category_id is None and template is not None:
        category_id = template.category_id

    formats = video_formats.wanted(aspect_ratio, body.formats)
    cost = video_formats.cost(
        session,
        duration_seconds=duration,
        resolution=resolution,
        provider=provider,
        formats=formats,
    )
    return Prepared(
        input_type=body.input_type,
        title=title,
        description=body.description,
        text_prompt=text_prompt,
        template=template,
        category_id=category_id,
        tags=tagging.normalise_tags(body.tags),
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
        formats=formats,
        music=music,
    )


def _first(*values: Any) -> Any:
    return next(v for v in values if v)


def _template_style(template: VideoTemplate | None) -> str | None:
    if template is None or not template.style_settings:
        return None
    palette = template.style_settings.get("palette")
    return str(palette)[:100] if palette else None


def _image_reference(user_id: uuid.UUID, body: schemas.VideoCreate, provider: str) -> str:
    """The image of an Image video: our uploads bucket (checked now) or an https URL."""
    if body.image_url:
        # Checked against the model's limits (provider_inputs) before credits are held.
        if limits := provider_inputs.limits_for(provider):
            provider_inputs.check_remote(str(body.image_url), limits, "image_url")
        return str(body.image_url)
    return upload_reference(user_id, body.upload_key or "", "upload_key", provider)


def upload_reference(
    user_id: uuid.UUID, key: str, field_name: str, provider: str | None = None
) -> str:
    """``s3://`` URI of one of the user's uploads, checked to exist and be an image (and, with
    ``provider``, to fit that provider's image-to-video model)."""
    bucket, key = stored_upload(
        user_id, key, field_name, UPLOAD_TYPES, UPLOAD_MAX_BYTES, "a JPEG, PNG or WebP up to 10 MB"
    )
    if limits := provider_inputs.limits_for(provider):
        provider_inputs.check_upload(bucket, key, limits, field_name)
    return f"s3://{bucket}/{key}"


def create_upload(user_id: uuid.UUID, request: schemas.UploadRequest) -> schemas.UploadTicket:
    """A presigned PUT for an image or an audio file under the user's prefix of the uploads
    bucket."""
    audio = request.content_type in AUDIO_TYPES
    most = AUDIO_MAX_BYTES if audio else UPLOAD_MAX_BYTES
    if request.size_bytes > most:
        kind = "audio files" if audio else "images"
        raise invalid_field("size_bytes", f"{kind} are limited to {most} bytes")
    extension = (AUDIO_TYPES if audio else UPLOAD_TYPES)[request.content_type]
    key = f"{upload_prefix(user_id)}{uuid.uuid4().hex}.{extension}"
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
        max_bytes=most,
    )
