"""Lambda SnapStart (prod API functions): what the snapshot may and may not hold.

Snapshotted (done at import, once per published version): every module import (most of the
cold start), the resolver and its routes, the settings object, and what import leaves for
first use: the before-snapshot hook loads every route's services (the lazy packages of
``ecomvideo.lazy``), builds the validation models (schemas are ``defer_build``) and configures
the mappers, so a restored environment does not pay them.

Never snapshotted, and why:

* database connections: a socket in a snapshot is dead in every restored environment, and one
  restored snapshot runs in many environments at once. The engine is created on first use and
  the before-snapshot hook disposes of it in case init code connected;
* credentials with an expiry: the database password from Secrets Manager (RDS rotates it), the
  JWT and provider secrets. They are fetched on first use and cached for 5 minutes; the
  after-restore hook empties the cache so a restored environment never uses a value fetched
  before the snapshot (Lambda supplies fresh AWS credentials itself);
* random state: tokens, ids and nonces come from ``secrets``/``uuid4`` (os.urandom), which
  stays unique after a restore; nothing seeds ``random`` at import.

The hooks come from ``snapshot_restore_py``, which the Lambda Python runtimes include; outside
Lambda (tests, the local stack) ``register()`` does nothing.
"""

from __future__ import annotations

import sys

_registered = False


def before_snapshot() -> None:
    from ecomvideo import db

    build_deferred()
    db.reset_engine()


def build_deferred() -> None:
    """Load the modules behind the imported lazy service packages (``ecomvideo.lazy``: each
    route's services), then build every imported schema and configure the imported mappers
    (work that import defers to the first request)."""
    if (lazy := sys.modules.get("ecomvideo.lazy")) is not None:
        lazy.load_primed()
    if (base := sys.modules.get("ecomvideo.schemas.base")) is not None:
        pending = [base.Schema]
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            if not cls.__pydantic_complete__:
                cls.model_rebuild()
    if "ecomvideo.models.base" in sys.modules:
        from sqlalchemy.orm import configure_mappers

        configure_mappers()


def after_restore() -> None:
    from aws_lambda_powertools.utilities.parameters import clear_caches

    from ecomvideo import db

    clear_caches()
    db.reset_engine()


def register() -> bool:
    """Register the hooks once per process; False when not running in a SnapStart runtime."""
    global _registered
    if _registered:
        return True
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    _registered = True
    return True
