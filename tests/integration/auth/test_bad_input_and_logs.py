"""Bad input is a 4xx problem+json that writes nothing; logs never carry secrets."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from ecomvideo.models import (
    EmailVerificationToken,
    PasswordResetToken,
    RefreshToken,
    User,
    UserActivity,
)
from ecomvideo.models.ratelimit import RateLimitCounter
from tests.support.accounts import PASSWORD, link_token, login, register

VALID = {"email": "valid@example.com", "password": PASSWORD, "first_name": "Val"}
TEN_MB = json.dumps({**VALID, "first_name": "x" * (10 * 1024 * 1024)})

BAD_REGISTRATIONS = {
    "missing email": ({"password": PASSWORD}, 422),
    "missing password": ({"email": "a@example.com"}, 422),
    "empty body": ({}, 422),
    "wrong type": ({**VALID, "password": 1234567890123}, 422),
    "email list": ({**VALID, "email": ["a@example.com"]}, 422),
    "invalid email": ({**VALID, "email": "not-an-email"}, 422),
    "unknown field": ({**VALID, "is_admin": True}, 422),
    "role injection": ({**VALID, "roles": ["Admin"]}, 422),
    "short password": ({**VALID, "password": "short"}, 422),
    "common password": ({**VALID, "password": "password123"}, 422),
    "password is email": ({**VALID, "password": "valid@example.com"}, 422),
    "bad timezone": ({**VALID, "timezone": "Nowhere/City"}, 422),
    "huge password": ({**VALID, "password": "x" * 5000}, 422),
}


def _counts(session) -> dict[str, int]:
    tables = (User, UserActivity, RefreshToken, EmailVerificationToken, PasswordResetToken)
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in tables}


@pytest.mark.parametrize("case", list(BAD_REGISTRATIONS))
def test_bad_registration_is_rejected_and_writes_nothing(api, mailbox, session, case):
    body, status = BAD_REGISTRATIONS[case]
    before = _counts(session)
    response = api.call("auth", "POST", "/v1/auth/register", body)
    assert response.status == status, response.body
    assert response.content_type == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["type"].startswith("https://")
    # the submitted values are never echoed back
    assert PASSWORD not in response.body
    assert _counts(session) == before
    assert mailbox() == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (TEN_MB, 413),
        ('{"email": "a@example.com", "password": ', 400),
        ("[]", 422),
        ('"just a string"', 422),
    ],
)
def test_malformed_or_oversized_bodies(api, mailbox, session, raw, status):
    before = _counts(session)
    for path in ("/v1/auth/register", "/v1/auth/login", "/v1/auth/forgot-password"):
        response = api.call("auth", "POST", path, raw_body=raw)
        assert response.status == status, (path, response.body)
        assert response.content_type == "application/problem+json"
    assert _counts(session) == before
    # Refused requests count toward the caller's general API window (issue 20), and only that:
    # no login-attempt or other counter moves.
    counters = session.scalars(select(RateLimitCounter)).all()
    assert [(c.key.startswith("api:rpm:"), c.count) for c in counters] == [(True, 3)]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth/login", {"email": "a@example.com"}),
        ("/v1/auth/login", {"email": "a@example.com", "password": PASSWORD, "otp": "1"}),
        ("/v1/auth/refresh", {"refresh_token": 42}),
        ("/v1/auth/verify-email", {"token": "short"}),
        ("/v1/auth/reset-password", {"token": "x" * 43}),
        ("/v1/auth/forgot-password", {"email": "nope"}),
        ("/v1/auth/resend-verification", {"email": None}),
    ],
)
def test_other_auth_routes_validate_their_bodies(api, session, path, body):
    before = _counts(session)
    response = api.call("auth", "POST", path, body)
    assert response.status == 422, response.body
    assert response.content_type == "application/problem+json"
    assert _counts(session) == before


def test_no_password_token_or_hash_in_logs(api, mailbox, session, capfd, caplog):
    # The deployed level. (At DEBUG, botocore itself logs SES request bodies, links included.)
    caplog.set_level("INFO")
    register(api, "logs@example.com")
    verify_token = link_token(mailbox()[-1])
    api.call("auth", "POST", "/v1/auth/verify-email", {"token": verify_token})
    login(api, "logs@example.com", "a wrong password!")
    tokens = login(api, "logs@example.com").json()
    rotated = api.call(
        "auth", "POST", "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}
    ).json()
    api.call("auth", "POST", "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    api.call("auth", "POST", "/v1/auth/forgot-password", {"email": "logs@example.com"})
    reset_token = link_token(mailbox()[-1])
    api.call(
        "auth",
        "POST",
        "/v1/auth/reset-password",
        {"token": reset_token, "new_password": "the next passphrase"},
    )
    api.call("account", "GET", "/v1/me", token=rotated["access_token"])
    api.call("auth", "POST", "/v1/auth/logout", {"refresh_token": rotated["refresh_token"]})

    user = session.scalars(select(User).where(User.email == "logs@example.com")).one()
    stored = session.scalars(select(RefreshToken.token)).all()
    secrets = [
        PASSWORD,
        "a wrong password!",
        "the next passphrase",
        verify_token,
        reset_token,
        tokens["access_token"],
        tokens["refresh_token"].split(".")[1],
        rotated["access_token"],
        rotated["refresh_token"].split(".")[1],
        user.password_hash,
        *stored,
        *session.scalars(select(EmailVerificationToken.token)).all(),
        *session.scalars(select(PasswordResetToken.token)).all(),
    ]
    out, err = capfd.readouterr()
    logged = out + err + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "user registered" in logged  # the capture does see the Powertools logger
    for secret in secrets:
        assert secret not in logged
