"""Typed access to ``system_settings`` with a short per-container cache.

Values are stored as text with a ``data_type`` (string, number, boolean, json); ``get`` decodes
them and falls back to the given default when the key is missing or malformed, so a bad admin
edit cannot take the API down.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.enums import SettingDataType
from ecomvideo.errors import ValidationFailed, field_error
from ecomvideo.models import SystemSetting
from ecomvideo.observability import logger
from ecomvideo.services import setting_rules

CACHE_TTL_SECONDS = 30.0
_cache: dict[str, tuple[float, Any]] = {}


class InvalidSettingValue(ValueError):
    pass


def decode(value: str, data_type: SettingDataType | str | None) -> Any:
    """Decode a stored value; raises InvalidSettingValue when it does not match its type."""
    kind = SettingDataType(data_type or SettingDataType.STRING)
    try:
        if kind is SettingDataType.NUMBER:
            number = Decimal(value)
            return int(number) if number == number.to_integral_value() else number
        if kind is SettingDataType.BOOLEAN:
            lowered = value.strip().lower()
            if lowered not in {"true", "false"}:
                raise InvalidSettingValue(f"not a boolean: {value!r}")
            return lowered == "true"
        if kind is SettingDataType.JSON:
            return json.loads(value)
    except (InvalidOperation, json.JSONDecodeError) as exc:
        raise InvalidSettingValue(str(exc)) from exc
    return value


def encode(value: Any, data_type: SettingDataType | str) -> str:
    kind = SettingDataType(data_type)
    if kind is SettingDataType.JSON:
        return json.dumps(value, sort_keys=True)
    if kind is SettingDataType.BOOLEAN:
        return "true" if value else "false"
    return str(value)


def get(session: Session, key: str, default: Any = None) -> Any:
    now = time.monotonic()
    cached = _cache.get(key)
    if cached and cached[0] > now:
        return cached[1]
    row = session.execute(
        select(SystemSetting.value, SystemSetting.data_type).where(SystemSetting.key == key)
    ).first()
    value = default
    if row is not None:
        try:
            value = decode(row.value, row.data_type)
        except InvalidSettingValue:
            logger.warning("malformed system setting; using default", extra={"key": key})
    _cache[key] = (now + CACHE_TTL_SECONDS, value)
    return value


def clear_cache() -> None:
    _cache.clear()


# ---------------------------------------------------------------------------- admin API


def validate(value: Any, data_type: SettingDataType | str) -> str:
    """Encode ``value`` for storage after checking it matches ``data_type``.

    Raises InvalidSettingValue when it does not (e.g. "abc" for a number, 1 for a boolean).
    """
    kind = SettingDataType(data_type)
    if kind is SettingDataType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise InvalidSettingValue("expected a number")
        stored = str(value).strip()
        try:
            number = Decimal(stored)
        except InvalidOperation as exc:
            raise InvalidSettingValue("expected a number") from exc
        if not number.is_finite():
            raise InvalidSettingValue("expected a finite number")
        return stored
    if kind is SettingDataType.BOOLEAN:
        if isinstance(value, bool):
            return encode(value, kind)
        if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
            return value.strip().lower()
        raise InvalidSettingValue("expected true or false")
    if kind is SettingDataType.STRING:
        if not isinstance(value, str):
            raise InvalidSettingValue("expected a string")
        return value
    return encode(value, kind)


def list_settings(
    session: Session, *, public_only: bool = False, category: str | None = None
) -> list[SystemSetting]:
    """All settings (admin) or only ``is_public`` ones, ordered by key."""
    stmt = select(SystemSetting).order_by(SystemSetting.key)
    if public_only:
        stmt = stmt.where(SystemSetting.is_public.is_(True))
    if category:
        stmt = stmt.where(SystemSetting.category == category)
    return list(session.scalars(stmt))


def update(
    session: Session,
    key: str,
    value: Any,
    *,
    updated_by: str,
    data_type: SettingDataType | str | None = None,
    description: str | None = None,
    category: str | None = None,
    is_public: bool | None = None,
) -> SystemSetting:
    """Create or change a setting; the value must match its (new or existing) data type.

    The per-container cache of this container is dropped for the key; other containers see the
    change within ``CACHE_TTL_SECONDS``.
    """
    row = session.scalars(
        select(SystemSetting).where(SystemSetting.key == key).with_for_update()
    ).first()
    rule_type = setting_rules.RULES.get(key, (None,))[0]
    kind = SettingDataType(
        data_type or (row.data_type if row else rule_type or SettingDataType.STRING)
    )
    stored = validate(value, kind)
    refused = setting_rules.problem(key, decode(stored, kind), SettingDataType(kind).value)
    if refused:
        raise InvalidSettingValue(f"{key} {refused}")
    if row is None:
        row = SystemSetting(key=key, value=stored, data_type=kind, is_public=bool(is_public))
        session.add(row)
    row.value = stored
    row.data_type = kind
    row.updated_by = updated_by[:100]
    if description is not None:
        row.description = description
    if category is not None:
        row.category = category
    if is_public is not None:
        row.is_public = is_public
    session.flush()
    _cache.pop(key, None)
    return row


def update_many(session: Session, items: Iterable[Any], *, updated_by: str) -> list[SystemSetting]:
    """Apply ``items`` (objects with key, value, data_type, description, category, is_public)
    all or none: every value that does not match its data type is reported in one 422."""
    rows, errors = [], []
    for index, item in enumerate(items):
        try:
            rows.append(
                update(
                    session,
                    item.key,
                    item.value,
                    updated_by=updated_by,
                    data_type=item.data_type,
                    description=item.description,
                    category=item.category,
                    is_public=item.is_public,
                )
            )
        except InvalidSettingValue as exc:
            errors.append(field_error(f"/settings/{index}/value", str(exc), "type_mismatch"))
    if errors:
        raise ValidationFailed("Some settings or values are not acceptable.", errors=errors)
    return rows
