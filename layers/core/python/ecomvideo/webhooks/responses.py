"""API Gateway (payload 2.0) responses of the provider webhooks, standard library only.

The webhook handlers run without a Powertools resolver (they must verify the raw body before
anything else is imported), so they build their answers here: JSON on success, RFC 9457
problem+json on every error, like the rest of the API.
"""

from __future__ import annotations

import json
from typing import Any

from ecomvideo.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE


def json_response(
    status: int, body: dict[str, Any], content_type: str = "application/json"
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": content_type,
            # The same as http.app.SECURITY_HEADERS (this module stays standard-library only).
            "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def problem_response(status: int, title: str, detail: str) -> dict[str, Any]:
    """``{"type", "title", "status", "detail"}``; the type's slug is the title's."""
    slug = title.lower().replace(" ", "-")
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    return json_response(status, body, PROBLEM_CONTENT_TYPE)
