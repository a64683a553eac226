"""Keyset (cursor) pagination shared by every list endpoint.

A cursor is an opaque URL-safe token encoding the sort key of the last row of the previous
page (``created_at`` + ``id``), so pages stay stable while rows are inserted and the query
uses an index instead of OFFSET. Responses look like ``{"items": [...], "next_cursor": str|None}``.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from sqlalchemy import Select, and_, or_

from ecomvideo.errors import BadRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

# The query parameters of every list route: ``limit: PageLimit = None, cursor: PageCursor = None``.
PageLimit = Annotated[int | None, Query(ge=1, le=MAX_LIMIT)]
PageCursor = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps({"t": created_at.isoformat(), "i": str(row_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str | None) -> Cursor | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return Cursor(datetime.fromisoformat(data["t"]), uuid.UUID(data["i"]))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise BadRequest("The cursor is not valid; start again without it.") from exc


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


def page(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    """Split a result fetched with ``limit + 1`` rows into the page and the next cursor."""
    if len(rows) <= limit:
        return rows, None
    items = rows[:limit]
    last = items[-1]
    return items, encode_cursor(last.created_at, last.id)
