"""A PostgreSQL server the project manages itself (for `make dev` and the tests).

Order of preference:
1. ``DATABASE_URL`` when set: used as is, nothing is started.
2. PostgreSQL binaries on this machine (``initdb``/``pg_ctl`` on PATH or under
   /usr/lib/postgresql/*/bin). ``initdb`` refuses to run as root, so as root the cluster is
   created and run by the ``postgres`` OS user.
3. The embedded server from PyPI (``pgserver``), which copes with root but has no contrib
   extensions (the migrations detect that and skip pg_trgm/btree_gin features).

The cluster lives in ``.local/pg`` inside the checkout and listens on 127.0.0.1 only.

CLI: ``python -m devserver.pg start|stop|status|url`` and
``python -m devserver.pg run -- CMD...`` (start if needed, run CMD with DATABASE_URL set, stop
again if this call started the server).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("ECOMVIDEO_PG_DIR", ROOT / ".local" / "pg"))
DATA_DIR = STATE_DIR / "data"
SOCKET_DIR = STATE_DIR / "run"
LOG_FILE = STATE_DIR / "postgres.log"
LOCK_FILE = STATE_DIR / ".lock"
PORT = int(os.environ.get("ECOMVIDEO_PG_PORT", "54329"))
DB_NAME = "ecomvideo"
SERVER_OPTIONS = (
    f"-p {PORT} -k {SOCKET_DIR} -c listen_addresses=127.0.0.1 -c timezone=UTC "
    "-c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c shared_buffers=128MB"
)


def _bindir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    candidates += sorted(glob.glob("/usr/local/pgsql/bin/initdb"))
    return Path(candidates[0]).parent if candidates else None


def _run_as_owner(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool, as the ``postgres`` user when we are root."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, **kwargs)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _server_url(dbname: str = DB_NAME) -> str:
    return f"postgresql://postgres@127.0.0.1:{PORT}/{dbname}"


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _use_system_binaries() -> bool:
    if _bindir() is None:
        return False
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False
    return True


def _start_system() -> None:
    bindir = _bindir()
    assert bindir is not None
    SOCKET_DIR.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (STATE_DIR, SOCKET_DIR):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        # The checkout may sit under a directory postgres cannot traverse (e.g. /root).
        _ensure_traversable(STATE_DIR)
    if not (DATA_DIR / "PG_VERSION").exists():
        _run_as_owner(
            [
                str(bindir / "initdb"),
                "-D",
                str(DATA_DIR),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            stdout=subprocess.DEVNULL,
        )
    if os.geteuid() == 0 and LOG_FILE.exists():
        owner = pwd.getpwnam("postgres")
        os.chown(LOG_FILE, owner.pw_uid, owner.pw_gid)
    _run_as_owner(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(DATA_DIR),
            "-o",
            SERVER_OPTIONS,
            "-l",
            str(LOG_FILE),
            "-w",
            "-t",
            "60",
            "start",
        ],
        stdout=subprocess.DEVNULL,
    )


def _ensure_traversable(path: Path) -> None:
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _start_embedded() -> str:
    try:
        import pgserver  # type: ignore[import-not-found]  # optional, no type information
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise SystemExit(
            "No PostgreSQL binaries found and the 'pgserver' package is not installed. "
            "Set DATABASE_URL or install PostgreSQL."
        ) from exc
    server = pgserver.get_server(str(STATE_DIR / "embedded"), cleanup_mode=None)
    (STATE_DIR / "embedded.url").write_text(server.get_uri())
    return server.get_uri()


def _create_database(url: str, dbname: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, dbname="postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')


def _wait_ready(url: str, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, dbname="postgres", connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ensure_server() -> str:
    """Return the URL of a running PostgreSQL database, starting the managed one if needed."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    with _locked():
        if _use_system_binaries():
            if not _port_open(PORT):
                _start_system()
            url = _server_url()
        else:
            url = _start_embedded()
        _wait_ready(url)
        _create_database(url, DB_NAME)
    return url


def admin_connection(url: str) -> Any:
    """An autocommit psycopg connection to the ``postgres`` database of ``url``'s server (for
    CREATE/DROP DATABASE); ``url`` may be a SQLAlchemy URL (``postgresql+psycopg://``)."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
        autocommit=True,
    )


def scratch_database(name: str, *, seed: bool = True) -> str:
    """A fresh database ``name`` on the server (dropped first), migrated to head and seeded.

    For benchmarks and one-off experiments; returns its URL.
    """
    from sqlalchemy.engine import make_url

    server = ensure_server()
    parsed = make_url(server)
    with admin_connection(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = parsed.set(database=name).render_as_string(hide_password=False)
    layer = ROOT / "layers" / "core" / "python"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": f"{layer}{os.pathsep}{ROOT}"}
    commands = [["-m", "alembic", "upgrade", "head"]] + ([["-m", "ecomvideo.seed"]] if seed else [])
    for args in commands:
        subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    return url


def is_running() -> bool:
    if (STATE_DIR / "embedded.url").exists():
        return True
    return _port_open(PORT)


def stop_server(*, started_here: bool = False) -> None:
    """Stop the managed server (no-op when DATABASE_URL is used or nothing runs).

    ``started_here``: the caller started it and has exported its DATABASE_URL since (the dev
    server does), so the variable does not mean "someone else's database"."""
    if os.environ.get("DATABASE_URL") and not started_here:
        return
    with _locked():
        bindir = _bindir()
        if bindir and (DATA_DIR / "postmaster.pid").exists():
            _run_as_owner(
                [str(bindir / "pg_ctl"), "-D", str(DATA_DIR), "-m", "fast", "-w", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        embedded = STATE_DIR / "embedded.url"
        if embedded.exists():
            import pgserver  # type: ignore[import-not-found]  # optional, no type information

            pgserver.get_server(str(STATE_DIR / "embedded"), cleanup_mode="stop").cleanup()
            embedded.unlink()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start" or command == "url":
        print(ensure_server())
    elif command == "stop":
        stop_server()
    elif command == "status":
        print("running" if is_running() else "stopped")
    elif command == "run":
        cmd = argv[2:] if len(argv) > 1 and argv[1] == "--" else argv[1:]
        started_here = not os.environ.get("DATABASE_URL") and not is_running()
        url = ensure_server()
        env = {**os.environ, "DATABASE_URL": url}
        try:
            return subprocess.call(cmd, env=env)
        finally:
            if started_here:
                stop_server()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
