"""Typed access to ``system_settings`` with a short per-container cache.

Values are stored as text with a ``data_type`` (string, number, boolean, json); ``get`` decodes
them and falls back to the given default when the key is missing or malformed, so a bad admin
edit cannot take the API down.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.enums import SettingDataType
from ecomvideo.models import SystemSetting
from ecomvideo.observability import logger

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
