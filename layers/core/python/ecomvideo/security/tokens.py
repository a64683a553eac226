"""Opaque secrets (refresh, verification and reset tokens) and the hashes we store for them.

The client keeps the secret; the database keeps only its SHA-256, so a leaked table (or a log
line with a column value) cannot be replayed. SHA-256 without salt is enough here because the
secrets are 256-bit random values, not guessable passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits of entropy


def new_token() -> str:
    """A URL-safe random secret with 256 bits of entropy (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Hex SHA-256 of ``token``: the only form that is ever stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two stored hashes."""
    return hmac.compare_digest(a.encode(), b.encode())
