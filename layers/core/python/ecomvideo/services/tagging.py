"""What a video does with the catalogue: its template (looked up, usage counted), its category
(given by id or name), its tags (normalised, set, removed, listed with their usage counts kept
exact).

Apart from ``services.catalog`` (the catalogue's API: lists, admin CRUD and its response
models) so that creating, listing or deleting a video does not import the catalogue's API.
Tag ``usage_count`` is maintained with relative ``UPDATE ... SET usage_count = usage_count ± 1``
statements in the same transaction as the mapping change, so concurrent taggers never lose an
update and the count always equals the number of mappings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from ecomvideo.errors import NotFound, ValidationFailed, field_error
from ecomvideo.models import VideoCategory, VideoTag, VideoTemplate, video_tag_mappings


def get_template(
    session: Session, template_id: uuid.UUID, *, active_only: bool = True
) -> VideoTemplate:
    template = session.get(VideoTemplate, template_id)
    if template is None or (active_only and not template.is_active):
        raise NotFound("No such template.")
    return template


def increment_template_usage(session: Session, template_id: uuid.UUID) -> None:
    session.execute(
        update(VideoTemplate)
        .where(VideoTemplate.id == template_id)
        .values(usage_count=func.coalesce(VideoTemplate.usage_count, 0) + 1)
    )


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


def normalise_tags(names: Iterable[str]) -> list[str]:
    """Lower-case, inner whitespace collapsed, duplicates dropped, order kept."""
    out: dict[str, None] = {}
    for name in names:
        clean = " ".join(name.split()).lower()[:50]
        if clean:
            out.setdefault(clean, None)
    return list(out)


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
