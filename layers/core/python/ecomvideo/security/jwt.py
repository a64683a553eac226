"""Access tokens: EdDSA (Ed25519) JWTs signed by the auth function, verified by the authorizer.

Asymmetric keys keep signing power in one place: only the auth function can read the private
key (Secrets Manager in AWS, ``JWT_PRIVATE_KEY`` in the local stack and tests); the authorizer
holds only the public key (``JWT_PUBLIC_KEY``). This module must stay import-light (no
SQLAlchemy, no boto3 at import) because the authorizer's cold start pays for every import.

Key rotation: ``JWT_PUBLIC_KEY`` may hold several PEM blocks; tokens carry a ``kid`` (a
fingerprint of the signing key's public half) and are verified with the matching key.

Generate a key pair with ``python -m ecomvideo.security.jwt``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ecomvideo import clock
from ecomvideo.jwt_config import jwt_config

ALGORITHM = "EdDSA"
ACCESS_TOKEN_TTL = timedelta(minutes=15)
# Clock skew tolerated between the signer and the verifier.
LEEWAY_SECONDS = 10
SECRET_MAX_AGE_SECONDS = 300
_REQUIRED_CLAIMS = ["sub", "roles", "iat", "exp", "jti", "iss", "aud", "sv"]
_EPOCH = datetime(1970, 1, 1)  # clock.utcnow() is naive UTC


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by our key."""


class KeyNotConfigured(RuntimeError):
    """No signing or verification key is configured for this function."""


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    roles: tuple[str, ...]
    jti: str
    iat: int
    exp: int
    session_version: int = 0
    session_id: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_in: int


def _normalise_pem(value: str) -> str:
    # Environment variables often carry PEMs with literal "\n" sequences.
    return value.replace("\\n", "\n").strip()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of the public key, sent as the JWT ``kid`` header."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@lru_cache(maxsize=4)
def _load_private(pem: str) -> tuple[Ed25519PrivateKey, str]:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyNotConfigured("the JWT signing key is not an Ed25519 key")
    return key, key_id(key.public_key())


@lru_cache(maxsize=4)
def _load_public(pems: str) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    marker = "-----END PUBLIC KEY-----"
    for block in pems.split(marker):
        if "-----BEGIN" not in block:
            continue
        key = serialization.load_pem_public_key((block.strip() + "\n" + marker).encode())
        if not isinstance(key, Ed25519PublicKey):
            raise KeyNotConfigured("a JWT verification key is not an Ed25519 key")
        keys[key_id(key)] = key
    if not keys:
        raise KeyNotConfigured("JWT_PUBLIC_KEY holds no public key")
    return keys


def _private_pem() -> str:
    config = jwt_config()
    if config.private_key:
        return _normalise_pem(config.private_key)
    if config.private_key_secret_arn:
        # Imported here: only the auth function signs, the authorizer never reaches this.
        from aws_lambda_powertools.utilities.parameters import get_secret

        raw = get_secret(config.private_key_secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
        text = raw if isinstance(raw, str) else raw.decode()
        if text.lstrip().startswith("{"):
            text = json.loads(text)["private_key"]
        return _normalise_pem(text)
    raise KeyNotConfigured("set JWT_PRIVATE_KEY_SECRET_ARN (AWS) or JWT_PRIVATE_KEY (local)")


def _public_keys() -> dict[str, Ed25519PublicKey]:
    config = jwt_config()
    if config.public_key:
        return _load_public(_normalise_pem(config.public_key))
    if config.private_key:
        # Local convenience: one variable is enough when signer and verifier share a process.
        key, kid = _load_private(_normalise_pem(config.private_key))
        return {kid: key.public_key()}
    raise KeyNotConfigured("set JWT_PUBLIC_KEY")


def issue_access_token(
    user_id: uuid.UUID | str,
    roles: Sequence[str],
    *,
    session_version: int = 0,
    session_id: str | None = None,
) -> IssuedToken:
    """Sign a 15-minute access token with claims sub, roles, iat, exp, jti, iss, aud, ``sv``
    (the user's session version) and ``sid`` (the session: its refresh-token family).

    ``roles`` is informational for clients: the authorizer reads the roles from the database.
    """
    config = jwt_config()
    key, kid = _load_private(_private_pem())
    now = _epoch_now()
    ttl = int(ACCESS_TOKEN_TTL.total_seconds())
    jti = uuid.uuid4().hex
    claims = {
        "sub": str(user_id),
        "roles": sorted(set(roles)),
        "iat": now,
        "exp": now + ttl,
        "jti": jti,
        "iss": config.issuer,
        "aud": config.audience,
        "sv": session_version,
    }
    if session_id is not None:
        claims["sid"] = session_id
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
    return IssuedToken(token=token, jti=jti, expires_in=ttl)


def _epoch_now() -> int:
    """Seconds since the epoch from the injectable clock (naive UTC)."""
    now = clock.utcnow()
    return int((now - _EPOCH).total_seconds())


def verify_access_token(token: str) -> AccessClaims:
    """Check signature, algorithm, expiry, issuer and audience; raise ``InvalidToken``."""
    config = jwt_config()
    keys = _public_keys()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        kid = header.get("kid")
        key = keys.get(kid) if kid else None
        if key is None:
            if kid is not None or len(keys) != 1:
                raise InvalidToken("unknown signing key")
            key = next(iter(keys.values()))
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=config.audience,
            issuer=config.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    roles = claims.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("malformed roles claim")
    version = claims.get("sv")
    session_id = claims.get("sid")
    if type(version) is not int or not (session_id is None or isinstance(session_id, str)):
        raise InvalidToken("malformed session claims")
    return AccessClaims(
        sub=str(claims["sub"]),
        roles=tuple(roles),
        jti=str(claims["jti"]),
        iat=int(claims["iat"]),
        exp=int(claims["exp"]),
        session_version=version,
        session_id=session_id,
    )


def issue_purpose_token(subject: str, purpose: str, ttl: timedelta, **claims: str) -> str:
    """A signed single-purpose link token (e.g. ``unlock``): claims sub, exp, iss and an
    audience of ``<audience>#<purpose>``, so it is never an access token (the authorizer
    requires the plain audience) nor a token of another purpose."""
    config = jwt_config()
    key, kid = _load_private(_private_pem())
    now = _epoch_now()
    payload = {
        **claims,
        "sub": subject,
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
        "iss": config.issuer,
        "aud": f"{config.audience}#{purpose}",
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM, headers={"kid": kid})


def verify_purpose_token(token: str, purpose: str) -> dict[str, object]:
    """The claims of a token from ``issue_purpose_token`` for ``purpose``; ``InvalidToken``
    when it is malformed, expired, for another purpose or not signed by our key."""
    config = jwt_config()
    keys = _public_keys()
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("unknown signing key")
        claims: dict[str, object] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=f"{config.audience}#{purpose}",
            issuer=config.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    return claims


def generate_keypair() -> tuple[str, str]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def reset_key_cache() -> None:
    """Forget parsed keys and the key settings (tests switch keys between cases)."""
    jwt_config.cache_clear()
    _load_private.cache_clear()
    _load_public.cache_clear()


if __name__ == "__main__":  # pragma: no cover - operator tool
    private, public = generate_keypair()
    print(json.dumps({"private_key": private, "public_key": public}, indent=2))
