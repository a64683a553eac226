"""Registration, email verification, password reset, login and unlock.

Public functions own their transaction (``db.transaction()``): several of them must commit
state *and then* fail (a failed login increments ``failed_login_attempts``), which a
caller-owned transaction would roll back. Sessions (token pairs, refresh, logout) are
``auth_sessions``; throttling is ``auth_throttle``; the mails and their link tokens are
``auth_mail``.

Enumeration: ``register``, ``resend_verification`` and ``forgot_password`` give the same
answer, and do the same work in the request, whether or not the address has an account; the
mail (or none) is decided by the ``auth.email`` job.

Secrets never leave these modules in clear except in the response (or mail) to their owner:
refresh, verification and reset tokens are stored as SHA-256 hashes, passwords as argon2id
hashes, and nothing here logs a token, a password or a hash.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecomvideo import clock, db
from ecomvideo.enums import CreditSource, UserRole
from ecomvideo.errors import BadRequest, Forbidden, Unauthorized
from ecomvideo.models import (
    EmailVerificationToken,
    NotificationSettings,
    PasswordResetToken,
    User,
    UserPreferences,
    UserRoleAssignment,
)
from ecomvideo.observability import logger
from ecomvideo.security import passwords
from ecomvideo.services import activity, auth_mail, system_settings
from ecomvideo.services.activity import Action, RequestMeta
from ecomvideo.services.auth_mail import MailKind, consume_link_token, read_unlock_token
from ecomvideo.services.auth_sessions import TokenPair, end_all_sessions, issue_tokens
from ecomvideo.services.auth_throttle import (
    count_failure,
    limit_request,
    normalise_email,
    throttled,
)

FREE_PLAN_NAME = "Free"
GENERIC_LOGIN_ERROR = "Invalid email or password."
ACCEPTED_MESSAGE = "If an account exists for this email, we have sent a message to it."
REGISTER_ACCEPTED = "Check your inbox: we have sent a message to this address to finish signing up."


def _user_by_email(session: Session, email: str, *, lock: bool = False) -> User | None:
    query = select(User).where(User.email == normalise_email(email))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def _grant_free_credits(session: Session, user: User) -> None:
    # lazy: only registration grants credits; signing in does not declare the billing and
    # ledger models
    from ecomvideo.models import SubscriptionPlan
    from ecomvideo.services import credits

    plan = session.scalars(
        select(SubscriptionPlan).where(
            SubscriptionPlan.name == FREE_PLAN_NAME, SubscriptionPlan.is_active.is_(True)
        )
    ).first()
    if plan is None or not plan.video_credits_monthly:
        return
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


def _create_user(
    session: Session, email: str, password_hash: str, profile: dict[str, str | None]
) -> User:
    timezone, locale = str(profile["timezone"]), str(profile["locale"])
    user = User(
        id=uuid.uuid4(),
        email=email,
        password_hash=password_hash,
        first_name=profile["first_name"],
        last_name=profile["last_name"],
        timezone=timezone,
        locale=locale,
        email_verified=False,
        is_active=True,
        failed_login_attempts=0,
    )
    session.add(user)
    session.flush()
    session.add(UserRoleAssignment(user_id=user.id, role_name=UserRole.USER))
    session.add(UserPreferences(user_id=user.id, timezone=timezone, preferred_language=locale))
    session.add(NotificationSettings(user_id=user.id))
    session.flush()
    return user


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
) -> str:
    """Create a user (role User, default settings) and queue the verify mail; the Free-plan
    credits are granted when the email is verified.

    An address that already has an account gets the same answer (and the same argon2 cost);
    its owner is mailed "you already have an account: sign in or reset"; nothing changes.
    """
    email = normalise_email(email)
    passwords.check_policy(password, email)
    password_hash = passwords.hash_password(password)  # slow: outside the transaction
    profile = {
        "first_name": first_name,
        "last_name": last_name,
        "timezone": timezone,
        "locale": locale,
    }
    try:
        with db.transaction() as session:
            limit_request(session, "register", request, None)
            existing = _user_by_email(session, email)
            if existing is not None:
                auth_mail.queue(
                    session, MailKind.ALREADY_REGISTERED, user_id=existing.id, once_per_hour=True
                )
            else:
                user = _create_user(session, email, password_hash, profile)
                activity.record(session, user.id, Action.REGISTERED, request=request)
                auth_mail.queue(session, MailKind.VERIFY, user_id=user.id)
                logger.info("user registered", extra={"user_id": str(user.id)})
    except IntegrityError:
        # Two registrations raced past the existence check: the UNIQUE index decided, and
        # this one is now the "already registered" case.
        with db.transaction() as session:
            auth_mail.queue(session, MailKind.ALREADY_REGISTERED, email=email, once_per_hour=True)
    return REGISTER_ACCEPTED


def verify_email(token: str, *, request: RequestMeta) -> None:
    """Mark the email verified; the token works once and for 24 hours."""
    with db.transaction() as session:
        row = consume_link_token(session, EmailVerificationToken, token)
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


def _accept_mail_request(scope: str, kind: MailKind, email: str, request: RequestMeta) -> str:
    """Rate-limit, queue the mail job for the address, answer: the request never reads the
    account, so known and unknown addresses cost the same."""
    email = normalise_email(email)
    with db.transaction() as session:
        limit_request(session, scope, request, email)
        auth_mail.queue(session, kind, email=email, request=request)
    return ACCEPTED_MESSAGE


def resend_verification(email: str, *, request: RequestMeta) -> str:
    """Queue a new verification link (sent if the account exists, is active and unverified)."""
    return _accept_mail_request("resend-verification", MailKind.VERIFY, email, request)


def forgot_password(email: str, *, request: RequestMeta) -> str:
    """Queue a 1-hour reset link (sent if the account exists and is active)."""
    return _accept_mail_request("forgot-password", MailKind.RESET, email, request)


def reset_password(token: str, new_password: str, *, request: RequestMeta) -> None:
    """Set a new password with a reset token (single use); every session is signed out."""
    with db.transaction() as session:
        row = consume_link_token(session, PasswordResetToken, token)
        user = session.get(User, row.user_id, with_for_update=True) if row else None
        if user is not None:
            passwords.check_policy(new_password, user.email, "new_password")
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


def unlock_account(token: str, *, request: RequestMeta) -> None:
    """Lift the account-wide lock named by an unlock link (single use: the link names the
    lock's end, which unlocking clears and a later lock replaces)."""
    named = read_unlock_token(token)
    unlocked = False
    with db.transaction() as session:
        user = session.get(User, named[0], with_for_update=True) if named else None
        if (
            named is not None
            and user is not None
            and user.locked_until == named[1]
            and user.locked_until > clock.utcnow()
        ):
            user.locked_until = None
            user.failed_login_attempts = 0
            activity.record(session, user.id, Action.ACCOUNT_UNLOCKED, request=request)
            unlocked = True
    if not unlocked:
        raise BadRequest("The unlock link is invalid, expired or already used.")


def login(email: str, password: str, *, request: RequestMeta) -> TokenPair:
    """Check the credentials and issue tokens.

    Unknown email, wrong password and locked account all answer ``GENERIC_LOGIN_ERROR`` after
    one argon2 verification, so neither the message nor the timing tells them apart. Too many
    recent failures from this client for this account (or from this client at all) answer 429
    before any verification (``throttled``), for unknown emails alike.
    """
    outcome: TokenPair | Exception
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
            count_failure(session, email, user, request)
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
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
