"""The ``Local`` provider: renders real media on this machine, synchronously, offline.

Image step: a designed title card (gradient, product name, price badge, call to action) as a
JPEG marked with ``TITLE_CARD_MARK``. Video step: a Ken Burns MP4 of the image with a text
overlay and fades; when the image is one of our title cards (mark present) the overlay is
skipped, the card already carries the text. It is the default provider without a Freepik key,
so ``make dev`` and the tests produce playable videos with no network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecomvideo.media.design import pick_palette, stable_hash
from ecomvideo.media.images import TITLE_CARD_MARK, MediaError, encode_jpeg, load_image
from ecomvideo.media.overlay import render_overlay
from ecomvideo.media.render import RenderSpec, render_video
from ecomvideo.media.titlecard import (
    CardText,
    price_from_prompt,
    render_title_card,
    title_from_prompt,
)
from ecomvideo.observability import logger
from ecomvideo.providers.base import (
    ImageRequest,
    InvalidProviderInput,
    ProductCard,
    ProviderResult,
    ProviderTaskNotFound,
    VideoRequest,
)

ImageFetcher = Callable[[str], bytes]


class LocalProvider:
    """Synchronous provider: every ``start_*`` returns ``status="completed"`` with bytes.

    ``fetch_image`` downloads ``VideoRequest.image_url`` when no bytes are given; without one,
    URL-only requests are refused (the pipeline passes our S3 copy's bytes, and an arbitrary
    URL fetch from here would need SSRF protection).
    """

    name = "Local"
    asynchronous = False
    storyboards = True

    def __init__(
        self,
        *,
        fps: int = 30,
        crf: int = 23,
        preset: str = "veryfast",
        fetch_image: ImageFetcher | None = None,
    ) -> None:
        self.fps = fps
        self.crf = crf
        self.preset = preset
        self.fetch_image = fetch_image

    # -- image ------------------------------------------------------------------------------

    def start_image(self, request: ImageRequest) -> ProviderResult:
        """Render the title card for ``request`` (JPEG, ``request.width`` x ``height``)."""
        text = _card_text(request.prompt, request.product, None, None, None)
        card = render_title_card((request.width, request.height), text, style=request.style)
        data = encode_jpeg(card, quality=92, comment=TITLE_CARD_MARK)
        return ProviderResult(
            status="completed",
            asset=data,
            content_type="image/jpeg",
            metadata={"width": request.width, "height": request.height, "kind": "title-card"},
        )

    def poll_image(self, task_id: str) -> ProviderResult:
        """Local work is never pending, so there is no task to poll."""
        raise ProviderTaskNotFound(provider=self.name, provider_message=f"no task {task_id!r}")

    # -- video ------------------------------------------------------------------------------

    def start_video(self, request: VideoRequest) -> ProviderResult:
        """Render the MP4 (and its JPEG thumbnail) for ``request``.

        Raises ``InvalidProviderInput`` when the image cannot be read.
        """
        if request.storyboard:
            return self._render_storyboard(request)
        size = (request.width, request.height)
        text = _card_text(
            request.prompt,
            request.product,
            request.title,
            request.price_text,
            request.call_to_action,
        )
        data = request.image_bytes
        if data is None and request.image_url:
            if self.fetch_image is None:
                raise InvalidProviderInput(
                    "the Local provider needs the image itself, not a link",
                    provider=self.name,
                )
            data = self.fetch_image(request.image_url)
        if data is None:
            picture = render_title_card(size, text, style=request.style)
            is_card = True
        else:
            try:
                loaded = load_image(data, target=size)
            except MediaError as exc:
                raise InvalidProviderInput(
                    f"the product image could not be used: {exc}", provider=self.name
                ) from exc
            picture, is_card = loaded.image, loaded.is_title_card
        overlay = None
        if not is_card:
            overlay = render_overlay(
                size,
                title=text.title,
                price=text.price,
                call_to_action=text.call_to_action,
                palette=pick_palette(request.style, text.title),
            )
        spec = RenderSpec(
            width=request.width,
            height=request.height,
            duration_seconds=request.duration_seconds,
            fps=self.fps,
            crf=self.crf,
            preset=self.preset,
            # Title cards zoom in gently around the centre: panning would cut off the text.
            motion="zoom_in" if is_card else "auto",
            seed=stable_hash(request.reference, text.title),
        )
        video = render_video(picture, spec, overlay)
        return _completed(video, request.reference)

    def _render_storyboard(self, request: VideoRequest) -> ProviderResult:
        """Every scene of ``request.storyboard`` composed into one MP4 (AAC: the music bed of
        ``request.music``, else silence)."""
        from ecomvideo.media.storyboard import Storyboard
        from ecomvideo.media.storyboard_render import render_storyboard

        board = Storyboard.from_dict(request.storyboard or {})
        pictures = {}
        for index, data in enumerate(request.images):
            if not data:
                continue
            try:
                pictures[index] = load_image(data, target=(request.width, request.height)).image
            except MediaError:
                logger.warning("storyboard image unreadable", extra={"index": index})
        spec = RenderSpec(
            width=request.width,
            height=request.height,
            duration_seconds=board.duration,
            fps=self.fps,
            crf=self.crf,
            preset=self.preset,
        )
        title = board.scenes[0].text if board.scenes else request.title
        video = render_storyboard(
            board,
            pictures,
            spec,
            style=request.style,
            seed_text=title,
            segments=request.segments,
            clip=_clip(board, request) if board.clip_scene else None,
            music=request.music,
        )
        extra = {"music": video.music} if video.music else {}
        return _completed(video, request.reference, scenes=video.scenes, **extra)

    def poll_video(self, task_id: str) -> ProviderResult:
        """Local work is never pending, so there is no task to poll."""
        raise ProviderTaskNotFound(provider=self.name, provider_message=f"no task {task_id!r}")


def _clip(board: Any, request: VideoRequest) -> Any:
    """The generated clip of a storyboard's clip scene, checked (``ClipSource``). When there is
    none or it does not decode (logged) the scene shows its photo; without a photo, the still
    the clip was made from (``ClipSource.still``); else ``None``: a designed card."""
    from ecomvideo.media.clip_source import ClipError, ClipSource

    if request.clip:  # else not downloaded: the pipeline logged it (services.pipeline.compose)
        try:
            return ClipSource.open(request.clip)
        except ClipError as exc:
            logger.warning(
                "generated clip unusable: the hero scene shows the product photo",
                extra={"reference": request.reference, "reason": str(exc)},
            )
    if board.clip_scene.image is not None or not request.clip_still:
        return None
    try:
        return ClipSource.still(request.clip_still)
    except ClipError:
        logger.warning("the clip's still is unreadable", extra={"reference": request.reference})
        return None


def _completed(video: Any, reference: str | None, **metadata: Any) -> ProviderResult:
    """The provider result of a rendered MP4 (``RenderedVideo`` or ``RenderedStoryboard``)."""
    logger.info(
        "local video rendered",
        extra={
            "width": video.width,
            "height": video.height,
            "frames": video.frame_count,
            "bytes": len(video.mp4),
            "render_seconds": round(video.render_seconds, 3),
            "reference": reference,
        },
    )
    return ProviderResult(
        status="completed",
        asset=video.mp4,
        content_type="video/mp4",
        thumbnail=video.thumbnail,
        metadata={
            "render_seconds": round(video.render_seconds, 3),
            "frame_count": video.frame_count,
            **metadata,
        },
    )


def _card_text(
    prompt: str,
    product: ProductCard | None,
    title: str | None,
    price: str | None,
    call_to_action: str | None,
) -> CardText:
    """On-screen text: explicit fields, then the product card, then what the prompt says."""
    return CardText(
        title=(title or (product.name if product else None) or title_from_prompt(prompt)),
        price=price or (product.price if product else None) or price_from_prompt(prompt),
        original_price=product.original_price if product else None,
        brand=product.brand if product else None,
        tagline=product.tagline if product else None,
        call_to_action=call_to_action
        or (product.call_to_action if product else None)
        or "Shop now",
    )


def create_provider() -> LocalProvider:
    """Factory used by ``ecomvideo.providers.get_provider("Local")``."""
    return LocalProvider()
