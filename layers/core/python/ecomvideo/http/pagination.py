"""The API side of keyset pagination (``ecomvideo.keyset``): the ``limit`` / ``cursor`` query
parameters of every list route, the ``Link: <...>; rel="next"`` header (RFC 8288) and the
``x-bounded-list`` marker of small reference lists; also ``RenderedFormat``, the other shared
query-parameter type (``?format=`` of a download).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler.openapi.params import Query

from ecomvideo.keyset import MAX_LIMIT
from ecomvideo.schemas.fields import AspectRatio, bounded_list

# The query parameters of every list route: ``limit: PageLimit = None, cursor: PageCursor = None``.
PageLimit = Annotated[int | None, Query(ge=1, le=MAX_LIMIT)]
PageCursor = Annotated[str | None, Query(max_length=200)]
# ``?format=`` of a video's download: one of the formats it was rendered in.
RenderedFormat = Annotated[AspectRatio | None, Query(alias="format")]


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
