"""The Lambda authorizer accepts only unexpired tokens signed by our key for our audience.

The account behind the token exists in the (rolled-back) test database: the authorizer reads
its state and roles there (tests/integration/auth/test_revocation.py covers that part).
"""

from __future__ import annotations

import base64
import hashlib
import hmac as hmac_mod
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import jwt as pyjwt
import pytest

from devserver.events import HttpRequest, authorizer_event
from ecomvideo import clock
from ecomvideo.security import jwt
from ecomvideo.settings import reset_settings
from tests.support.lambda_handlers import context, load_handler_module

USER_ID = uuid.UUID("8b2f6f5e-7a43-4d0e-9a59-1f3c1b7f0a11")


@pytest.fixture
def keys(monkeypatch, session) -> Iterator[tuple[str, str]]:
    from tests.support.factories import assign_roles, make_user

    make_user(session, id=USER_ID)
    session.commit()
    assign_roles(USER_ID, ["User", "Admin"])
    private, public = jwt.generate_keypair()
    monkeypatch.setenv("JWT_PRIVATE_KEY", private)
    monkeypatch.setenv("JWT_PUBLIC_KEY", public)
    reset_settings()
    jwt.reset_key_cache()
    yield private, public
    clock.unfreeze()
    reset_settings()
    jwt.reset_key_cache()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def authorize(header: str | None) -> dict:
    headers = [("authorization", header)] if header is not None else []
    request = HttpRequest(method="GET", path="/v1/me", headers=headers)
    event = authorizer_event(request, route_key="GET /v1/me", identity_headers=("authorization",))
    return load_handler_module("authorizer").lambda_handler(event, context("authorizer"))


def test_valid_token_passes_user_id_and_roles(keys):
    token = jwt.issue_access_token(USER_ID, ["User", "Admin"]).token
    result = authorize(f"Bearer {token}")
    assert result["isAuthorized"] is True
    assert result["context"]["userId"] == str(USER_ID)
    assert result["context"]["roles"] == "Admin,User"


def test_claims_are_the_documented_ones(keys):
    issued = jwt.issue_access_token(USER_ID, ["User"])
    claims = pyjwt.decode(issued.token, options={"verify_signature": False})
    assert set(claims) == {"sub", "roles", "iat", "exp", "jti", "iss", "aud", "sv"}
    assert claims["exp"] - claims["iat"] == 900
    assert pyjwt.get_unverified_header(issued.token)["alg"] == "EdDSA"


def test_expired_token_is_denied(keys):
    clock.freeze(clock.utcnow() - timedelta(minutes=16))
    token = jwt.issue_access_token(USER_ID, ["User"]).token
    clock.unfreeze()
    assert authorize(f"Bearer {token}") == {"isAuthorized": False}


def test_tampered_token_is_denied(keys):
    token = jwt.issue_access_token(USER_ID, ["User"]).token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["Admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert authorize(f"Bearer {header}.{forged}.{signature}") == {"isAuthorized": False}


def test_token_signed_with_another_key_is_denied(keys, monkeypatch):
    other_private, _ = jwt.generate_keypair()
    monkeypatch.setenv("JWT_PRIVATE_KEY", other_private)
    reset_settings()
    token = jwt.issue_access_token(USER_ID, ["User"]).token
    monkeypatch.setenv("JWT_PRIVATE_KEY", keys[0])
    reset_settings()
    assert authorize(f"Bearer {token}") == {"isAuthorized": False}


def test_wrong_audience_or_issuer_is_denied(keys, monkeypatch):
    monkeypatch.setenv("JWT_AUDIENCE", "someone-else")
    reset_settings()
    token = jwt.issue_access_token(USER_ID, ["User"]).token
    monkeypatch.delenv("JWT_AUDIENCE")
    reset_settings()
    assert authorize(f"Bearer {token}") == {"isAuthorized": False}
    monkeypatch.setenv("JWT_ISSUER", "https://evil.example")
    reset_settings()
    token = jwt.issue_access_token(USER_ID, ["User"]).token
    monkeypatch.delenv("JWT_ISSUER")
    reset_settings()
    assert authorize(f"Bearer {token}") == {"isAuthorized": False}


def test_unsigned_and_symmetric_tokens_are_denied(keys):
    claims = {"sub": str(USER_ID), "roles": ["Admin"], "iat": 1, "exp": 9999999999, "jti": "x"}
    unsigned = pyjwt.encode(claims, None, algorithm="none")
    # Algorithm confusion: an HMAC "signed" with the public key PEM (built by hand, since
    # PyJWT refuses to do it).
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac_mod.new(keys[1].encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    hmac = f"{header}.{body}.{_b64(mac)}"
    assert authorize(f"Bearer {unsigned}") == {"isAuthorized": False}
    assert authorize(f"Bearer {hmac}") == {"isAuthorized": False}


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt"])
def test_missing_or_malformed_header_is_denied(keys, header):
    assert authorize(header) == {"isAuthorized": False}


def test_no_key_configured_denies(monkeypatch, db):
    monkeypatch.delenv("JWT_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("JWT_PUBLIC_KEY", raising=False)
    reset_settings()
    jwt.reset_key_cache()
    assert authorize("Bearer a.b.c") == {"isAuthorized": False}
