"""Registration, email verification, password reset, login, refresh rotation and logout.

Public functions own their transaction (``db.transaction()``): several of them must commit
state *and then* fail (a failed login increments ``failed_login_attempts``; a reused refresh
token revokes its family), which a caller-owned transaction would roll back.

Secrets never leave this module in clear except in the response to their owner: refresh,
verification and reset tokens are stored as SHA-256 hashes, passwords as argon2id hashes, and
nothing here logs a token, a password or a hash.

Refresh-token families: the client's refresh token is ``<family>.<secret>`` and
``refresh_tokens.token`` stores ``<family>:<sha256(secret)>``. Rotation keeps the family;
presenting an already rotated token while the family still has a live token is reuse (one of
the two holders is not the user), so the whole family is revoked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecomvideo import clock, db
from ecomvideo.clients.email import (
    EmailMessage,
    account_locked_email,
    get_email_client,
    password_reset_email,
    verification_email,
)
from ecomvideo.enums import CreditSource, UserRole
from ecomvideo.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    field_error,
)
from ecomvideo.models import (
    EmailVerificationToken,
    NotificationSettings,
    PasswordResetToken,
    RefreshToken,
    SubscriptionPlan,
    User,
    UserPreferences,
    UserRoleAssignment,
    UserSecurityStamp,
)
from ecomvideo.observability import logger
from ecomvideo.security import jwt, passwords, tokens
from ecomvideo.services import activity, rate_limit
from ecomvideo.services.activity import Action, RequestMeta

REFRESH_TOKEN_TTL = timedelta(days=30)
VERIFICATION_TOKEN_TTL = timedelta(hours=24)
RESET_TOKEN_TTL = timedelta(hours=1)
# Wrong passwords (login and change-password) are throttled per (account, client IP) with
# backoff through longer windows, and per client IP across accounts: an attacker elsewhere
# cannot lock the owner out. Only ACCOUNT_LOCK_THRESHOLD failures in a row from anywhere lock
# the account itself, for ACCOUNT_LOCK_DURATION, and mail the owner an unlock (reset) link.
ACCOUNT_IP_THROTTLES = ((5, 900), (10, 3600), (20, 86400))  # (failures, window seconds)
IP_THROTTLES = ((30, 900), (200, 86400))
ACCOUNT_LOCK_THRESHOLD = 50
ACCOUNT_LOCK_DURATION = timedelta(hours=1)

# (limit, window seconds) for the enumeration-safe endpoints and registration.
EMAIL_LIMIT = (3, 3600)
IP_LIMIT = (20, 3600)
REGISTER_IP_LIMIT = (20, 3600)

FREE_PLAN_NAME = "Free"
GENERIC_LOGIN_ERROR = "Invalid email or password."
INVALID_REFRESH = "The refresh token is invalid or has expired."
ACCEPTED_MESSAGE = "If an account exists for this email, we have sent a message to it."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


@dataclass(frozen=True)
class Registered:
    id: uuid.UUID
    email: str
    email_verified: bool


# ------------------------------------------------------------------------------ helpers


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_policy(password: str, email: str | None, field: str = "password") -> None:
    """Raise ``ValidationFailed`` (422) naming ``field`` when the password is not acceptable."""
    problems = passwords.policy_violations(password, email)
    if problems:
        raise ValidationFailed(
            "The password does not meet the requirements.",
            errors=[
                field_error("/" + field, f"Password {p}.", "password_policy") for p in problems
            ],
        )


def _user_by_email(session: Session, email: str, *, lock: bool = False) -> User | None:
    query = select(User).where(User.email == normalise_email(email))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def send_after_commit(message: EmailMessage | None) -> None:
    """Send after commit; a mail failure must not undo the account change (resend exists)."""
    if message is None:
        return
    try:
        get_email_client().send(message)
    except Exception as exc:  # SES outage, unverified identity...
        logger.warning(
            "email not sent", extra={"email_kind": message.tag, "error": type(exc).__name__}
        )


def _limit(session: Session, scope: str, request: RequestMeta, email: str | None) -> None:
    if request.ip:
        limit, window = IP_LIMIT if email is not None else REGISTER_IP_LIMIT
        rate_limit.enforce(
            session,
            rate_limit.subject_key(scope, "ip", request.ip),
            limit=limit,
            window_seconds=window,
        )
    if email is not None:
        limit, window = EMAIL_LIMIT
        rate_limit.enforce(
            session,
            rate_limit.subject_key(scope, "email", email),
            limit=limit,
            window_seconds=window,
        )


def _new_one_time_token(
    session: Session,
    model: type[EmailVerificationToken | PasswordResetToken],
    user: User,
    ttl: timedelta,
) -> str:
    secret = tokens.new_token()
    session.add(
        model(
            id=uuid.uuid4(),
            user_id=user.id,
            token=tokens.hash_token(secret),
            expires_at=clock.utcnow() + ttl,
        )
    )
    return secret


def _consume_one_time_token[T: (EmailVerificationToken, PasswordResetToken)](
    session: Session, model: type[T], secret: str
) -> T | None:
    """The token row if it is unused and unexpired (locked, then marked used), else None."""
    row = session.scalars(
        select(model).where(model.token == tokens.hash_token(secret)).with_for_update()
    ).first()
    now = clock.utcnow()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    return row


def _grant_free_credits(session: Session, user: User) -> None:
    plan = session.scalars(
        select(SubscriptionPlan).where(
            SubscriptionPlan.name == FREE_PLAN_NAME, SubscriptionPlan.is_active.is_(True)
        )
    ).first()
    if plan is None or not plan.video_credits_monthly:
        return
    from ecomvideo.services import credits, system_settings

    days = int(system_settings.get(session, "credits.free_grant_days", 30) or 30)
    credits.grant(
        session,
        user.id,
        plan.video_credits_monthly,
        CreditSource.BONUS,
        reference=f"free-plan:{user.id}",
        expires_at=clock.utcnow() + timedelta(days=days),
        metadata={"reason": "free_plan", "plan_id": str(plan.id)},
        created_by="registration",
    )


# ------------------------------------------------------------------------------ wrong passwords


def _failure_counters(email: str, ip: str | None) -> list[tuple[str, int, int]]:
    """(counter key, limit, window) of every throttle a wrong password from ``ip`` feeds."""
    client = ip or "unknown"
    pair = f"{normalise_email(email)}|{client}"
    return [
        (rate_limit.subject_key(f"login-fail-{window}", "account-ip", pair), limit, window)
        for limit, window in ACCOUNT_IP_THROTTLES
    ] + [
        (rate_limit.subject_key(f"login-fail-{window}", "ip", client), limit, window)
        for limit, window in IP_THROTTLES
    ]


def throttled(session: Session, email: str, request: RequestMeta) -> Exception | None:
    """A 429 (with Retry-After) when this account and client IP, or this IP, failed too often
    recently; the same for existing and unknown emails."""
    waits = []
    for key, limit, window in _failure_counters(email, request.ip):
        count, reset_at = rate_limit.current(session, key, window_seconds=window)
        if count >= limit:
            waits.append(reset_at)
    if not waits:
        return None
    retry = max(1, int((max(waits) - clock.utcnow()).total_seconds() + 0.999))
    return TooManyRequests("Too many failed attempts; try again later.", retry_after=retry)


def count_failure(
    session: Session, email: str, user: User | None, request: RequestMeta
) -> EmailMessage | None:
    """Record a wrong password: the throttle counters, and the account-wide streak, which locks
    the account at ``ACCOUNT_LOCK_THRESHOLD`` (returns the mail to send the owner then)."""
    for key, limit, window in _failure_counters(email, request.ip):
        rate_limit.hit(session, key, limit=limit, window_seconds=window)
    if user is None:
        return None
    user.failed_login_attempts = (user.failed_login_attempts or 0) + 1
    activity.record(session, user.id, Action.LOGIN_FAILED, request=request)
    if user.failed_login_attempts < ACCOUNT_LOCK_THRESHOLD:
        return None
    user.locked_until = clock.utcnow() + ACCOUNT_LOCK_DURATION
    user.failed_login_attempts = 0
    activity.record(session, user.id, Action.ACCOUNT_LOCKED, request=request)
    logger.warning("account locked after failed logins", extra={"user_id": str(user.id)})
    secret = _new_one_time_token(session, PasswordResetToken, user, RESET_TOKEN_TTL)
    return account_locked_email(user.email, user.first_name, secret)


# ------------------------------------------------------------------------------ refresh tokens


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


# ------------------------------------------------------------------------------ flows


def register(
    *,
    email: str,
    password: str,
    first_name: str | None,
    last_name: str | None,
    timezone: str,
    locale: str,
    request: RequestMeta,
) -> Registered:
    """Create a user (role User, default settings) and mail a verify link; the Free-plan
    credits are granted when the email is verified."""
    email = normalise_email(email)
    check_password_policy(password, email)
    password_hash = passwords.hash_password(password)  # slow: outside the transaction
    try:
        with db.transaction() as session:
            _limit(session, "register", request, None)
            if _user_by_email(session, email) is not None:
                raise Conflict("An account with this email already exists.")
            user = User(
                id=uuid.uuid4(),
                email=email,
                password_hash=password_hash,
                first_name=first_name,
                last_name=last_name,
                timezone=timezone,
                locale=locale,
                email_verified=False,
                is_active=True,
                failed_login_attempts=0,
            )
            session.add(user)
            session.flush()
            session.add(UserRoleAssignment(user_id=user.id, role_name=UserRole.USER))
            session.add(
                UserPreferences(user_id=user.id, timezone=timezone, preferred_language=locale)
            )
            session.add(NotificationSettings(user_id=user.id))
            session.flush()
            secret = _new_one_time_token(
                session, EmailVerificationToken, user, VERIFICATION_TOKEN_TTL
            )
            activity.record(session, user.id, Action.REGISTERED, request=request)
            mail = verification_email(user.email, user.first_name, secret)
            result = Registered(id=user.id, email=user.email, email_verified=False)
    except IntegrityError:
        # Two registrations raced past the existence check: the UNIQUE index decided.
        raise Conflict("An account with this email already exists.") from None
    logger.info("user registered", extra={"user_id": str(result.id)})
    send_after_commit(mail)
    return result


def verify_email(token: str, *, request: RequestMeta) -> None:
    """Mark the email verified; the token works once and for 24 hours."""
    with db.transaction() as session:
        row = _consume_one_time_token(session, EmailVerificationToken, token)
        if row is not None:
            user = session.get(User, row.user_id)
            if user is not None:
                user.email_verified = True
                # The Free-plan credits come with a verified address, not a throwaway one
                # (the grant's reference makes a second verification a no-op).
                _grant_free_credits(session, user)
                activity.record(session, user.id, Action.EMAIL_VERIFIED, request=request)
    if row is None:
        raise BadRequest("The verification link is invalid or has expired.")


def resend_verification(email: str, *, request: RequestMeta) -> str:
    """Mail a new verification link if the account exists and is unverified; same answer always."""
    email = normalise_email(email)
    mail = None
    with db.transaction() as session:
        _limit(session, "resend-verification", request, email)
        user = _user_by_email(session, email)
        if user is not None and user.is_active and not user.email_verified:
            secret = _new_one_time_token(
                session, EmailVerificationToken, user, VERIFICATION_TOKEN_TTL
            )
            mail = verification_email(user.email, user.first_name, secret)
    send_after_commit(mail)
    return ACCEPTED_MESSAGE


def forgot_password(email: str, *, request: RequestMeta) -> str:
    """Mail a 1-hour reset link if the account exists; same answer whether it does or not."""
    email = normalise_email(email)
    mail = None
    with db.transaction() as session:
        _limit(session, "forgot-password", request, email)
        user = _user_by_email(session, email)
        if user is not None and user.is_active:
            secret = _new_one_time_token(session, PasswordResetToken, user, RESET_TOKEN_TTL)
            activity.record(session, user.id, Action.PASSWORD_RESET_REQUESTED, request=request)
            mail = password_reset_email(user.email, user.first_name, secret)
    send_after_commit(mail)
    return ACCEPTED_MESSAGE


def reset_password(token: str, new_password: str, *, request: RequestMeta) -> None:
    """Set a new password with a reset token (single use); every session is signed out."""
    with db.transaction() as session:
        row = _consume_one_time_token(session, PasswordResetToken, token)
        user = session.get(User, row.user_id, with_for_update=True) if row else None
        if user is not None:
            check_password_policy(new_password, user.email, "new_password")
            user.password_hash = passwords.hash_password(new_password)
            user.failed_login_attempts = 0
            user.locked_until = None
            # Other outstanding reset links die with this one.
            session.execute(
                update(PasswordResetToken)
                .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
                .values(used_at=clock.utcnow())
            )
            end_all_sessions(session, user.id)
            activity.record(session, user.id, Action.PASSWORD_RESET, request=request)
    if user is None:
        raise BadRequest("The reset link is invalid or has expired.")


def login(email: str, password: str, *, request: RequestMeta) -> TokenPair:
    """Check the credentials and issue tokens.

    Unknown email, wrong password and locked account all answer ``GENERIC_LOGIN_ERROR`` after
    one argon2 verification, so neither the message nor the timing tells them apart. Too many
    recent failures from this client for this account (or from this client at all) answer 429
    before any verification (``throttled``), for unknown emails alike.
    """
    outcome: TokenPair | Exception
    mail = None
    with db.transaction() as session:
        refused = throttled(session, email, request)
        user = None if refused else _user_by_email(session, email, lock=True)
        now = clock.utcnow()
        if refused is not None:
            outcome = refused
        elif user is None:
            passwords.dummy_verify(password)
            outcome = Unauthorized(GENERIC_LOGIN_ERROR)
            count_failure(session, email, None, request)
        elif user.locked_until is not None and user.locked_until > now:
            passwords.verify_password(user.password_hash, password)  # same cost, result ignored
            outcome = Unauthorized(GENERIC_LOGIN_ERROR)
        elif not passwords.verify_password(user.password_hash, password):
            outcome = Unauthorized(GENERIC_LOGIN_ERROR)
            mail = count_failure(session, email, user, request)
        elif not user.is_active:
            outcome = Forbidden("This account has been deactivated.")
        else:
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords.hash_password(password)
            user.failed_login_attempts = 0
            user.locked_until = None
            user.last_login_at = now
            outcome = issue_tokens(session, user)
            activity.record(session, user.id, Action.LOGGED_IN, request=request)
    send_after_commit(mail)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


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
