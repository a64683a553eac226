"""The catalogue's API: video templates, video categories, tags and music tracks (lists, reads,
admin CRUD, the response models).

What a video does with the catalogue (its template, category and tags) is ``services.tagging``;
template prompts use ``{name}`` placeholders (``ecomvideo.prompts`` lists and fills them).
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecomvideo.errors import Conflict, NotFound, ValidationFailed
from ecomvideo.keyset import (
    DEFAULT_LIMIT,
    apply_popularity_keyset,
    page,
    popularity_cursor,
)
from ecomvideo.models import Video, VideoCategory, VideoTag, VideoTemplate
from ecomvideo.schemas import catalog as schemas
from ecomvideo.services.tagging import get_template, normalise_tags

# ---------------------------------------------------------------------------- templates


class TemplateFilters(TypedDict, total=False):
    """The optional filters of ``list_templates`` (the API passes its query parameters)."""

    category_id: uuid.UUID | None
    premium: bool | None
    active: bool | None


def list_templates(
    session: Session,
    *,
    category_id: uuid.UUID | None = None,
    premium: bool | None = None,
    active: bool | None = True,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> schemas.TemplateList:
    """Most used first, one page (and the next page's cursor)."""
    stmt = select(VideoTemplate)
    if category_id is not None:
        stmt = stmt.where(VideoTemplate.category_id == category_id)
    if premium is not None:
        stmt = stmt.where(VideoTemplate.is_premium.is_(premium))
    if active is not None:
        stmt = stmt.where(VideoTemplate.is_active.is_(active))
    stmt = apply_popularity_keyset(
        stmt, VideoTemplate.usage_count, VideoTemplate.name, VideoTemplate.id, cursor
    )
    rows, next_cursor = page(list(session.scalars(stmt.limit(limit + 1))), limit, popularity_cursor)
    items = [schemas.TemplateOut.model_validate(t) for t in rows]
    return schemas.TemplateList(items=items, next_cursor=next_cursor)


def create_template(session: Session, data: dict[str, Any], *, actor: str) -> VideoTemplate:
    if data.get("category_id") is not None:
        get_category(session, data["category_id"], active_only=False)
    template = VideoTemplate(**data, created_by=actor, updated_by=actor)
    session.add(template)
    session.flush()
    return template


def update_template(
    session: Session, template_id: uuid.UUID, changes: dict[str, Any], *, actor: str
) -> VideoTemplate:
    template = get_template(session, template_id, active_only=False)
    if changes.get("category_id") is not None:
        get_category(session, changes["category_id"], active_only=False)
    for key, value in changes.items():
        setattr(template, key, value)
    template.updated_by = actor
    session.flush()
    return template


def delete_template(session: Session, template_id: uuid.UUID, *, actor: str) -> None:
    """Hard delete when unused; videos keep their template, so used ones are deactivated."""
    template = get_template(session, template_id, active_only=False)
    used = session.scalar(select(func.count()).where(Video.template_id == template_id))
    if used:
        template.is_active = False
        template.updated_by = actor
    else:
        session.delete(template)
    session.flush()


# ---------------------------------------------------------------------------- categories


def get_category(
    session: Session, category_id: uuid.UUID, *, active_only: bool = True
) -> VideoCategory:
    category = session.get(VideoCategory, category_id)
    if category is None or (active_only and not category.is_active):
        raise NotFound("No such video category.")
    return category


def list_categories(session: Session, *, include_inactive: bool = False) -> list[VideoCategory]:
    stmt = select(VideoCategory)
    if not include_inactive:
        stmt = stmt.where(VideoCategory.is_active.is_(True))
    return list(session.scalars(stmt.order_by(VideoCategory.sort_order, VideoCategory.name)))


def category_list(session: Session) -> schemas.CategoryList:
    """GET /v1/video-categories: every active category, in their order."""
    rows = list_categories(session)
    return schemas.CategoryList(items=[schemas.CategoryOut.model_validate(c) for c in rows])


def create_category(session: Session, data: dict[str, Any]) -> schemas.CategoryOut:
    category = VideoCategory(**data)
    session.add(category)
    _flush_unique(session, "A category with this name exists.")
    return schemas.CategoryOut.model_validate(category)


def update_category(
    session: Session, category_id: uuid.UUID, changes: dict[str, Any]
) -> schemas.CategoryOut:
    category = get_category(session, category_id, active_only=False)
    for key, value in changes.items():
        setattr(category, key, value)
    _flush_unique(session, "A category with this name exists.")
    return schemas.CategoryOut.model_validate(category)


def delete_category(session: Session, category_id: uuid.UUID) -> None:
    """Hard delete when nothing refers to it, else deactivate (videos keep their category)."""
    category = get_category(session, category_id, active_only=False)
    used = session.scalar(
        select(func.count()).where(Video.category_id == category_id)
    ) or session.scalar(select(func.count()).where(VideoTemplate.category_id == category_id))
    if used:
        category.is_active = False
    else:
        session.delete(category)
    session.flush()


# ---------------------------------------------------------------------------- tags


def popular_tags(
    session: Session, *, limit: int = 50, prefix: str | None = None, cursor: str | None = None
) -> schemas.TagList:
    """Most used tags first, one page (and the next page's cursor)."""
    stmt = select(VideoTag)
    if prefix:
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(VideoTag.name.like(escaped + "%", escape="\\"))
    stmt = apply_popularity_keyset(stmt, VideoTag.usage_count, VideoTag.name, VideoTag.id, cursor)
    rows, next_cursor = page(list(session.scalars(stmt.limit(limit + 1))), limit, popularity_cursor)
    items = [schemas.TagOut.model_validate(t) for t in rows]
    return schemas.TagList(items=items, next_cursor=next_cursor)


def get_tag(session: Session, tag_id: uuid.UUID) -> VideoTag:
    tag = session.get(VideoTag, tag_id)
    if tag is None:
        raise NotFound("No such tag.")
    return tag


def create_tag(session: Session, name: str, color_hex: str | None) -> VideoTag:
    clean = normalise_tags([name])
    if not clean:
        raise ValidationFailed("The tag name is empty.")
    tag = VideoTag(name=clean[0], color_hex=color_hex, usage_count=0)
    session.add(tag)
    _flush_unique(session, "This tag exists.")
    return tag


def update_tag(session: Session, tag_id: uuid.UUID, changes: dict[str, Any]) -> VideoTag:
    tag = get_tag(session, tag_id)
    if "name" in changes and changes["name"] is not None:
        clean = normalise_tags([changes["name"]])
        if not clean:
            raise ValidationFailed("The tag name is empty.")
        tag.name = clean[0]
    if "color_hex" in changes:
        tag.color_hex = changes["color_hex"]
    _flush_unique(session, "This tag exists.")
    return tag


def delete_tag(session: Session, tag_id: uuid.UUID) -> None:
    """Delete a tag; its mappings go with it (ON DELETE CASCADE)."""
    session.delete(get_tag(session, tag_id))
    session.flush()


def _flush_unique(session: Session, message: str) -> None:
    # The request's transaction is rolled back by the caller after the Conflict.
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc


def music_tracks() -> schemas.MusicTrackList:
    """The bundled music loops (a fixed catalogue: ``media.music.TRACKS``)."""
    from ecomvideo.media.music import TRACKS  # lazy: only this route reads the tracks

    return schemas.MusicTrackList(
        items=[
            schemas.MusicTrackOut(
                id=t.id, name=t.name, mood=t.mood, bpm=t.bpm, duration_seconds=round(t.duration, 3)
            )
            for t in TRACKS
        ]
    )
