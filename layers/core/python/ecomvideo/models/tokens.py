"""Spec section 1, sessions: refresh tokens, one-time email/password tokens (all stored as
hashes) and the session version of each user (``user_security_stamps``, an addition)."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.models.base import Base, bool_column, created_at_column, uuid_pk

if TYPE_CHECKING:
    from ecomvideo.models.users import User


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

    user: Mapped["User"] = relationship()


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
    "UserSecurityStamp",
]

# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users  # noqa: E402, F401
