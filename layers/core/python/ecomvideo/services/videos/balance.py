"""The credits pages of the videos API: the balance with the ledger's movements, and the grants
behind it (apart from the library's queries: they need the ledger's models, the library does
not)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial

from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.keyset import clamp_limit, decode_cursor, page
from ecomvideo.schemas import videos as schemas
from ecomvideo.services import credits


def credits_summary(
    session: Session, user_id: uuid.UUID, cursor: str | None = None, limit: int | None = None
) -> schemas.CreditsOut:
    """Balance and one page of the ledger's movements, newest first (``next_cursor`` continues
    it). The grants behind the balance page separately (``credit_grants``)."""
    rows, next_cursor = _page_of(partial(credits.movements, session, user_id), cursor, limit)
    return schemas.CreditsOut(
        balance=credits.balance(session, user_id),
        movements=[
            schemas.MovementOut(
                id=m.id,
                kind=str(m.kind),
                amount=m.amount,
                video_id=m.video_id,
                usage_credit_id=m.usage_credit_id,
                reference=m.reference,
                created_at=m.created_at,
            )
            for m in rows
        ],
        next_cursor=next_cursor,
    )


def _page_of[T](
    fetch: Callable[..., list[T]], cursor: str | None, limit: int | None
) -> tuple[list[T], str | None]:
    """One page from ``fetch(limit=, after=)`` (a keyset query) and the next page's cursor."""
    size = clamp_limit(limit)
    return page(fetch(limit=size + 1, after=decode_cursor(cursor)), size)


def credit_grants(
    session: Session, user_id: uuid.UUID, cursor: str | None = None, limit: int | None = None
) -> schemas.GrantsPage:
    """One page of the user's credit grants, newest first; ``remaining`` is 0 once a grant is
    inactive or expired."""
    now = clock.utcnow()
    rows, next_cursor = _page_of(partial(credits.grants_page, session, user_id), cursor, limit)
    return schemas.GrantsPage(
        items=[
            schemas.GrantOut(
                id=g.id,
                source=str(g.source),
                amount=g.amount,
                used_amount=g.used_amount,
                remaining=(
                    g.amount - g.used_amount
                    if g.is_active and (g.expires_at is None or g.expires_at > now)
                    else 0
                ),
                expires_at=g.expires_at,
                is_active=bool(g.is_active),
                created_at=g.created_at,
            )
            for g in rows
        ],
        next_cursor=next_cursor,
    )
