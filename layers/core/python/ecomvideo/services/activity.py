"""The user activity log: significant actions with the caller's IP and user agent.

Every concern records through ``record`` so the log reads the same everywhere. ``meta`` must
never hold secrets (passwords, tokens, hashes): it is returned to the user by
``GET /v1/me/activity``.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.keyset import apply_keyset, decode_cursor, page
from ecomvideo.models import UserActivity

_MAX_USER_AGENT = 1000


class Action(StrEnum):
    REGISTERED = "Registered"
    EMAIL_VERIFIED = "EmailVerified"
    LOGGED_IN = "LoggedIn"
    LOGIN_FAILED = "LoginFailed"
    ACCOUNT_LOCKED = "AccountLocked"
    LOGGED_OUT = "LoggedOut"
    LOGGED_OUT_ALL = "LoggedOutAll"
    TOKEN_REUSE_DETECTED = "RefreshTokenReuseDetected"  # noqa: S105
    PASSWORD_RESET_REQUESTED = "PasswordResetRequested"  # noqa: S105
    PASSWORD_RESET = "PasswordReset"  # noqa: S105
    PASSWORD_CHANGED = "PasswordChanged"  # noqa: S105
    PROFILE_UPDATED = "ProfileUpdated"
    PREFERENCES_UPDATED = "PreferencesUpdated"
    NOTIFICATION_SETTINGS_UPDATED = "NotificationSettingsUpdated"
    INTERESTS_UPDATED = "InterestsUpdated"
    ACCOUNT_ACTIVATED = "AccountActivated"
    ACCOUNT_DEACTIVATED = "AccountDeactivated"
    ACCOUNT_UNLOCKED = "AccountUnlocked"
    ROLE_GRANTED = "RoleGranted"
    ROLE_REVOKED = "RoleRevoked"


@dataclass(frozen=True)
class RequestMeta:
    """Who called, as API Gateway saw it."""

    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> RequestMeta:
        http = ((event.get("requestContext") or {}).get("http")) or {}
        headers = event.get("headers") or {}
        ip = http.get("sourceIp")
        try:
            ip = str(ipaddress.ip_address(ip)) if ip else None
        except ValueError:
            ip = None  # INET column: store nothing rather than fail the request
        agent = http.get("userAgent") or headers.get("user-agent")
        return cls(ip=ip, user_agent=(agent or None) and str(agent)[:_MAX_USER_AGENT])


def record(
    session: Session,
    user_id: uuid.UUID,
    action: Action | str,
    *,
    request: RequestMeta | None = None,
    resource_type: str | None = None,
    resource_id: uuid.UUID | None = None,
    description: str | None = None,
    meta: dict[str, Any] | None = None,
) -> UserActivity:
    """Add one activity row in the caller's transaction."""
    row = UserActivity(
        id=uuid.uuid4(),
        user_id=user_id,
        action=str(action),
        resource_type=resource_type,
        resource_id=resource_id,
        description=description[:500] if description else None,
        ip_address=request.ip if request else None,
        user_agent=request.user_agent if request else None,
        meta=meta,
        # Set here, not by CURRENT_TIMESTAMP (the transaction's start): several actions in
        # one transaction still sort in the order they happened.
        created_at=clock.utcnow(),
    )
    session.add(row)
    return row


def list_for_user(
    session: Session, user_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[UserActivity], str | None]:
    """One page of a user's activity, newest first, and the cursor of the next page."""
    stmt = apply_keyset(
        select(UserActivity).where(UserActivity.user_id == user_id),
        UserActivity.created_at,
        UserActivity.id,
        decode_cursor(cursor),
    )
    return page(list(session.scalars(stmt.limit(limit + 1)).all()), limit)
