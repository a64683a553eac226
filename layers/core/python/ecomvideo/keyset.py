"""Keyset (cursor) pagination shared by every list: cursors and the queries behind them.

A cursor is an opaque URL-safe token encoding the sort key of the last row of the previous
page (``created_at`` + ``id``), so pages stay stable while rows are inserted and the query
uses an index instead of OFFSET. Lists answer ``{"items": [...], "next_cursor": str|None}``.
Popularity-ordered lists (tags, templates) use ``usage_count`` + unique name as the key instead.

Free of the HTTP layer so services can page their queries; the API's query parameters and the
``Link`` header are in ``ecomvideo.http.pagination``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_

from ecomvideo.errors import BadRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID


def encode_token(data: dict[str, Any]) -> str:
    """Any small JSON object as an opaque URL-safe cursor."""
    raw = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token[T](token: str, read: Callable[[dict[str, Any]], T]) -> T:
    """``read(data)`` of an ``encode_token`` cursor; anything malformed is a 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        return read(json.loads(base64.urlsafe_b64decode(padded.encode())))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise BadRequest("The cursor is not valid; start again without it.") from exc


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    return encode_token({"t": created_at.isoformat(), "i": str(row_id)})


def decode_cursor(token: str | None) -> Cursor | None:
    if not token:
        return None
    return decode_token(
        token, lambda data: Cursor(datetime.fromisoformat(data["t"]), uuid.UUID(data["i"]))
    )


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def apply_keyset(stmt: Select, created_col: Any, id_col: Any, cursor: Cursor | None) -> Select:
    """Newest first: ``ORDER BY created_at DESC, id DESC`` continuing after ``cursor``."""
    if cursor is not None:
        stmt = stmt.where(
            or_(
                created_col < cursor.created_at,
                and_(created_col == cursor.created_at, id_col < cursor.id),
            )
        )
    return stmt.order_by(created_col.desc(), id_col.desc())


def page(
    rows: list[Any], limit: int, cursor_of: Callable[[Any], str] | None = None
) -> tuple[list[Any], str | None]:
    """Split a result fetched with ``limit + 1`` rows into the page and the next cursor
    (``cursor_of(last row)``; by default its ``created_at`` and ``id``)."""
    if len(rows) <= limit:
        return rows, None
    items = rows[:limit]
    last = items[-1]
    if cursor_of is not None:
        return items, cursor_of(last)
    return items, encode_cursor(last.created_at, last.id)


def apply_popularity_keyset(
    stmt: Select, count_col: Any, name_col: Any, id_col: Any, token: str | None
) -> Select:
    """Most used first (``ORDER BY count DESC, name, id``) continuing after ``token``."""
    if token:
        count, name, row_id = decode_token(
            token, lambda data: (int(data["u"]), str(data["n"]), uuid.UUID(data["i"]))
        )
        stmt = stmt.where(
            or_(
                count_col < count,
                and_(count_col == count, name_col > name),
                and_(count_col == count, name_col == name, id_col > row_id),
            )
        )
    return stmt.order_by(count_col.desc(), name_col, id_col)


def popularity_cursor(row: Any) -> str:
    """The ``apply_popularity_keyset`` cursor after ``row`` (usage_count, name, id)."""
    return encode_token({"u": int(row.usage_count or 0), "n": row.name, "i": str(row.id)})
