"""The RateLimit and RateLimit-Policy response fields, read as a client would: with a
Structured Fields parser (``http-sf``), not by string matching."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import http_sf


def rate_limits(headers: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Policy name -> its parameters from both fields: ``q`` and ``w`` (RateLimit-Policy),
    ``r`` and ``t`` (RateLimit). Raises if a field is missing or not a valid list."""
    fields = {str(name).lower(): str(value) for name, value in headers.items()}
    found: dict[str, dict[str, int]] = {}
    for field in ("ratelimit-policy", "ratelimit"):
        for name, params in http_sf.parse(fields[field].encode(), tltype="list"):
            assert isinstance(name, str), f"{field}: a policy name is a String, got {name!r}"
            found.setdefault(name, {}).update(params)
    return found
