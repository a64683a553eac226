"""Sessions: access/refresh token pairs, refresh rotation, logout and the session version.

Refresh-token families: the client's refresh token is ``<family>.<secret>`` and
``refresh_tokens.token`` stores ``<family>:<sha256(secret)>``. Rotation keeps the family;
presenting an already rotated token while the family still has a live token is reuse (one of
the two holders is not the user), so the whole family is revoked.

Access tokens carry the user's session version (``sv``) and the family (``sid``); the
authorizer refuses a token whose version is older than ``user_security_stamps`` or whose
family is revoked (docs/decisions.md, "Sessions"). Public flows own their transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from ecomvideo import clock, db
from ecomvideo.enums import UserRole
from ecomvideo.errors import Unauthorized
from ecomvideo.models import RefreshToken, User, UserSecurityStamp
from ecomvideo.observability import logger
from ecomvideo.security import jwt, tokens
from ecomvideo.services import activity
from ecomvideo.services.activity import Action, RequestMeta

REFRESH_TOKEN_TTL = timedelta(days=30)
INVALID_REFRESH = "The refresh token is invalid or has expired."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


def _split_refresh(token: str) -> tuple[str, str] | None:
    family, sep, secret = token.partition(".")
    if not sep or len(family) != 32 or not secret:
        return None
    try:
        uuid.UUID(hex=family)
    except ValueError:
        return None
    return family, secret


def _stored_refresh(family: str, secret: str) -> str:
    return f"{family}:{tokens.hash_token(secret)}"


def _family_filter(user_id: uuid.UUID, family: str) -> ColumnElement[bool]:
    return (RefreshToken.user_id == user_id) & RefreshToken.token.startswith(f"{family}:")


def _revoke(session: Session, *conditions: ColumnElement[bool]) -> int:
    now = clock.utcnow()
    result = session.execute(
        update(RefreshToken)
        .where(*conditions, RefreshToken.is_revoked.is_(False))
        .values(is_revoked=True, revoked_at=now)
    )
    return db.rowcount(result)


def revoke_all_refresh_tokens(session: Session, user_id: uuid.UUID) -> int:
    """Revoke every live refresh token of a user (all sessions); returns how many."""
    return _revoke(session, RefreshToken.user_id == user_id)


def session_version(session: Session, user_id: uuid.UUID) -> int:
    """The user's current session version (0 until something revoked their sessions)."""
    version = session.scalar(
        select(UserSecurityStamp.session_version).where(UserSecurityStamp.user_id == user_id)
    )
    return int(version or 0)


def revoke_access_tokens(session: Session, user_id: uuid.UUID) -> int:
    """Increment the user's session version: every access token issued before is refused by
    the authorizer within its cache bound (60 s). Returns the new version."""
    statement = (
        pg_insert(UserSecurityStamp)
        .values(user_id=user_id, session_version=1)
        .on_conflict_do_update(
            index_elements=[UserSecurityStamp.user_id],
            set_={
                "session_version": UserSecurityStamp.session_version + 1,
                "updated_at": clock.utcnow(),
            },
        )
        .returning(UserSecurityStamp.session_version)
    )
    return int(session.execute(statement).scalar_one())


def end_all_sessions(session: Session, user_id: uuid.UUID) -> int:
    """Revoke every refresh token and every access token of the user; returns how many
    refresh tokens were live."""
    revoke_access_tokens(session, user_id)
    return revoke_all_refresh_tokens(session, user_id)


def can_sign_in(user: User) -> bool:
    """The rule every token-issuing path applies: active and not locked."""
    locked = user.locked_until is not None and user.locked_until > clock.utcnow()
    return bool(user.is_active) and not locked


def issue_tokens(session: Session, user: User, *, family: str | None = None) -> TokenPair:
    """A new access JWT and a new refresh token (in ``family``, or a new family).

    Refuses (401) an inactive or locked account: no path may hand it tokens.
    """
    if not can_sign_in(user):
        raise Unauthorized("This account cannot sign in.")
    family = family or uuid.uuid4().hex
    secret = tokens.new_token()
    session.add(
        RefreshToken(
            id=uuid.uuid4(),
            user_id=user.id,
            token=_stored_refresh(family, secret),
            expires_at=clock.utcnow() + REFRESH_TOKEN_TTL,
        )
    )
    access = jwt.issue_access_token(
        user.id,
        user.role_names or [UserRole.USER.value],
        session_version=session_version(session, user.id),
        session_id=family,
    )
    return TokenPair(
        access_token=access.token,
        expires_in=access.expires_in,
        refresh_token=f"{family}.{secret}",
        refresh_expires_in=int(REFRESH_TOKEN_TTL.total_seconds()),
    )


def refresh(refresh_token: str, *, request: RequestMeta) -> TokenPair:
    """Rotate a refresh token: revoke it, issue a new one in the same family.

    A revoked token presented while its family is still live is reuse: the family is revoked
    and a security event is logged.
    """
    parts = _split_refresh(refresh_token)
    if parts is None:
        raise Unauthorized(INVALID_REFRESH)
    family, secret = parts
    outcome: TokenPair | None = None
    with db.transaction() as session:
        row = session.scalars(
            select(RefreshToken)
            .where(RefreshToken.token == _stored_refresh(family, secret))
            .with_for_update()
        ).first()
        now = clock.utcnow()
        if row is None:
            pass
        elif row.is_revoked:
            if _revoke(session, _family_filter(row.user_id, family)):
                activity.record(session, row.user_id, Action.TOKEN_REUSE_DETECTED, request=request)
                logger.warning(
                    "security: refresh token reuse, family revoked",
                    extra={"user_id": str(row.user_id), "security_event": "refresh_token_reuse"},
                )
        elif row.expires_at <= now:
            pass
        else:
            row.is_revoked = True
            row.revoked_at = now
            user = session.get(User, row.user_id)
            if user is not None and can_sign_in(user):
                outcome = issue_tokens(session, user, family=family)
    if outcome is None:
        raise Unauthorized(INVALID_REFRESH)
    return outcome


def logout(refresh_token: str, *, request: RequestMeta) -> None:
    """Revoke the session (the token's family). Unknown tokens are ignored (idempotent)."""
    parts = _split_refresh(refresh_token)
    if parts is None:
        return
    family, secret = parts
    with db.transaction() as session:
        row = session.scalars(
            select(RefreshToken).where(RefreshToken.token == _stored_refresh(family, secret))
        ).first()
        if row is not None and _revoke(session, _family_filter(row.user_id, family)):
            activity.record(session, row.user_id, Action.LOGGED_OUT, request=request)


def logout_all(user_id: uuid.UUID, *, request: RequestMeta) -> int:
    """Revoke every refresh token of the user; returns how many were live."""
    with db.transaction() as session:
        count = end_all_sessions(session, user_id)
        activity.record(
            session, user_id, Action.LOGGED_OUT_ALL, request=request, meta={"sessions": count}
        )
    return count
