"""Lambda SnapStart (prod API functions): what the snapshot may and may not hold.

Snapshotted (done at import, once per published version): every module import (most of the
cold start), the resolver and its routes, validation models, the settings object.

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

_registered = False


def before_snapshot() -> None:
    from ecomvideo import db

    db.reset_engine()


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
