"""What the Lambda authorizer checks after the signature: does the account still allow it?

One statement per (user, session) and container, re-read after ``CACHE_SECONDS``:

* the user row exists (a deleted account's tokens die) and ``is_active``;
* the token's session version (claim ``sv``) equals ``user_security_stamps.session_version``
  (logout-all, password change/reset, deactivation and role changes increment it);
* the token's session (claim ``sid``, the refresh-token family it was issued with) still has a
  live refresh token (logout revokes the family);
* the roles, read from ``user_roles``: the token's ``roles`` claim is never trusted.

Import-light for the authorizer's cold start: psycopg (no SQLAlchemy) is imported on the first
lookup, not at import. The connection is one per container, autocommit, reopened after an
error. ``CACHE_SECONDS`` plus API Gateway's authorizer cache (``ReauthorizeEvery`` in
template.yaml) bound how long a revoked token keeps working: 30 s + 30 s = 60 s.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecomvideo import clock

CACHE_SECONDS = 30
MAX_CACHED = 10_000
DEFAULT_ROLE = "User"

# Every lookup is by primary key (users, user_security_stamps) or by the user_id indexes of
# user_roles and refresh_tokens: one round trip, index reads only.
QUERY = """
SELECT u.is_active,
       COALESCE(s.session_version, 0),
       ARRAY(SELECT r.role_name::text FROM user_roles r WHERE r.user_id = u.id),
       (%(sid)s::text IS NULL OR EXISTS (
            SELECT 1 FROM refresh_tokens t
            WHERE t.user_id = u.id AND NOT t.is_revoked
              AND left(t.token, 33) = %(sid)s::text || ':'))
FROM users u
LEFT JOIN user_security_stamps s ON s.user_id = u.id
WHERE u.id = %(user_id)s::uuid
"""


@dataclass(frozen=True)
class AccountState:
    is_active: bool
    session_version: int
    roles: tuple[str, ...]
    session_live: bool


_cache: dict[tuple[str, str | None], tuple[datetime, AccountState | None]] = {}
_connection: Any = None
_bound: Any = None


def _conninfo() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url.replace("postgresql+psycopg://", "postgresql://", 1)
    arn = os.environ.get("DB_SECRET_ARN")
    if not arn:
        raise RuntimeError("DATABASE_URL or DB_SECRET_ARN must be set")
    import json

    from aws_lambda_powertools.utilities.parameters import get_secret

    raw = get_secret(arn, max_age=300)
    data = json.loads(raw if isinstance(raw, str) else raw.decode())
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=data["host"],
        port=int(data.get("port", 5432)),
        dbname=data.get("dbname", "ecomvideo"),
        user=data["username"],
        password=data["password"],
    )


def _open() -> Any:
    import psycopg

    return psycopg.connect(
        _conninfo(),
        autocommit=True,
        connect_timeout=3,
        prepare_threshold=None,  # safe behind RDS Proxy / PgBouncer transaction pooling
        application_name="ecomvideo-authorizer",
        options="-c statement_timeout=2000",
    )


def _fetch(user_id: str, sid: str | None) -> AccountState | None:
    global _connection
    if _bound is not None:
        connection = _bound
    else:
        if _connection is None or _connection.closed:
            _connection = _open()
        connection = _connection
    try:
        with connection.cursor() as cursor:
            cursor.execute(QUERY, {"user_id": user_id, "sid": sid})
            row = cursor.fetchone()
    except Exception:
        if connection is _connection:
            _connection = None  # reopen on the next request
        raise
    if row is None:
        return None
    active, version, roles, live = row
    return AccountState(
        is_active=bool(active),
        session_version=int(version),
        roles=tuple(sorted(roles)) or (DEFAULT_ROLE,),
        session_live=bool(live),
    )


def lookup(user_id: str, sid: str | None) -> AccountState | None:
    """The account's state (None: no such user), at most ``CACHE_SECONDS`` old."""
    key = (user_id, sid)
    now = clock.utcnow()
    cached = _cache.get(key)
    if cached is not None and now - cached[0] < timedelta(seconds=CACHE_SECONDS):
        return cached[1]
    state = _fetch(user_id, sid)
    if len(_cache) >= MAX_CACHED:
        _cache.clear()
    _cache[key] = (now, state)
    return state


def refusal(state: AccountState | None, session_version: int) -> str | None:
    """Why a token with ``session_version`` may not be used, or None when it may."""
    if state is None:
        return "account deleted"
    if not state.is_active:
        return "account deactivated"
    if state.session_version != session_version:
        return "session version changed"
    if not state.session_live:
        return "session logged out"
    return None


def clear_cache() -> None:
    _cache.clear()


def reset() -> None:
    """Close the container's connection and forget the cache (``db.reset_engine`` calls it)."""
    global _connection
    if _connection is not None:
        with contextlib.suppress(Exception):  # closing a broken connection
            _connection.close()
    _connection = None
    _cache.clear()


def bind_to(connection: Any) -> None:
    """Run lookups on an outside psycopg connection (tests: the rolled-back test transaction,
    like ``db.bind_to``), or on the container's own connection again (None)."""
    global _bound
    _bound = connection
    _cache.clear()
