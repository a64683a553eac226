"""The step handlers that call a provider: ScrapeProduct, GenerateImage, GenerateVideo.

The only code that knows the provider interface (``ecomvideo.providers``): requests are built
from the video, its product and storyboard, and the model chosen by template or plan.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ecomvideo.clients import aws
from ecomvideo.db import transaction
from ecomvideo.enums import ScrapingStatus
from ecomvideo.models import ProductData, Video, VideoTemplate
from ecomvideo.observability import logger
from ecomvideo.services import plans, storyboards
from ecomvideo.services.pipeline import assets
from ecomvideo.services.pipeline.results import (
    Output,
    Started,
    StepContext,
    StepFailed,
    StepResult,
    VideoNotActive,
    provider_for,
)
from ecomvideo.services.video_lifecycle import IMAGE, VIDEO
from ecomvideo.settings import get_settings


def _request(video: Video) -> dict[str, Any]:
    return dict((video.meta or {}).get("request") or {})


def _product(video: Video) -> Any:
    """The text on the video: from the scraped product when there is one, else the request."""
    # lazy: the provider registry (httpx, renderers) loads only in the step that calls a provider
    from ecomvideo.providers import ProductCard

    variables = _request(video).get("variables") or {}
    if video.product_data_id is not None:
        with transaction() as session:
            product = session.get(ProductData, video.product_data_id)
            if product is not None and product.name:
                price = f"{product.price} {product.currency}" if product.price else None
                original = (
                    f"{product.original_price} {product.currency}"
                    if product.original_price
                    else None
                )
                return ProductCard(
                    name=product.name[:200],
                    price=variables.get("price") or price,
                    original_price=original,
                    brand=product.brand,
                    tagline=variables.get("tagline"),
                )
    return ProductCard(
        name=(variables.get("product_name") or video.title)[:200],
        price=variables.get("price"),
        brand=variables.get("brand"),
        tagline=variables.get("tagline"),
    )


def _size(video: Video) -> tuple[int, int]:
    # lazy: PyAV/Pillow load only where a file is processed (webhook, sweeps import this)
    from ecomvideo.media.formats import frame_size

    return frame_size(video.aspect_ratio, video.resolution)


def image_step(ctx: StepContext) -> StepResult:
    # lazy: the provider registry (httpx, renderers) loads only in the step that calls a provider
    from ecomvideo.providers import ImageRequest

    video = ctx.video
    provider = provider_for(video)
    width, height = _size(video)
    options = _model_options(video, provider, IMAGE)
    result = provider.start_image(
        ImageRequest(
            prompt=video.text_prompt,
            aspect_ratio=video.aspect_ratio,
            width=width,
            height=height,
            style=video.style,
            product=_product(video),
            reference=_reference(ctx),
        ),
        **options,
    )
    if not result.is_completed:
        return Started(provider.name, str(result.task_id), _started_options(result))
    return Output(assets.store_provider_asset(video, ctx.message.attempt, IMAGE, result))


def video_step(ctx: StepContext) -> StepResult:
    # lazy: the provider registry (httpx, renderers) loads only in the step that calls a provider
    from ecomvideo.providers import VideoRequest
    from ecomvideo.services import scene_segments

    video = ctx.video
    provider = provider_for(video)
    width, height = _size(video)
    card = _product(video)
    # Remote providers may fetch our S3 copy through a short-lived presigned URL (Freepik
    # prefers it to megabytes of base64); every provider also gets the bytes.
    location = assets.source_location(ctx) if getattr(provider, "asynchronous", False) else None
    image_url = aws.presigned_get(*location, expires_in=3600) if location else None
    options = _model_options(video, provider, VIDEO)
    storyboard, images, music = storyboard_for(ctx, provider)
    seconds = float(video.duration_seconds)
    if getattr(provider, "clips", False):
        seconds = clip_seconds(ctx)
    result = provider.start_video(
        VideoRequest(
            storyboard=storyboard,
            images=images,
            segments=scene_segments.S3Segments(video) if storyboard else None,
            prompt=video.text_prompt,
            duration_seconds=seconds,
            aspect_ratio=video.aspect_ratio,
            width=width,
            height=height,
            image_bytes=assets.source_image(ctx),
            image_url=image_url,
            title=video.title,
            price_text=card.price,
            product=card,
            style=video.style,
            reference=_reference(ctx),
            music=music,
        ),
        **options,
    )
    if not result.is_completed:
        return Started(provider.name, str(result.task_id), _started_options(result))
    output = assets.store_provider_asset(video, ctx.message.attempt, VIDEO, result)
    for key in ("scenes", "music"):
        if result.metadata.get(key):
            output[key] = result.metadata[key]
    if result.thumbnail:
        output["thumbnailKey"] = assets.asset_key(video, f"work/a{ctx.message.attempt}-thumb.jpg")
        assets.put_asset(
            video.id,
            ctx.message.attempt,
            output["thumbnailKey"],
            bytes(result.thumbnail),
            "image/jpeg",
        )
    return Output(output)


class StoryboardInputs(NamedTuple):
    """What a storyboard renderer needs: the storyboard, its photos, its music bed's file
    (``media.audio.MusicSource``, ``None``: silent)."""

    board: dict[str, Any] | None
    images: tuple[bytes, ...]
    music: Any = None


def storyboard_for(ctx: StepContext, provider: Any) -> StoryboardInputs:
    """The storyboard, its photos and music for providers that compose scenes (``storyboards``).

    A photo that cannot be fetched is left out (its scenes fall back to designed cards); the
    video fails only when the one photo of an Image video is gone (``_source_image``). Music
    that cannot be read leaves the track silent (logged): it was checked at create.
    """
    if not getattr(provider, "storyboards", False):
        return StoryboardInputs(None, ())

    with transaction() as session:
        video = session.get(Video, ctx.video.id)
        if video is None:
            raise VideoNotActive()
        board = storyboards.for_video(session, video)
    images: list[bytes] = []
    for ref in board.images:
        try:
            if ref.startswith("s3://"):
                images.append(assets.get_object(*aws.split_s3_uri(ref)))
            else:
                images.append(assets.fetch_remote_image(ref))
        except Exception:
            logger.warning("storyboard image skipped", extra={"image": ref[:200]})
            images.append(b"")
    return StoryboardInputs(board.to_dict(), tuple(images), music_source(board.music))


def music_source(music: dict[str, str] | None) -> Any:
    """The file of a storyboard's ``music`` (a bundled loop or the user's upload) as a
    ``media.audio.MusicSource``; ``None`` without music or (logged) when it cannot be read."""
    if not music:
        return None
    # lazy: only videos with music read them (PyAV itself loads when the bed is made)
    from ecomvideo.media.audio import MusicSource
    from ecomvideo.media.music import MusicMissing, track_file

    try:
        if music.get("track"):
            return MusicSource(track_file(music["track"]), music["track"], seamless=True)
        return MusicSource(
            assets.get_object(get_settings().uploads_bucket, music["upload_key"]), "upload"
        )
    except (KeyError, OSError, MusicMissing) as exc:
        logger.warning("music skipped: silent track", extra={"music": music, "reason": str(exc)})
    except Exception:  # S3: the upload expired or storage failed
        logger.warning("music upload unreadable: silent track", extra={"music": music})
    return None


def clip_seconds(ctx: StepContext) -> float:
    """How long a clip provider's clip should be: the storyboard's clip (hero) scene, which it
    becomes (``services.pipeline.compose``); the provider rounds to the lengths it makes
    (Kling: 5 or 10 s). The whole video's length when the storyboard has no clip scene."""
    with transaction() as session:
        video = session.get(Video, ctx.video.id)
        if video is None:
            raise VideoNotActive()
        scene = storyboards.for_video(session, video).clip_scene
    return scene.duration if scene is not None else float(ctx.video.duration_seconds)


def _model_options(video: Video, provider: Any, step: str) -> dict[str, Any]:
    """``{"model": ...}`` for providers whose models are configurable, else ``{}``.

    Key ``<provider>_<image|video>_model`` (e.g. ``freepik_video_model``): the video template's
    ``style_settings`` wins over the plan's ``features`` (a JSON object, or list entries
    ``"freepik_video_model=kling-v2-5-pro"``); neither -> the provider's default (settings).
    """
    if not getattr(provider, "configurable_models", False):
        return {}
    key = f"{str(provider.name).lower()}_{'image' if step == IMAGE else 'video'}_model"

    with transaction() as session:
        template = session.get(VideoTemplate, video.template_id) if video.template_id else None
        model = config_value(template.style_settings if template else None, key)
        if model is None:
            model = config_value(plans.entitlement(session, video.user_id).plan.features, key)
    return {"model": model} if model else {}


def config_value(config: Any, key: str) -> str | None:
    """``key`` from a JSON object, or from ``"key=value"`` entries of a JSON list."""
    if isinstance(config, dict):
        value = config.get(key)
        return str(value) if value else None
    if isinstance(config, list):
        for entry in config:
            name, sep, value = str(entry).partition("=")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return None


def _started_options(result: Any) -> dict[str, Any]:
    """What polling a started task needs again (the model it was started with)."""
    model = (getattr(result, "metadata", None) or {}).get("model")
    return {"model": str(model)} if model else {}


def _reference(ctx: StepContext) -> str:
    """A stable id for the provider call (providers that support idempotent starts use it)."""
    return f"{ctx.message.video_id}:{ctx.message.attempt}:{ctx.message.step}"


def scrape_step(ctx: StepContext) -> StepResult:
    """Url input: scrape the product page; its primary image then feeds the video step."""
    # lazy: the fetcher and extractor (httpx, HTML parsing) load only for Product videos
    from ecomvideo.scraping import ScrapeError
    from ecomvideo.services import products

    with transaction() as session:
        video = session.get(Video, ctx.video.id)
        if video is None:
            raise VideoNotActive()
        try:
            product = products.scrape_for_video(session, video)
        except ScrapeError as exc:
            raise StepFailed(exc.message, error="ScrapeFailed") from exc
        ok = product.scraping_status is ScrapingStatus.SUCCESS
        output = {"hasImage": bool(product.main_image_url), "productDataId": str(product.id)}
        reason = product.error_message or "The product page could not be read."
    if not ok:  # raised after the commit, so the Failed product row is kept for the user
        raise StepFailed(reason, error="ScrapeFailed")
    return Output(output)
