"""The access-token settings, read without pydantic (the authorizer's import-light path).

``settings.Settings`` stays the documented source of every variable; these five are also read
here, with the same names and defaults (``tests/unit/auth/test_jwt_config.py`` checks that they
agree), because importing pydantic and pydantic-settings costs the authorizer about 150 ms of
cold start and it needs nothing else from the settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_ISSUER = "https://api.ecomvideo.ai"
DEFAULT_AUDIENCE = "ecomvideo-api"


@dataclass(frozen=True)
class JwtConfig:
    issuer: str
    audience: str
    public_key: str | None
    private_key: str | None
    private_key_secret_arn: str | None


@lru_cache(maxsize=1)
def jwt_config() -> JwtConfig:
    """Read once per container; ``settings.reset_settings()`` forgets it too."""
    env = os.environ
    return JwtConfig(
        issuer=env.get("JWT_ISSUER", DEFAULT_ISSUER),
        audience=env.get("JWT_AUDIENCE", DEFAULT_AUDIENCE),
        public_key=env.get("JWT_PUBLIC_KEY"),
        private_key=env.get("JWT_PRIVATE_KEY"),
        private_key_secret_arn=env.get("JWT_PRIVATE_KEY_SECRET_ARN"),
    )
