"""The current caller, as the Lambda authorizer described it in the request context."""

from __future__ import annotations

import uuid
from typing import Any

from ecomvideo.errors import Forbidden, Unauthorized
from ecomvideo.security.principal import Principal


def principal_from_event(event: dict[str, Any]) -> Principal:
    """Read ``requestContext.authorizer.lambda`` (HTTP API, simple responses)."""
    context = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    user_id = context.get("userId")
    if not user_id:
        raise Unauthorized("Sign in to use this endpoint.")
    try:
        uid = uuid.UUID(str(user_id))
    except ValueError as exc:
        raise Unauthorized("Sign in to use this endpoint.") from exc
    roles = frozenset(r for r in str(context.get("roles") or "").split(",") if r)
    return Principal(user_id=uid, roles=roles)


def current_principal(app: Any) -> Principal:
    return principal_from_event(app.current_event.raw_event)


def require_roles(principal: Principal, *roles: str) -> None:
    if not principal.has_any(*roles):
        raise Forbidden("Your role does not allow this action.")
