"""The signed-in user's account (/v1/me...) and user administration (/v1/admin/users...).

Public functions own their transaction, like ``services.auth``. Responses are pydantic models
from ``schemas.accounts`` so handlers only pass them through.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import Session, selectinload

from ecomvideo import clock, db
from ecomvideo.enums import UserRole
from ecomvideo.errors import Conflict, Forbidden, NotFound, Unauthorized
from ecomvideo.keyset import apply_keyset, decode_cursor, page
from ecomvideo.models import (
    NotificationSettings,
    User,
    UserInterest,
    UserPreferences,
    UserRoleAssignment,
)
from ecomvideo.observability import logger
from ecomvideo.schemas.accounts import (
    ActivityOut,
    ActivityPage,
    AdminUserOut,
    AdminUserPage,
    InterestOut,
    InterestsOut,
    InterestsUpdate,
    NotificationSettingsOut,
    NotificationSettingsUpdate,
    PreferencesOut,
    PreferencesUpdate,
    ProfileOut,
    ProfileUpdate,
)
from ecomvideo.security import passwords
from ecomvideo.services import activity
from ecomvideo.services.activity import Action, RequestMeta
from ecomvideo.services.auth_sessions import (
    TokenPair,
    can_sign_in,
    end_all_sessions,
    issue_tokens,
    revoke_access_tokens,
)
from ecomvideo.services.auth_throttle import count_failure, throttled


def _user(session: Session, user_id: uuid.UUID, *, lock: bool = False) -> User:
    query = select(User).where(User.id == user_id).options(selectinload(User.roles))
    if lock:
        query = query.with_for_update(of=User)
    user = session.scalars(query).first()
    if user is None:
        raise NotFound("No such user.")
    return user


def _profile(user: User) -> ProfileOut:
    return ProfileOut.model_validate(
        {
            **{k: getattr(user, k) for k in ProfileOut.model_fields if k != "roles"},
            "roles": user.role_names,
        }
    )


# ------------------------------------------------------------------------------ profile


def get_profile(user_id: uuid.UUID) -> ProfileOut:
    """The caller's profile."""
    with db.transaction() as session:
        return _profile(_user(session, user_id))


def update_profile(user_id: uuid.UUID, data: ProfileUpdate, *, request: RequestMeta) -> ProfileOut:
    """Change the fields present in ``data`` (``null`` clears optional ones)."""
    changes = data.model_dump(exclude_unset=True)
    with db.transaction() as session:
        user = _user(session, user_id, lock=True)
        for field, value in changes.items():
            setattr(user, field, value)
        if changes:
            user.updated_by = str(user_id)
            activity.record(
                session,
                user.id,
                Action.PROFILE_UPDATED,
                request=request,
                meta={"fields": sorted(changes)},
            )
        session.flush()
        return _profile(user)


def change_password(
    user_id: uuid.UUID, current_password: str, new_password: str, request: RequestMeta
) -> TokenPair:
    """Replace the password; every other session is signed out and this one gets new tokens.

    An inactive or locked account gets 401 before the password is even checked; wrong current
    passwords count like failed logins (throttle per account and client IP, account lock at
    the high threshold), and a throttled caller gets 429.
    """
    outcome: TokenPair | Exception
    with db.transaction() as session:
        user = _user(session, user_id, lock=True)
        refused: Exception | None = (
            None if can_sign_in(user) else Unauthorized("This account cannot sign in.")
        )
        refused = refused or throttled(session, user.email, request)
        if refused is not None:
            outcome = refused
        elif not passwords.verify_password(user.password_hash, current_password):
            outcome = Forbidden("The current password is not correct.")
            count_failure(session, user.email, user, request)
        else:
            passwords.check_policy(new_password, user.email, "new_password")
            user.password_hash = passwords.hash_password(new_password)
            user.failed_login_attempts = 0
            end_all_sessions(session, user.id)
            activity.record(session, user.id, Action.PASSWORD_CHANGED, request=request)
            outcome = issue_tokens(session, user)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def before_account_deletion(session: Session, user: User) -> None:
    """Hook run inside the deletion transaction, before the user row goes.

    Cancels the Stripe subscriptions first; a Stripe failure raises and aborts the deletion,
    so nobody keeps being billed for a deleted account. Then queues the deletion of the
    user's stored files (videos, formats, thumbnails, segments, uploads, public copies) as a
    ``media.purge`` job in this transaction: it exists exactly when the account is gone.
    """
    # lazy: the billing modules (Stripe mirrors) and the purge job are only needed to delete
    # an account
    from ecomvideo.services import media_purge
    from ecomvideo.services.billing import cancel_customer_subscriptions

    logger.info("account deletion requested", extra={"user_id": str(user.id)})
    cancel_customer_subscriptions(session, user)
    media_purge.enqueue_account_purge(session, user.id)


def delete_account(user_id: uuid.UUID, password: str) -> None:
    """Delete the user; ON DELETE CASCADE removes their tokens, settings, videos and credits,
    and a queued job their files in S3 (``before_account_deletion``)."""
    with db.transaction() as session:
        user = _user(session, user_id, lock=True)
        if not passwords.verify_password(user.password_hash, password):
            raise Forbidden("The password is not correct.")
        before_account_deletion(session, user)
        session.execute(delete(User).where(User.id == user.id))
    logger.info("account deleted", extra={"user_id": str(user_id)})


# ------------------------------------------------------------------------------ settings


def _preferences(session: Session, user_id: uuid.UUID) -> UserPreferences:
    row = session.scalars(
        select(UserPreferences).where(UserPreferences.user_id == user_id).with_for_update()
    ).first()
    if row is None:  # accounts created before registration made the row
        row = UserPreferences(user_id=user_id)
        session.add(row)
        session.flush()
    return row


def _notification_settings(session: Session, user_id: uuid.UUID) -> NotificationSettings:
    row = session.scalars(
        select(NotificationSettings)
        .where(NotificationSettings.user_id == user_id)
        .with_for_update()
    ).first()
    if row is None:
        row = NotificationSettings(user_id=user_id)
        session.add(row)
        session.flush()
    return row


def _apply(row: Any, changes: dict[str, Any], user_id: uuid.UUID) -> None:
    for field, value in changes.items():
        setattr(row, field, value)
    if changes:
        row.updated_by = str(user_id)


def get_preferences(user_id: uuid.UUID) -> PreferencesOut:
    with db.transaction() as session:
        return PreferencesOut.model_validate(_preferences(session, user_id))


def update_preferences(
    user_id: uuid.UUID, data: PreferencesUpdate, *, request: RequestMeta
) -> PreferencesOut:
    """Store the fields sent (validated against the allowed sets by the schema)."""
    changes = data.model_dump(exclude_none=True)
    with db.transaction() as session:
        row = _preferences(session, user_id)
        _apply(row, changes, user_id)
        if changes:
            activity.record(
                session,
                user_id,
                Action.PREFERENCES_UPDATED,
                request=request,
                meta={"fields": sorted(changes)},
            )
        session.flush()
        return PreferencesOut.model_validate(row)


def get_notification_settings(user_id: uuid.UUID) -> NotificationSettingsOut:
    with db.transaction() as session:
        return NotificationSettingsOut.model_validate(_notification_settings(session, user_id))


def update_notification_settings(
    user_id: uuid.UUID, data: NotificationSettingsUpdate, *, request: RequestMeta
) -> NotificationSettingsOut:
    changes = data.model_dump(exclude_none=True)
    with db.transaction() as session:
        row = _notification_settings(session, user_id)
        _apply(row, changes, user_id)
        if changes:
            activity.record(
                session,
                user_id,
                Action.NOTIFICATION_SETTINGS_UPDATED,
                request=request,
                meta={"fields": sorted(changes)},
            )
        session.flush()
        return NotificationSettingsOut.model_validate(row)


def _interests(session: Session, user_id: uuid.UUID) -> InterestsOut:
    rows = session.scalars(
        select(UserInterest).where(UserInterest.user_id == user_id).order_by(UserInterest.category)
    ).all()
    return InterestsOut(interests=[InterestOut.model_validate(r) for r in rows])


def get_interests(user_id: uuid.UUID) -> InterestsOut:
    with db.transaction() as session:
        return _interests(session, user_id)


def replace_interests(
    user_id: uuid.UUID, data: InterestsUpdate, *, request: RequestMeta
) -> InterestsOut:
    """Replace the whole list (one row per category, level 1..5)."""
    with db.transaction() as session:
        _user(session, user_id, lock=True)  # serialises concurrent PUTs of one user
        session.execute(delete(UserInterest).where(UserInterest.user_id == user_id))
        session.add_all(
            UserInterest(user_id=user_id, category=i.category, level=i.level)
            for i in data.interests
        )
        activity.record(
            session,
            user_id,
            Action.INTERESTS_UPDATED,
            request=request,
            meta={"count": len(data.interests)},
        )
        session.flush()
        return _interests(session, user_id)


def delete_interests(
    user_id: uuid.UUID, *, category: str | None = None, request: RequestMeta
) -> None:
    """Remove one category, or all of them when ``category`` is None."""
    with db.transaction() as session:
        query = delete(UserInterest).where(UserInterest.user_id == user_id)
        if category is not None:
            query = query.where(func.lower(UserInterest.category) == category.strip().lower())
        removed = db.rowcount(session.execute(query))
        if category is not None and not removed:
            raise NotFound("No such interest.")
        activity.record(session, user_id, Action.INTERESTS_UPDATED, request=request)


# ------------------------------------------------------------------------------ activity


def list_activity(user_id: uuid.UUID, *, limit: int, cursor: str | None) -> ActivityPage:
    with db.transaction() as session:
        rows, next_cursor = activity.list_for_user(session, user_id, limit=limit, cursor=cursor)
        return ActivityPage(
            items=[ActivityOut.model_validate(r) for r in rows], next_cursor=next_cursor
        )


# ------------------------------------------------------------------------------ admin


def _admin_out(user: User) -> AdminUserOut:
    data = {k: getattr(user, k) for k in AdminUserOut.model_fields if k != "roles"}
    return AdminUserOut.model_validate({**data, "roles": user.role_names})


def list_users(
    *,
    email: str | None,
    is_active: bool | None,
    role: UserRole | None,
    limit: int,
    cursor: str | None,
) -> AdminUserPage:
    """Users, newest first, filtered by email substring, active flag and role."""
    conditions: list[ColumnElement[bool]] = []
    if email:
        pattern = (
            email.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        conditions.append(User.email.like(f"%{pattern}%", escape="\\"))
    if is_active is not None:
        conditions.append(User.is_active.is_(is_active))
    if role is not None:
        conditions.append(
            exists().where(
                UserRoleAssignment.user_id == User.id, UserRoleAssignment.role_name == role
            )
        )
    stmt = apply_keyset(
        select(User).where(*conditions).options(selectinload(User.roles)),
        User.created_at,
        User.id,
        decode_cursor(cursor),
    )
    with db.transaction() as session:
        users, next_cursor = page(list(session.scalars(stmt.limit(limit + 1)).all()), limit)
        return AdminUserPage(items=[_admin_out(u) for u in users], next_cursor=next_cursor)


def set_active(
    admin_id: uuid.UUID, user_id: uuid.UUID, active: bool, *, request: RequestMeta
) -> AdminUserOut:
    """Activate or deactivate an account; deactivation signs it out everywhere."""
    if admin_id == user_id and not active:
        raise Conflict("You cannot deactivate your own account.")
    with db.transaction() as session:
        user = _user(session, user_id, lock=True)
        user.is_active = active
        user.updated_by = str(admin_id)
        if not active:
            end_all_sessions(session, user.id)
        activity.record(
            session,
            user.id,
            Action.ACCOUNT_ACTIVATED if active else Action.ACCOUNT_DEACTIVATED,
            request=request,
            meta={"by": str(admin_id)},
        )
        session.flush()
        return _admin_out(user)


def grant_role(
    admin_id: uuid.UUID, user_id: uuid.UUID, role: UserRole, *, request: RequestMeta
) -> AdminUserOut:
    """Give ``role`` (idempotent). Takes effect with the user's next access token."""
    with db.transaction() as session:
        user = _user(session, user_id, lock=True)
        if role.value not in user.role_names:
            user.roles.append(
                UserRoleAssignment(user_id=user.id, role_name=role, created_by=str(admin_id))
            )
            revoke_access_tokens(session, user.id)
            activity.record(
                session,
                user.id,
                Action.ROLE_GRANTED,
                request=request,
                meta={"role": role.value, "by": str(admin_id)},
            )
        session.flush()
        return _admin_out(user)


def revoke_role(
    admin_id: uuid.UUID, user_id: uuid.UUID, role: UserRole, *, request: RequestMeta
) -> AdminUserOut:
    """Take ``role`` away (idempotent). Admins cannot drop their own Admin role."""
    if admin_id == user_id and role is UserRole.ADMIN:
        raise Conflict("You cannot revoke your own Admin role.")
    with db.transaction() as session:
        user = _user(session, user_id, lock=True)
        for assignment in [r for r in user.roles if r.role_name == role]:
            user.roles.remove(assignment)
            revoke_access_tokens(session, user.id)
            activity.record(
                session,
                user.id,
                Action.ROLE_REVOKED,
                request=request,
                meta={"role": role.value, "by": str(admin_id)},
            )
        session.flush()
        return _admin_out(user)


def unlock(admin_id: uuid.UUID, user_id: uuid.UUID, *, request: RequestMeta) -> AdminUserOut:
    """Clear a login lockout and the failure counter."""
    with db.transaction() as session:
        user = _user(session, user_id, lock=True)
        user.locked_until = None
        user.failed_login_attempts = 0
        user.updated_by = str(admin_id)
        activity.record(
            session,
            user.id,
            Action.ACCOUNT_UNLOCKED,
            request=request,
            meta={"by": str(admin_id), "at": clock.utcnow().isoformat()},
        )
        session.flush()
        return _admin_out(user)
