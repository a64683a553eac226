"""``Idempotency-Key`` for paid requests, stored in PostgreSQL next to what they create.

The record is written in the same transaction as the resource and the credit hold, so either
all three exist or none does. Two requests racing with one key serialise on the primary key:
the second one's INSERT waits for the first transaction, then sees its record and replays it.

Same key + same body -> the stored response (no second video, no second hold).
Same key + different body -> 422 (the client reused a key for another request).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.errors import ValidationFailed, field_error
from ecomvideo.models.pipeline import IdempotencyRecord

KEY_MAX_LENGTH = 255
TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Replay:
    resource_id: uuid.UUID | None
    status_code: int
    response: dict[str, Any] | None


def request_hash(payload: Any) -> str:
    """Stable SHA-256 of a JSON-able request (key order does not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"Idempotency-Key must be 1-{KEY_MAX_LENGTH} printable characters.",
            errors=[field_error("Idempotency-Key", "invalid")],
        )
    return key


def claim(
    session: Session, user_id: uuid.UUID, scope: str, key: str, body_hash: str
) -> Replay | None:
    """Reserve ``key`` for this request, or return the earlier request's outcome.

    Returns None when the key is new (the caller goes on and calls ``complete``). Expired
    records are replaced.
    """
    now = clock.utcnow()
    inserted = session.execute(
        insert(IdempotencyRecord)
        .values(
            user_id=user_id,
            scope=scope,
            key=key,
            request_hash=body_hash,
            status_code=0,
            expires_at=now + TTL,
        )
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.key)
    ).first()
    if inserted is not None:
        return None
    record = session.scalars(
        select(IdempotencyRecord)
        .where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
        )
        .with_for_update()
    ).one()
    if record.expires_at <= now:
        record.request_hash = body_hash
        record.status_code = 0
        record.response = None
        record.resource_id = None
        record.expires_at = now + TTL
        session.flush()
        return None
    if record.request_hash != body_hash:
        raise ValidationFailed(
            "This Idempotency-Key was already used with a different request body.",
            errors=[field_error("Idempotency-Key", "reused with another body", "conflict")],
        )
    return Replay(record.resource_id, record.status_code, record.response)


def complete(
    session: Session,
    user_id: uuid.UUID,
    scope: str,
    key: str,
    *,
    resource_id: uuid.UUID | None,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Store the outcome of the request that claimed ``key`` (same transaction)."""
    record = session.get(IdempotencyRecord, (user_id, scope, key))
    if record is None:  # pragma: no cover - claim() always runs first
        raise RuntimeError("idempotency key was not claimed")
    record.resource_id = resource_id
    record.status_code = status_code
    record.response = response
    session.flush()
