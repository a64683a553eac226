"""Declarative base and the column shapes the spec repeats (UUID keys, audit columns, enums)."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    FetchedValue,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Naive UTC now: the spec's columns are TIMESTAMP (without time zone), all UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True),
        primary_key=True,
        default=uuid.uuid4,
        server_default=text("gen_random_uuid()"),
    )


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime, nullable=False, server_default=text("CURRENT_TIMESTAMP"))


def updated_at_column() -> Mapped[datetime | None]:
    # Maintained by the set_updated_at() trigger (see the initial migration), so raw SQL
    # updates keep it right too; FetchedValue makes the ORM read it back after an UPDATE.
    return mapped_column(DateTime, nullable=True, server_onupdate=FetchedValue())


def audit_column() -> Mapped[str | None]:
    return mapped_column(String(100), nullable=True)


def enum_column(
    enum_cls: type[enum.Enum],
    name: str,
    *,
    length: int = 50,
    nullable: bool = False,
    default: enum.Enum | None = None,
) -> Mapped:
    """VARCHAR(length) holding the enum's value, CHECK-constrained (``ck_<table>_<name>``)."""
    kwargs: dict = {"nullable": nullable}
    if default is not None:
        kwargs["default"] = default
        kwargs["server_default"] = text(f"'{default.value}'")
    return mapped_column(
        Enum(
            enum_cls,
            native_enum=False,
            create_constraint=True,
            length=length,
            name=name,
            values_callable=lambda cls: [member.value for member in cls],
            validate_strings=True,
        ),
        **kwargs,
    )


def bool_column(default: bool) -> Mapped[bool]:
    """A spec column 'BOOLEAN DEFAULT x' (nullable in the spec, never NULL in practice)."""
    return mapped_column(
        Boolean, nullable=True, default=default, server_default=text(str(default).lower())
    )


def int_column(default: int) -> Mapped[int]:
    return mapped_column(Integer, nullable=True, default=default, server_default=text(str(default)))


def bigint_column(default: int) -> Mapped[int]:
    return mapped_column(
        BigInteger, nullable=True, default=default, server_default=text(str(default))
    )


def str_default(length: int, default: str) -> Mapped[str]:
    return mapped_column(
        String(length), nullable=True, default=default, server_default=text(f"'{default}'")
    )


__all__ = [
    "JSONB",
    "UUID",
    "Base",
    "Text",
    "audit_column",
    "bigint_column",
    "bool_column",
    "created_at_column",
    "enum_column",
    "int_column",
    "str_default",
    "updated_at_column",
    "utcnow",
    "uuid_pk",
]
