"""Product categories: a scraped breadcrumb mapped onto the ``product_categories`` tree."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo.models import ProductCategory

MAX_CATEGORY_DEPTH = 5


def map_categories(session: Session, crumbs: list[str]) -> uuid.UUID | None:
    """Map a breadcrumb (root first) onto product_categories, creating missing nodes.

    Names are unique across the whole tree (spec), so: the first crumb reuses a category of the
    same name (case-insensitive) wherever it is, e.g. "Kitchen" under "Home & Garden"; each
    further crumb reuses a same-named child of the previous node; when that name already lives
    in another branch, the node is created as "Name (Parent)" ("Accessories (Men)"). ``level``
    is the depth. Inserts use ON CONFLICT DO NOTHING, so concurrent scrapes cannot collide.
    """
    parent: ProductCategory | None = None
    for raw in crumbs[:MAX_CATEGORY_DEPTH]:
        name = " ".join(raw.split())[:100]
        if not name:
            continue
        node = _category_child(session, parent, name)
        if node is None:
            break  # could not place it sensibly: keep the deepest node we have
        parent = node
    return parent.id if parent is not None else None


def _by_name(session: Session, name: str) -> ProductCategory | None:
    return session.scalar(
        select(ProductCategory)
        .where(func.lower(ProductCategory.name) == name.lower())
        .order_by(ProductCategory.level, ProductCategory.created_at)
        .limit(1)
    )


def _category_child(
    session: Session, parent: ProductCategory | None, name: str
) -> ProductCategory | None:
    existing = _by_name(session, name)
    if existing is not None and (parent is None or existing.parent_id == parent.id):
        return existing
    names = [name] if existing is None else []
    if parent is not None:
        names.append(f"{name[: 97 - len(parent.name[:60])]} ({parent.name[:60]})")
        digest = hashlib.sha256(f"{parent.id}/{name}".encode()).hexdigest()[:6]
        names.append(f"{name[:92]} #{digest}")
    for candidate in names:
        found = _by_name(session, candidate)
        if found is not None:
            if parent is not None and found.parent_id == parent.id:
                return found
            continue
        created = session.execute(
            insert(ProductCategory)
            .values(
                name=candidate,
                parent_id=parent.id if parent else None,
                level=(parent.level + 1) if parent else 0,
            )
            .on_conflict_do_nothing(index_elements=[ProductCategory.name])
            .returning(ProductCategory.id)
        ).scalar_one_or_none()
        if created is not None:
            return session.get(ProductCategory, created)
        found = _by_name(session, candidate)  # a concurrent scrape created it a moment ago
        if found is not None and (parent is None or found.parent_id == parent.id):
            return found
    return None


def category_path(session: Session, category_id: uuid.UUID | None) -> list[ProductCategory]:
    """The category and its ancestors, root first (bounded, cycle-safe)."""
    path: list[ProductCategory] = []
    seen: set[uuid.UUID] = set()
    while category_id is not None and category_id not in seen and len(path) < 10:
        seen.add(category_id)
        node = session.get(ProductCategory, category_id)
        if node is None:
            break
        path.append(node)
        category_id = node.parent_id
    return list(reversed(path))
