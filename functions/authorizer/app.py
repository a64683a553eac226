"""HTTP API Lambda REQUEST authorizer (payload 2.0, simple responses).

Verifies the bearer access token (EdDSA signature, expiry, issuer, audience) with the public
key only, then asks ``security.session_state`` whether the account still allows it (exists,
active, same session version, session not logged out), and hands ``userId`` and the roles
*from the database* (comma-separated) to the route's handler through
``requestContext.authorizer.lambda``. Import-light for cold starts: no SQLAlchemy, no boto3 at
import; psycopg is loaded on the first request. See docs/decisions.md, "Sessions".
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.correlation_paths import API_GATEWAY_HTTP
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.security import session_state
from ecomvideo.security.jwt import InvalidToken, KeyNotConfigured, verify_access_token

logger = Logger()
DENY: dict[str, Any] = {"isAuthorized": False}


def bearer_token(event: dict[str, Any]) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (header names are lower-case in 2.0)."""
    headers = event.get("headers") or {}
    value = headers.get("authorization")
    if value is None:
        sources = event.get("identitySource") or []
        value = sources[0] if sources else None
    if not value:
        return None
    scheme, _, token = str(value).strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 4096:
        return None
    return token


@logger.inject_lambda_context(correlation_id_path=API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = bearer_token(event)
    if token is None:
        return DENY
    try:
        claims = verify_access_token(token)
    except InvalidToken as exc:
        # The reason is the exception class name (e.g. ExpiredSignatureError), never the token.
        logger.info("access token rejected", extra={"reason": str(exc)})
        return DENY
    except KeyNotConfigured:
        logger.error("authorizer has no verification key configured")
        return DENY
    try:
        state = session_state.lookup(claims.sub, claims.session_id)
    except Exception as exc:  # fail closed: no database answer, no access
        logger.error("account state unavailable", extra={"error": type(exc).__name__})
        return DENY
    refused = session_state.refusal(state, claims.session_version)
    if refused is not None or state is None:
        logger.info("access token revoked", extra={"reason": refused, "user_id": claims.sub})
        return DENY
    return {
        "isAuthorized": True,
        "context": {"userId": claims.sub, "roles": ",".join(state.roles), "jti": claims.jti},
    }
