"""Storyboards of videos: built from what we know, shown before rendering, edited by the user.

Where they live: ``videos.metadata["storyboard"]`` holds a storyboard the user edited (it wins
from then on); otherwise the storyboard is *built* each time from the video's inputs (title,
prompt, variables, the scraped product and its photos, the uploaded image) and the template's
storyboard (``video_templates.style_settings["storyboard"]``). Building is deterministic, so
``GET /v1/videos/{id}/storyboard``, the quote and the render step show the same plan. With a
provider that returns a generated clip (Freepik) the hero scene's media is that clip.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.enums import VideoStatus
from ecomvideo.errors import Conflict, invalid_field
from ecomvideo.media import storyboard as sb
from ecomvideo.models import ProductData, ProductImage, Video, VideoTemplate
from ecomvideo.providers import makes_clips
from ecomvideo.security.principal import Principal
from ecomvideo.services import uploads
from ecomvideo.services.video_access import awaiting_confirmation, owned_video

if TYPE_CHECKING:
    from ecomvideo.schemas import videos as schemas

MAX_IMAGES = 8
STORYBOARD_KEY = "storyboard"


def template_spec(template: VideoTemplate | None) -> dict[str, Any] | None:
    """The template's storyboard slots (data), or ``None`` for the default storyboard."""
    settings = template.style_settings if template is not None else None
    spec = settings.get(STORYBOARD_KEY) if isinstance(settings, dict) else None
    return spec if isinstance(spec, dict) else None


def _money(amount: Any, currency: str | None) -> str | None:
    if amount is None:
        return None
    symbols = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
    symbol = symbols.get((currency or "").upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency or ''}".strip()


def story_input(
    session: Session,
    *,
    title: str,
    prompt: str | None,
    variables: dict[str, str],
    style: str | None,
    image_url: str | None = None,
    more_images: list[str] | tuple[str, ...] = (),
    product_data_id: uuid.UUID | None = None,
) -> sb.StoryInput:
    """What a storyboard is built from: the scraped product first, then the request.

    Photos: the Image video's picture, the extra uploads, then the product's photos.
    """
    from ecomvideo.media.titlecard import price_from_prompt  # lazy: titlecard imports Pillow

    images: list[str] = [image_url] if image_url else []
    images += [url for url in more_images if url not in images]
    product = session.get(ProductData, product_data_id) if product_data_id else None
    palette = style if style and style.lower() in _palette_names() else None
    if product is not None and product.name:
        urls = session.scalars(
            select(ProductImage.url)
            .where(ProductImage.product_data_id == product.id)
            .order_by(ProductImage.is_primary.desc(), ProductImage.sort_order, ProductImage.url)
        ).all()
        for url in [product.main_image_url, *urls]:
            if url and url not in images:
                images.append(url)
        return sb.StoryInput(
            title=product.name[:120],
            brand=product.brand,
            price=variables.get("price") or _money(product.price, product.currency),
            original_price=_money(product.original_price, product.currency),
            discount_percent=product.discount_percent,
            rating=float(product.rating) if product.rating else None,
            review_count=product.review_count or None,
            description=product.description,
            prompt=prompt,
            images=tuple(images[:MAX_IMAGES]),
            tagline=variables.get("tagline"),
            call_to_action=variables.get("call_to_action"),
            palette=palette,
        )
    from ecomvideo.media.titlecard import title_from_prompt  # lazy: titlecard imports Pillow

    name = variables.get("product_name") or title or title_from_prompt(prompt or "")
    return sb.StoryInput(
        title=name[:120],
        brand=variables.get("brand"),
        price=variables.get("price") or price_from_prompt(prompt or ""),
        original_price=variables.get("original_price"),
        description=variables.get("description"),
        prompt=prompt,
        images=tuple(images[:MAX_IMAGES]),
        tagline=variables.get("tagline"),
        call_to_action=variables.get("call_to_action"),
        palette=palette,
    )


def _palette_names() -> set[str]:
    from ecomvideo.media.design import PALETTES  # lazy: design imports Pillow

    return set(PALETTES)


def for_video(session: Session, video: Video) -> sb.Storyboard:
    """The video's storyboard: the user's edited one, else built from its inputs now."""
    stored = (video.meta or {}).get(STORYBOARD_KEY)
    if isinstance(stored, dict) and stored.get("scenes"):
        return sb.Storyboard.from_dict(stored)
    request = (video.meta or {}).get("request") or {}
    story = story_input(
        session,
        title=video.title,
        prompt=video.text_prompt,
        variables=dict(request.get("variables") or {}),
        style=video.style,
        image_url=video.image_url,
        more_images=list(request.get("moreImages") or ()),
        product_data_id=video.product_data_id,
    )
    template = session.get(VideoTemplate, video.template_id) if video.template_id else None
    board = sb.build(
        story,
        float(video.duration_seconds),
        template_spec(template),
        clip=makes_clips(video.ai_provider),
    )
    return replace(board, music=request.get("music") or None)


def for_owned_video(
    session: Session, principal: Principal, video_id: uuid.UUID
) -> schemas.StoryboardOut:
    """GET /v1/videos/{id}/storyboard: the plan of a video the principal may read."""
    video = owned_video(session, principal, video_id)
    return to_schema(for_video(session, video), video_id=video.id)


def to_schema(board: sb.Storyboard, *, video_id: uuid.UUID | None = None) -> schemas.StoryboardOut:
    # lazy: the API's response models; the pipeline worker uses this module without them
    from ecomvideo.schemas import videos as schemas

    return schemas.StoryboardOut(
        video_id=video_id,
        duration_seconds=board.duration,
        edited=board.edited,
        images=list(board.images),
        scenes=[schemas.SceneOut(**s) for s in board.to_dict()["scenes"]],
        music=schemas.MusicChoice(**board.music) if board.music else None,
    )


def edit(
    session: Session, principal: Principal, video_id: uuid.UUID, changes: schemas.StoryboardEdit
) -> sb.Storyboard:
    """Apply ``changes`` (texts, images, durations; the order when every scene is listed; the
    music bed when ``music`` is sent, checked as at create).

    Only before rendering (``auto_render: false``, not yet confirmed) or after a failure.
    The total duration is what the credits were quoted for, so it must stay the same.
    """
    video = owned_video(session, principal, video_id, write=True, lock=True)
    if not (awaiting_confirmation(video) or video.status is VideoStatus.FAILED):
        raise Conflict("The storyboard can only be edited before rendering or after a failure.")
    board = for_video(session, video)
    by_id = {s.id: s for s in board.scenes}
    scenes: list[sb.Scene] = []
    for edit_ in changes.scenes:
        scene = by_id.get(edit_.id)
        if scene is None:
            raise invalid_field("scenes", f"unknown scene {edit_.id!r}")
        data = edit_.model_dump(exclude_unset=True, exclude={"id"})
        # text, duration and transition cannot be cleared; subtext and image can (None).
        data = {k: v for k, v in data.items() if v is not None or k in ("subtext", "image")}
        if data.get("image") is not None and data["image"] >= len(board.images):
            raise invalid_field("scenes", f"scene {edit_.id!r}: no image {data['image']}")
        scenes.append(replace(scene, **data))
    if len({s.id for s in scenes}) != len(scenes):
        raise invalid_field("scenes", "a scene is listed twice")
    if len(scenes) < len(board.scenes):
        # Some scenes listed: edited in place, the order stays. All listed: the new order.
        changed = {s.id: s for s in scenes}
        scenes = [changed.get(s.id, s) for s in board.scenes]
    total = round(sum(s.duration for s in scenes), 3)
    if abs(total - float(video.duration_seconds)) > 0.05:
        raise invalid_field(
            "scenes",
            f"the scenes last {total:g} s; the video is {video.duration_seconds} s "
            "(the credits were quoted for that duration)",
        )
    music = board.music
    if "music" in changes.model_fields_set:
        music = uploads.music_choice(principal.user_id, changes.music)
    edited = sb.Storyboard(
        scenes=tuple(scenes), images=board.images, palette=board.palette, edited=True, music=music
    )
    video.meta = {**(video.meta or {}), STORYBOARD_KEY: edited.to_dict()}
    video.updated_by = str(principal.user_id)
    session.flush()
    return edited
