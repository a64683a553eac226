"""The pipeline's files: the still a video is made from, provider assets copied to S3.

Keys follow ``services.media_store``; nothing is downloaded or written for a video that is no
longer active (``rows.ensure_active``).
"""

from __future__ import annotations

import uuid
from typing import Any

from ecomvideo.clients import aws
from ecomvideo.models import Video
from ecomvideo.providers.base import CLIP_MISSING
from ecomvideo.services import media_store
from ecomvideo.services.pipeline import rows
from ecomvideo.services.pipeline.results import StepContext, StepFailed
from ecomvideo.services.video_lifecycle import IMAGE
from ecomvideo.settings import get_settings

_IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def asset_key(video: Video, name: str) -> str:
    return media_store.media_key(video.user_id, video.id, name)


def put_asset(video_id: uuid.UUID, attempt: int, key: str, body: bytes, content_type: str) -> None:
    rows.ensure_active(video_id, attempt)
    aws.s3().put_object(
        Bucket=get_settings().videos_bucket, Key=key, Body=body, ContentType=content_type
    )


def get_object(bucket: str, key: str) -> bytes:
    return aws.s3().get_object(Bucket=bucket, Key=key)["Body"].read()


def source_image(ctx: StepContext) -> bytes:
    """The still the video is made from: generated this attempt, uploaded, or remote."""
    video = ctx.message
    generated = rows.step_output(video.video_id, video.attempt, IMAGE)
    if generated and generated.get("imageKey"):
        return get_object(get_settings().videos_bucket, generated["imageKey"])
    image_url = ctx.video.image_url
    if image_url and image_url.startswith("s3://"):
        bucket, key = aws.split_s3_uri(image_url)
        try:
            return get_object(bucket, key)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404"}:
                raise StepFailed("The uploaded image is no longer available.") from exc
            raise
    if image_url and image_url.startswith(("https://", "http://")):
        # Shop images may be plain http; the fetcher guards every address either way.
        return fetch_remote_image(image_url)
    raise StepFailed("There is no image to make the video from.")


def source_location(ctx: StepContext) -> tuple[str, str] | None:
    """``(bucket, key)`` of the still when it is in S3 (generated or uploaded), else ``None``."""
    generated = rows.step_output(ctx.message.video_id, ctx.message.attempt, IMAGE)
    if generated and generated.get("imageKey"):
        return get_settings().videos_bucket, str(generated["imageKey"])
    image_url = ctx.video.image_url
    if image_url and image_url.startswith("s3://"):
        return aws.split_s3_uri(image_url)
    return None


def fetch_remote_image(url: str) -> bytes:
    """Download a remote image (user-given or scraped) through the SSRF-safe fetcher."""
    # lazy: the HTML extractor and fetcher load only for Product videos
    from ecomvideo.scraping import ScrapeError
    from ecomvideo.services import products

    try:
        content, _ = products.fetch_image(url)
    except ScrapeError as exc:
        raise StepFailed(f"The image could not be downloaded: {exc.message}") from exc
    return content


def _asset_bytes(result: Any) -> bytes:
    """The result's bytes; a provider URL (expiring) is copied at once."""
    if result.asset:
        return bytes(result.asset)
    if result.asset_url:
        # lazy: httpx loads only when a remote image is fetched
        import httpx

        response = httpx.get(result.asset_url, timeout=60, follow_redirects=True)
        response.raise_for_status()
        return response.content
    raise StepFailed("The provider returned no file.", error="EmptyResult")


def store_provider_asset(video: Video, attempt: int, step: str, result: Any) -> dict[str, Any]:
    """Copy a finished provider asset into our bucket (its URLs expire); the step's output.

    Nothing is downloaded or written for a video that is no longer active (``ensure_active``).
    """
    rows.ensure_active(video.id, attempt)
    missing = result.metadata.get(CLIP_MISSING)
    if step != IMAGE and missing and not (result.asset or result.asset_url):
        # A clip provider's clip that could not be downloaded: Finalize composes the
        # storyboard with the hero scene on its photo (services.pipeline.compose).
        return {CLIP_MISSING: str(missing)}
    content = _asset_bytes(result)
    if step == IMAGE:
        content_type = result.content_type or "image/png"
        extension = _IMAGE_EXTENSIONS.get(content_type, "bin")
        key = asset_key(video, f"work/a{attempt}-image.{extension}")
        put_asset(video.id, attempt, key, content, content_type)
        return {"imageKey": key}
    key = asset_key(video, f"work/a{attempt}-render.mp4")
    put_asset(video.id, attempt, key, content, "video/mp4")
    return {"videoKey": key}
