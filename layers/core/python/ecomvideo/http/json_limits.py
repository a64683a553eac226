"""Structural limits on JSON request bodies, checked before anything parses them into models.

Hostile bodies crashed handlers with 500s: a 5000-digit integer (CPython refuses to convert
more than 4300 digits and raises ``ValueError`` deep inside the parser), or a body nested a few
thousand levels deep (``RecursionError``). Each body-taking entry point (the resolver of
``http.app`` and the provider webhooks) calls ``violation(text)`` first and answers the
problem it returns (400 for a shape no client sends, 413 for sizes).

Standard library only: the webhook handlers import this before anything heavy.

The depth scan runs on the raw text (one C-level regex pass over strings and brackets), so a
deep body is refused before the recursive parser sees it; the other limits are checked while
``json.loads`` builds the value (``parse_int``/``parse_float`` see each number's text before it
is converted) and by one walk over the result.
"""

from __future__ import annotations

import json
import re

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40  # the largest integer we store is a BIGINT (19 digits)
MAX_STRING_CHARS = 100_000
MAX_ARRAY_ITEMS = 10_000
MAX_OBJECT_KEYS = 1_000

# A JSON string (escapes included) or a bracket; strings are matched so that brackets inside
# them are skipped.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class Violation(Exception):
    def __init__(self, status: int, title: str, detail: str, slug: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug


def _too_deep() -> Violation:
    return Violation(
        400,
        "JSON too deeply nested",
        f"The request body nests objects or arrays more than {MAX_DEPTH} levels deep.",
        "json-too-deep",
    )


def _number(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise Violation(
            400,
            "Number too long",
            f"A number in the request body has more than {MAX_NUMBER_CHARS} characters.",
            "json-number-too-long",
        )
    return text


def _too_large(what: str, limit: int) -> Violation:
    return Violation(
        413,
        "JSON value too large",
        f"The request body has {what} larger than {limit}.",
        "json-value-too-large",
    )


def _check_depth(text: str) -> None:
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep()
        elif token in ("]", "}"):
            depth -= 1


def _walk(value: object) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) > MAX_STRING_CHARS:
                raise _too_large("a string", MAX_STRING_CHARS)
        elif isinstance(item, list):
            if len(item) > MAX_ARRAY_ITEMS:
                raise _too_large("an array", MAX_ARRAY_ITEMS)
            stack.extend(item)
        elif isinstance(item, dict):
            if len(item) > MAX_OBJECT_KEYS:
                raise _too_large("an object", MAX_OBJECT_KEYS)
            stack.extend(item.keys())
            stack.extend(item.values())


def violation(text: str | bytes) -> Violation | None:
    """The first limit ``text`` breaks, or None (also None for malformed JSON: the caller's
    parser reports that as usual)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not text.strip():
        return None
    try:
        _check_depth(text)
        # parse_int/parse_float return the text unchanged: nothing is converted here.
        value = json.loads(text, parse_int=_number, parse_float=_number)
        _walk(value)
    except Violation as exc:
        return exc
    except (ValueError, RecursionError):
        return None
    return None
