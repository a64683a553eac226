"""Test harness: real PostgreSQL (never SQLite), migrations applied by Alembic, moto for AWS.

Database layout per test run:
- one template database, migrated to head and seeded once per run (under a file lock, so
  pytest-xdist workers share it);
- one database per xdist worker, cloned from the template;
- every test that uses ``db`` runs inside a transaction that is rolled back (services'
  commits become savepoint releases), or, with ``fresh_db``, against real commits on a database
  re-cloned afterwards (concurrency tests need separate connections).

The server is ``DATABASE_URL`` when set (the role needs CREATEDB), else the project-managed
server from ``devserver.pg``.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DB = "ecomvideo_test_template"

# Test-wide environment, before any layer module reads settings.
_TEST_ENV = {
    "STAGE": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "ecomvideo-tests",
    "POWERTOOLS_METRICS_NAMESPACE": "EcomVideo",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}
for _key, _value in _TEST_ENV.items():
    os.environ[_key] = _value
os.environ.pop("AWS_PROFILE", None)


def _lock_path() -> Path:
    path = ROOT / ".local" / "pg"
    path.mkdir(parents=True, exist_ok=True)
    return path / "test-template.lock"


def _admin(url: str):
    from devserver.pg import admin_connection

    return admin_connection(url)


def _with_db(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def migrate(url: str) -> None:
    """alembic upgrade head against ``url``."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def _build_template(server_url: str) -> None:
    from sqlalchemy.orm import Session

    from ecomvideo.db import build_engine
    from ecomvideo.seed import seed

    with _admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    template_url = _with_db(server_url, TEMPLATE_DB)
    migrate(template_url)
    from sqlalchemy.pool import NullPool

    engine = build_engine(template_url, poolclass=NullPool)
    with Session(engine) as session:
        seed(session)
        session.commit()
    engine.dispose()


def clone_database(server_url: str, name: str) -> str:
    with _admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return _with_db(server_url, name)


@pytest.fixture(scope="session")
def server_url() -> str:
    from devserver.pg import ensure_server

    return ensure_server()


@pytest.fixture(scope="session")
def db_url(server_url: str, worker_id: str, testrun_uid: str) -> Iterator[str]:
    """A migrated, seeded database for this worker; DATABASE_URL points at it."""
    from ecomvideo import db
    from ecomvideo.settings import reset_settings

    with open(_lock_path(), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = _lock_path().parent / f"test-template-{testrun_uid}"
        if not marker.exists():
            for old in marker.parent.glob("test-template-*"):
                if old.name != "test-template.lock":
                    old.unlink()
            _build_template(server_url)
            marker.write_text("ready")
        fcntl.flock(lock, fcntl.LOCK_UN)
    name = f"ecomvideo_test_{worker_id}"
    url = clone_database(server_url, name)
    os.environ["DATABASE_URL"] = url
    reset_settings()
    db.reset_engine()
    yield url
    db.reset_engine()


@pytest.fixture
def db(db_url: str) -> Iterator:
    """A connection in a transaction that is rolled back after the test.

    Sessions opened by services (``ecomvideo.db.transaction()``) join it through savepoints.
    """
    from ecomvideo import db as dbmod
    from ecomvideo.security import session_state

    engine = dbmod.get_engine()
    connection = engine.connect()
    outer = connection.begin()
    dbmod.bind_to(connection)
    # The authorizer's account-state read sees the test's uncommitted rows too.
    session_state.bind_to(connection.connection.driver_connection)
    try:
        yield connection
    finally:
        session_state.bind_to(None)
        dbmod.bind_to(None)
        outer.rollback()
        connection.close()


@pytest.fixture
def session(db) -> Iterator:
    """An ORM session inside the test's rolled-back transaction."""
    from ecomvideo.db import get_sessionmaker

    s = get_sessionmaker()()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def fresh_db(db_url: str, server_url: str, worker_id: str) -> Iterator[str]:
    """Real commits on separate connections; the worker database is re-cloned afterwards."""
    from ecomvideo import db as dbmod

    dbmod.reset_engine()
    try:
        yield db_url
    finally:
        dbmod.reset_engine()
        clone_database(server_url, f"ecomvideo_test_{worker_id}")


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS service; Step Functions executes state machines for real."""
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


@pytest.fixture(autouse=True)
def _clock_restored() -> Iterator[None]:
    """Every test leaves ``ecomvideo.clock`` as it found it: a test that freezes the clock
    and does not unfreeze it must not make the next test's tokens expired (xdist runs tests
    of different files on one worker). A module-scoped freeze is set up before this snapshot,
    so it is kept."""
    from ecomvideo import clock

    before = clock.frozen()
    yield
    if before is None:
        clock.unfreeze()
    else:
        clock.freeze(before)
