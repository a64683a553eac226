"""The local stack's JWT signing key pair (Ed25519), kept in ``.local/`` across restarts.

In AWS the private key lives in Secrets Manager and the authorizer gets the public key from
the template; locally both go into every function's environment, so access tokens issued
before a restart keep working.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY_FILE = ROOT / ".local" / "jwt-dev-keys.json"


def local_jwt_keys(path: Path = KEY_FILE) -> dict[str, str]:
    """``JWT_PRIVATE_KEY`` / ``JWT_PUBLIC_KEY`` values, generated on first use."""
    if path.exists():
        data = json.loads(path.read_text())
    else:
        from ecomvideo.security.jwt import generate_keypair

        private, public = generate_keypair()
        data = {"private_key": private, "public_key": public}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        path.chmod(0o600)
    return {"JWT_PRIVATE_KEY": data["private_key"], "JWT_PUBLIC_KEY": data["public_key"]}
