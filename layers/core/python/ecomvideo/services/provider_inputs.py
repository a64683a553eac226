"""A video's input image against the provider model's limits, checked at create.

Freepik's image-to-video models refuse a still under 300x300 px, outside the 1:2.5 .. 2.5:1
aspect ratios or over 10 MB (shared/reference/freepik-api.md); finding out minutes later at the
provider costs the user a failed video. ``videos.prepare`` checks the image before any credit
is held and answers 422 (problem+json, the field's pointer) instead: an upload by a ranged
read of its header in S3, an ``image_url`` by a GET bounded to the model's size limit through
the scraper's SSRF-safe fetcher (private addresses, odd ports and redirects to them refused).
"""

from __future__ import annotations

from typing import Any

from ecomvideo.clients import aws
from ecomvideo.errors import ServiceUnavailable, invalid_field

LIMITS: dict[str, dict[str, float]] = {
    "Freepik": {"min_side": 300, "min_ratio": 1 / 2.5, "max_ratio": 2.5, "max_bytes": 10 << 20}
}


def limits_for(provider: str | None) -> dict[str, float] | None:
    return LIMITS.get(provider) if provider else None


def check_upload(bucket: str, key: str, limits: dict[str, float], field_name: str) -> None:
    """An upload's dimensions against the model's limits (a ranged GET of its header)."""
    # lazy: header parsing loads only for uploaded-image checks
    from ecomvideo.image_size import HEADER_BYTES, image_size

    try:
        head = aws.s3().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{HEADER_BYTES - 1}")
        size = image_size(head["Body"].read())
    except Exception as exc:
        raise ServiceUnavailable("Storage is not reachable; try again.") from exc
    if size is None:
        raise invalid_field(field_name, "the upload is not a readable JPEG, PNG or WebP image")
    check_size(size, limits, field_name)


def check_remote(url: str, limits: dict[str, float], field_name: str) -> None:
    """A remote image, downloaded through the SSRF-safe fetcher up to the model's size limit
    (a larger one is refused while it downloads), against the model's limits."""
    # lazy: the fetcher and extractor (httpx, HTML parsing) load only for image_url videos
    from ecomvideo.image_size import image_size
    from ecomvideo.scraping import ScrapeError, TooLarge
    from ecomvideo.services import products

    most = int(limits.get("max_bytes") or 10 << 20)
    try:
        content, _ = products.fetch_image(url, max_bytes=most)
    except TooLarge as exc:
        raise invalid_field(field_name, f"the image is larger than {most >> 20} MB") from exc
    except ScrapeError as exc:
        raise invalid_field(
            field_name, f"the image could not be downloaded: {exc.message}"
        ) from exc
    size = image_size(content)
    if size is None:
        raise invalid_field(field_name, "the URL is not a readable JPEG, PNG or WebP image")
    check_size(size, limits, field_name)


def check_size(size: tuple[int, int], limits: dict[str, Any], field_name: str) -> None:
    width, height = size
    side = int(limits["min_side"])
    if min(width, height) < side:
        raise invalid_field(
            field_name,
            f"the image is {width}x{height} px; it must be at least {side}x{side} px",
        )
    if not limits["min_ratio"] <= width / height <= limits["max_ratio"]:
        raise invalid_field(
            field_name,
            f"the image is {width}x{height} px; its width-to-height ratio must be between"
            " 1:2.5 and 2.5:1",
        )
