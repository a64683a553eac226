"""Reusable validated field types for request models (email, timezone, locale, phone, URL)."""

import functools
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic.config import JsonDict

_LOCALE = re.compile(
    # language[-Script][-REGION], the subset of BCP 47 that fits the 10-character column
    r"^(?P<lang>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?$"
)
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

# The output formats (media.formats has their sizes and safe zones): one definition for the
# video request, the template and the user's preference.
AspectRatio = Literal["9:16", "1:1", "16:9", "4:5"]


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _timezone(value: str) -> str:
    if value not in _zones():
        raise ValueError("must be an IANA time zone name such as Europe/Berlin")
    return value


def _locale(value: str) -> str:
    match = _LOCALE.match(value)
    if not match:
        raise ValueError("must be a BCP 47 language tag such as en-US")
    out = match["lang"].lower()
    if match["script"]:
        out += "-" + match["script"].title()
    if match["region"]:
        out += "-" + match["region"].upper()
    return out


def _phone(value: str) -> str:
    compact = re.sub(r"[\s().-]", "", value)
    if not _E164.match(compact):
        raise ValueError("must be an E.164 phone number such as +4915112345678")
    return compact


@functools.cache
def _url_adapter() -> TypeAdapter[HttpUrl]:
    # Built on first use: a TypeAdapter compiles its validator when created (cold start).
    return TypeAdapter(HttpUrl)


def _https(value: str) -> str:
    try:
        url = _url_adapter().validate_python(value)
    except ValidationError:
        raise ValueError("must be a valid URL") from None
    if url.scheme != "https":
        raise ValueError("must be an https URL")
    return str(url)


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _past(value: date) -> date:
    if value >= date.today() or value.year < 1900:
        raise ValueError("must be a date in the past")
    return value


def _utc(value: datetime) -> datetime:
    """The database stores naive UTC; answers carry the offset so they are RFC 3339."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The one datetime type of the API: UTC, serialised as RFC 3339 with ``Z``
# (``2026-11-25T08:49:35Z``); a naive value (from the database) is read as UTC.
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
Email = Annotated[EmailStr, BeforeValidator(_lower), Field(max_length=255)]
Timezone = Annotated[str, StringConstraints(max_length=50), AfterValidator(_timezone)]
Locale = Annotated[str, StringConstraints(max_length=10), AfterValidator(_locale)]
Phone = Annotated[str, StringConstraints(max_length=25), AfterValidator(_phone)]
HttpsUrl = Annotated[str, StringConstraints(max_length=500), AfterValidator(_https)]
PastDate = Annotated[date, AfterValidator(_past)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Bounded so that hashing a huge password cannot be used for denial of service.
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Token = Annotated[str, StringConstraints(min_length=20, max_length=200)]


# An array a response holds in full because it cannot grow past a small bound by construction
# (a resource's tags, a report's top N): the OpenAPI extension tells clients, and the contract
# test (tests/unit/test_api_contract.py), that it needs no cursor. Routes returning a small
# reference list set it on the operation (``http.pagination.BOUNDED_LIST``).
BOUNDED_LIST_EXTENSION = "x-bounded-list"


def bounded_list(reason: str) -> JsonDict:
    """``json_schema_extra`` of such an array, with why it is bounded."""
    return {BOUNDED_LIST_EXTENSION: reason}
