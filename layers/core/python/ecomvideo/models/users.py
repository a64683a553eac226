"""Spec section 1: users and their roles.

The rest of section 1 (refresh tokens, one-time email/password tokens, the session version)
is in ``models.tokens``: a function that reads a user (most of them) maps two classes, not six.
"""

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
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

    roles: Mapped[list["UserRoleAssignment"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    # No collections of billing rows here: their foreign keys cascade in the database
    # (ON DELETE CASCADE) and nothing reads them through the user, so mapping a User does not
    # map the six billing classes (cold start of every function that loads a user).

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

    user: Mapped["User"] = relationship(back_populates="roles")


__all__ = [
    "User",
    "UserRoleAssignment",
]
