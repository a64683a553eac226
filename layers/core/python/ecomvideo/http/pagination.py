"""Keyset (cursor) pagination shared by every list endpoint.

A cursor is an opaque URL-safe token encoding the sort key of the last row of the previous
page (``created_at`` + ``id``), so pages stay stable while rows are inserted and the query
uses an index instead of OFFSET. Responses look like ``{"items": [...], "next_cursor": str|None}``
(and a ``Link: <...>; rel="next"`` header, see ``http.app``). Popularity-ordered lists (tags,
templates) use ``usage_count`` + unique name as the key instead.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler.openapi.params import Query
from sqlalchemy import Select, and_, or_

from ecomvideo.errors import BadRequest
from ecomvideo.schemas.fields import bounded_list

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

# The query parameters of every list route: ``limit: PageLimit = None, cursor: PageCursor = None``.
PageLimit = Annotated[int | None, Query(ge=1, le=MAX_LIMIT)]
PageCursor = Annotated[str | None, Query(max_length=200)]


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


def link_next_middleware(app: Any, next_middleware: Callable[[Any], Any]) -> Any:
    """``Link: </same/path?...&cursor=NEXT>; rel="next"`` on every page that has a next one
    (RFC 8288), so clients can follow pages without building URLs."""
    response = next_middleware(app)
    body = response.body
    if response.status_code == 200 and isinstance(body, dict) and body.get("next_cursor"):
        event = app.current_event
        query = {k: v for k, v in (event.query_string_parameters or {}).items() if k != "cursor"}
        query["cursor"] = body["next_cursor"]
        response.headers["Link"] = f'<{event.path}?{urlencode(query)}>; rel="next"'
    return response


# ``openapi_extensions`` of a small reference list (plans, packs, settings, categories, payment
# methods, webhook endpoints): it returns every item, so it has no cursor (docs/api.md).
BOUNDED_LIST = bounded_list("A small reference list: every item at once, no cursor.")
