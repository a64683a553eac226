"""The catalogue: video templates, video categories and tags (reads, admin CRUD, tagging).

Template prompts use ``{name}`` placeholders (``ecomvideo.prompts`` lists and fills them).

Tag ``usage_count`` is maintained with relative ``UPDATE ... SET usage_count = usage_count ± 1``
statements in the same transaction as the mapping change, so concurrent taggers never lose an
update and the count always equals the number of mappings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecomvideo.errors import Conflict, NotFound, ValidationFailed, field_error
from ecomvideo.keyset import (
    DEFAULT_LIMIT,
    apply_popularity_keyset,
    page,
    popularity_cursor,
)
from ecomvideo.models import Video, VideoCategory, VideoTag, VideoTemplate, video_tag_mappings

if TYPE_CHECKING:
    from ecomvideo.schemas import catalog as schemas

# ---------------------------------------------------------------------------- templates


def get_template(
    session: Session, template_id: uuid.UUID, *, active_only: bool = True
) -> VideoTemplate:
    template = session.get(VideoTemplate, template_id)
    if template is None or (active_only and not template.is_active):
        raise NotFound("No such template.")
    return template


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
    # lazy: the catalogue's API models; making a video uses this module without them
    from ecomvideo.schemas import catalog as schemas

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


def increment_template_usage(session: Session, template_id: uuid.UUID) -> None:
    session.execute(
        update(VideoTemplate)
        .where(VideoTemplate.id == template_id)
        .values(usage_count=func.coalesce(VideoTemplate.usage_count, 0) + 1)
    )


# ---------------------------------------------------------------------------- categories


def get_category(
    session: Session, category_id: uuid.UUID, *, active_only: bool = True
) -> VideoCategory:
    category = session.get(VideoCategory, category_id)
    if category is None or (active_only and not category.is_active):
        raise NotFound("No such video category.")
    return category


def resolve_category(session: Session, value: str | None) -> uuid.UUID | None:
    """A category given by id or (case-insensitive) name -> its id; 422 when unknown."""
    if not value:
        return None
    try:
        category_id = uuid.UUID(value)
    except ValueError:
        found = session.scalar(
            select(VideoCategory.id).where(
                func.lower(VideoCategory.name) == value.strip().lower(),
                VideoCategory.is_active.is_(True),
            )
        )
    else:
        found = session.scalar(
            select(VideoCategory.id).where(
                VideoCategory.id == category_id, VideoCategory.is_active.is_(True)
            )
        )
    if found is None:
        raise ValidationFailed(
            "Unknown video category.", errors=[field_error("/category", "unknown", "unknown")]
        )
    return found


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


def normalise_tags(names: Iterable[str]) -> list[str]:
    """Lower-case, inner whitespace collapsed, duplicates dropped, order kept."""
    out: dict[str, None] = {}
    for name in names:
        clean = " ".join(name.split()).lower()[:50]
        if clean:
            out.setdefault(clean, None)
    return list(out)


def popular_tags(
    session: Session, *, limit: int = 50, prefix: str | None = None, cursor: str | None = None
) -> schemas.TagList:
    """Most used tags first, one page (and the next page's cursor)."""
    # lazy: the catalogue's API models; making a video uses this module without them
    from ecomvideo.schemas import catalog as schemas

    stmt = select(VideoTag)
    if prefix:
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(VideoTag.name.like(escaped + "%", escape="\\"))
    stmt = apply_popularity_keyset(stmt, VideoTag.usage_count, VideoTag.name, VideoTag.id, cursor)
    rows, next_cursor = page(list(session.scalars(stmt.limit(limit + 1))), limit, popularity_cursor)
    items = [schemas.TagOut.model_validate(t) for t in rows]
    return schemas.TagList(items=items, next_cursor=next_cursor)


def _tag_ids(session: Session, names: list[str]) -> dict[str, uuid.UUID]:
    """Get-or-create tags by name (concurrent creators race safely on the unique name)."""
    if not names:
        return {}
    session.execute(
        pg_insert(VideoTag)
        .values([{"id": uuid.uuid4(), "name": n} for n in names])
        .on_conflict_do_nothing(index_elements=["name"])
    )
    rows = session.execute(select(VideoTag.name, VideoTag.id).where(VideoTag.name.in_(names)))
    return {name: tag_id for name, tag_id in rows}


def set_video_tags(session: Session, video_id: uuid.UUID, names: Iterable[str]) -> list[str]:
    """Replace the video's tags; usage counts move by exactly the added/removed mappings."""
    wanted = normalise_tags(names)
    ids = _tag_ids(session, wanted)
    current = set(
        session.scalars(
            select(video_tag_mappings.c.tag_id).where(video_tag_mappings.c.video_id == video_id)
        )
    )
    target = set(ids.values())
    added, removed = target - current, current - target
    if removed:
        session.execute(
            delete(video_tag_mappings).where(
                video_tag_mappings.c.video_id == video_id, video_tag_mappings.c.tag_id.in_(removed)
            )
        )
        _bump(session, removed, -1)
    if added:
        session.execute(
            insert(video_tag_mappings), [{"video_id": video_id, "tag_id": t} for t in added]
        )
        _bump(session, added, +1)
    return wanted


def untag_video(session: Session, video_id: uuid.UUID) -> None:
    """Before a video is deleted: drop its mappings and decrement the counts."""
    removed = set(
        session.scalars(
            delete(video_tag_mappings)
            .where(video_tag_mappings.c.video_id == video_id)
            .returning(video_tag_mappings.c.tag_id)
        )
    )
    _bump(session, removed, -1)


def _bump(session: Session, tag_ids: set[uuid.UUID], delta: int) -> None:
    if not tag_ids:
        return
    session.execute(
        update(VideoTag)
        .where(VideoTag.id.in_(tag_ids))
        .values(usage_count=func.greatest(func.coalesce(VideoTag.usage_count, 0) + delta, 0))
    )


def tags_for_videos(session: Session, video_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Tag names of many videos in one query (list pages: no N+1)."""
    out: dict[uuid.UUID, list[str]] = {vid: [] for vid in video_ids}
    if not video_ids:
        return out
    rows = session.execute(
        select(video_tag_mappings.c.video_id, VideoTag.name)
        .join(VideoTag, VideoTag.id == video_tag_mappings.c.tag_id)
        .where(video_tag_mappings.c.video_id.in_(video_ids))
        .order_by(VideoTag.name)
    )
    for video_id, name in rows:
        out[video_id].append(name)
    return out


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
