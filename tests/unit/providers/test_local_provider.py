"""The Local provider: synchronous, real media, clear errors."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from ecomvideo.media.images import TITLE_CARD_MARK
from ecomvideo.media.probe import probe
from ecomvideo.providers import (
    ImageProvider,
    ImageRequest,
    InvalidProviderInput,
    ProductCard,
    ProviderFailure,
    ProviderTaskNotFound,
    VideoProvider,
    VideoRequest,
    failure_details,
)
from ecomvideo.providers.local import LocalProvider
from tests.unit.media.helpers_media import decode, luma_stddev, photo_bytes


@pytest.fixture
def local() -> LocalProvider:
    return LocalProvider()


def test_local_implements_both_interfaces_synchronously(local):
    assert isinstance(local, ImageProvider)
    assert isinstance(local, VideoProvider)
    assert local.name == "Local" and local.asynchronous is False


def test_image_step_makes_a_marked_title_card_of_the_requested_size(local):
    result = local.start_image(
        ImageRequest(
            prompt="Aurora Smart Lamp, only $49.99",
            aspect_ratio="4:5",
            width=216,
            height=270,
            product=ProductCard(name="Aurora Smart Lamp", price="$49.99", brand="Lumo"),
        )
    )

    assert result.status == "completed" and result.task_id is None
    assert result.content_type == "image/jpeg"
    card = Image.open(io.BytesIO(result.asset))
    assert card.size == (216, 270)
    assert TITLE_CARD_MARK in card.info["comment"]
    assert luma_stddev(card) > 15


def test_text_only_video_renders_a_title_card_movie(local):
    result = local.start_video(
        VideoRequest(
            prompt="Create a video for our Aurora Smart Lamp, only $49.99",
            duration_seconds=1.0,
            aspect_ratio="9:16",
            width=180,
            height=320,
        )
    )

    assert result.status == "completed"
    assert result.content_type == "video/mp4"
    out = decode(result.asset, keep=(15,))
    assert (out.width, out.height, out.codec, out.frame_count) == (180, 320, "h264", 30)
    assert luma_stddev(out.frames[0]) > 15
    assert Image.open(io.BytesIO(result.thumbnail)).format == "JPEG"


def test_image_video_matches_the_request_in_probe(local):
    result = local.start_video(
        VideoRequest(
            prompt="x",
            duration_seconds=2,
            aspect_ratio="1:1",
            width=160,
            height=160,
            image_bytes=photo_bytes((500, 400), "PNG"),
            title="Red Ball",
            price_text="$19.99",
        )
    )

    meta = probe(result.asset)
    assert (meta["width"], meta["height"], meta["codec"]) == (160, 160, "h264")
    assert abs(meta["duration"] - 2.0) < 0.1


@pytest.mark.parametrize("data", [b"not an image at all", b"\xff\xd8\xff\xe0" + b"\0" * 50, b""])
def test_unreadable_image_is_a_clear_provider_error(local, data):
    req = VideoRequest(
        prompt="x", duration_seconds=1, aspect_ratio="1:1", width=160, height=160, image_bytes=data
    )

    with pytest.raises(InvalidProviderInput) as info:
        local.start_video(req)
    message, retryable = failure_details(info.value)
    assert message.startswith("the product image could not be used")
    assert retryable is False
    assert info.value.status == 502 and isinstance(info.value, ProviderFailure)


def test_url_only_image_needs_a_fetcher(local):
    req = VideoRequest(
        prompt="x",
        duration_seconds=1,
        aspect_ratio="1:1",
        width=160,
        height=160,
        image_url="https://example.invalid/a.jpg",
    )
    with pytest.raises(InvalidProviderInput, match="needs the image"):
        local.start_video(req)

    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return photo_bytes((300, 300))

    result = LocalProvider(fetch_image=fetch).start_video(req)
    assert fetched == ["https://example.invalid/a.jpg"]
    assert result.status == "completed"


def test_local_has_no_tasks_to_poll(local):
    with pytest.raises(ProviderTaskNotFound):
        local.poll_video("abc")
    with pytest.raises(ProviderTaskNotFound):
        local.poll_image("abc")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"width": 181, "height": 320}, "even"),
        ({"width": 32, "height": 32}, "unsupported"),
        ({"duration_seconds": 0}, "duration"),
    ],
)
def test_bad_requests_are_refused_at_construction(kw, match):
    fields = {
        "prompt": "x",
        "duration_seconds": 1,
        "aspect_ratio": "9:16",
        "width": 180,
        "height": 320,
    } | kw
    with pytest.raises(InvalidProviderInput, match=match):
        VideoRequest(**fields)
