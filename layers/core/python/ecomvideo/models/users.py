"""Spec section 1: authentication and user management."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.enums import UserRole
from ecomvideo.models.base import (
    Base,
    audit_column,
    bool_column,
    created_at_column,
    enum_column,
    int_column,
    str_default,
    updated_at_column,
    uuid_pk,
)

if TYPE_CHECKING:
    from ecomvideo.models.billing import PaymentMethod, UsageCredit, UserSubscription


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("email"),
        # Emails are stored normalised (lower case), which makes the UNIQUE case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        Index("ix_users_email", "email"),
        Index("ix_users_created_at", "created_at"),
        Index("ix_users_is_active", "is_active"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    email_verified: Mapped[bool] = bool_column(False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    phone_number: Mapped[str | None] = mapped_column(String(20))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    timezone: Mapped[str] = str_default(50, "UTC")
    locale: Mapped[str] = str_default(10, "en-US")
    is_active: Mapped[bool] = bool_column(True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_login_attempts: Mapped[int] = int_column(0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()

    roles: Mapped[list[UserRoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    refresh_tokens: Mapped[list[RefreshToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    subscriptions: Mapped[list[UserSubscription]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    payment_methods: Mapped[list[PaymentMethod]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    credits: Mapped[list[UsageCredit]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role_name.value for r in self.roles)


class UserRoleAssignment(Base):
    """A row of ``user_roles`` (named so it does not clash with the ``UserRole`` enum)."""

    __tablename__ = "user_roles"
    __table_args__ = (
        # Not in the spec's DDL, but a role granted twice is meaningless: see docs/decisions.md.
        UniqueConstraint("user_id", "role_name", name="uq_user_roles_user_id_role_name"),
        Index("ix_user_roles_user_id", "user_id"),
        Index("ix_user_roles_role_name", "role_name"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    role_name: Mapped[UserRole] = enum_column(UserRole, "role_name")
    created_at: Mapped[datetime] = created_at_column()
    created_by: Mapped[str | None] = audit_column()

    user: Mapped[User] = relationship(back_populates="roles")


class RefreshToken(Base):
    """``token`` holds a SHA-256 hash of the secret the client keeps, never the secret."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        UniqueConstraint("token"),
        Index("ix_refresh_tokens_user_id", "user_id"),
        Index("ix_refresh_tokens_token", "token"),
        Index("ix_refresh_tokens_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    token: Mapped[str] = mapped_column(String(500), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    is_revoked: Mapped[bool] = bool_column(False)
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="refresh_tokens")


class UserSecurityStamp(Base):
    """The user's session version (an added table: the spec's ``users`` stays as written).

    Access tokens carry the version they were issued under (claim ``sv``); logout-all, password
    change/reset, deactivation and role changes increment it and the Lambda authorizer refuses
    tokens with an older one (``security.session_state``). No row means version 0.
    """

    __tablename__ = "user_security_stamps"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    session_version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    updated_at: Mapped[datetime] = created_at_column()


class _OneTimeToken:
    id: Mapped[uuid.UUID] = uuid_pk()
    token: Mapped[str] = mapped_column(String(255), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()


class EmailVerificationToken(_OneTimeToken, Base):
    __tablename__ = "email_verification_tokens"
    __table_args__ = (
        UniqueConstraint("token"),
        Index("ix_email_verification_tokens_user_id", "user_id"),
        Index("ix_email_verification_tokens_token", "token"),
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


class PasswordResetToken(_OneTimeToken, Base):
    __tablename__ = "password_reset_tokens"
    __table_args__ = (
        UniqueConstraint("token"),
        Index("ix_password_reset_tokens_user_id", "user_id"),
        Index("ix_password_reset_tokens_token", "token"),
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


__all__ = [
    "EmailVerificationToken",
    "PasswordResetToken",
    "RefreshToken",
    "User",
    "UserRoleAssignment",
    "UserSecurityStamp",
]

# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import billing  # noqa: E402, F401
