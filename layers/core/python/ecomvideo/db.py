"""Engine and sessions for Lambda.

One engine per container, created on first use (never a connection at import time, so
SnapStart snapshots hold no sockets). The pool is small because each container serves one
request at a time; RDS Proxy / PgBouncer do the real pooling in production, hence prepared
statements are disabled (``prepare_threshold=None``) to stay safe in transaction pooling mode.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

# The driver loads at import (INIT), not inside the first request: every function that imports
# this module queries on its first request anyway, and in a SnapStart snapshot (prod API
# functions) the loaded driver is restored for free. Connections still open on first use.
import psycopg  # noqa: F401
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from ecomvideo.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy import CursorResult, Result

_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None


def _url_from_secret(secret_arn: str) -> str:
    from aws_lambda_powertools.utilities.parameters import get_secret

    raw = get_secret(secret_arn, max_age=300)
    data: dict[str, Any] = json.loads(raw if isinstance(raw, str) else raw.decode())
    from sqlalchemy.engine import URL

    return URL.create(
        "postgresql+psycopg",
        username=data["username"],
        password=data["password"],
        host=data["host"],
        port=int(data.get("port", 5432)),
        database=data.get("dbname", "ecomvideo"),
    ).render_as_string(hide_password=False)


def build_engine(url: str | None = None, **overrides: Any) -> Engine:
    """Create an engine with the production settings (pool, timeouts, UTC sessions)."""
    settings = get_settings()
    if url is None:
        url = settings.sqlalchemy_url()
        if url is None and settings.db_secret_arn:
            url = _url_from_secret(settings.db_secret_arn)
    if url is None:
        raise RuntimeError("DATABASE_URL or DB_SECRET_ARN must be set")
    options = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_pre_ping": True,
        "pool_recycle": 300,
        "connect_args": {
            "connect_timeout": settings.db_connect_timeout_s,
            "prepare_threshold": None,
            "application_name": f"ecomvideo-{settings.stage}",
            "options": f"-c timezone=UTC -c statement_timeout={settings.db_statement_timeout_ms}",
        },
    }
    if "poolclass" in overrides:
        # NullPool (migrations, scripts) takes no sizing arguments.
        options.pop("pool_size")
        options.pop("max_overflow")
    options.update(overrides)
    return create_engine(url, **options)


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = build_engine()
    return _engine


def get_sessionmaker() -> sessionmaker[Session]:
    global _sessionmaker
    if _sessionmaker is None:
        _sessionmaker = sessionmaker(bind=get_engine(), expire_on_commit=False)
    return _sessionmaker


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back on any exception."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def bind_to(connection: Connection | Engine | None) -> None:
    """Point sessions at an outside connection (tests) or back at the engine (None).

    With a connection, commits inside services become savepoint releases, so a test can roll
    everything back at the end.
    """
    global _sessionmaker
    if connection is None:
        _sessionmaker = None
        return
    if isinstance(connection, Engine):
        _sessionmaker = sessionmaker(bind=connection, expire_on_commit=False)
    else:
        _sessionmaker = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )


def rowcount(result: Result[Any]) -> int:
    """Rows an executed UPDATE/DELETE matched (0 when the driver reports none).

    ``Session.execute`` is typed as returning ``Result``; for DML it is a ``CursorResult``,
    the class that has ``rowcount``.
    """
    return cast("CursorResult[Any]", result).rowcount or 0


def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        with get_sessionmaker()() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def reset_engine() -> None:
    """Forget the engine (and the authorizer's own connection, ``security.session_state``)."""
    global _engine, _sessionmaker
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _sessionmaker = None
    from ecomvideo.security import session_state

    session_state.reset()
