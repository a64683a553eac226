"""Password reset (single use, 1-hour expiry) and enumeration-safe, rate-limited endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecomvideo.models import PasswordResetToken, User
from ecomvideo.models.ratelimit import RateLimitCounter
from tests.support.accounts import link_token, login, register
from tests.support.lambda_handlers import ApiClient

NEW_PASSWORD = "a brand new passphrase"


def _forgot(api, email):
    return api.call("auth", "POST", "/v1/auth/forgot-password", {"email": email})


def _reset(api, token, password=NEW_PASSWORD):
    body = {"token": token, "new_password": password}
    return api.call("auth", "POST", "/v1/auth/reset-password", body)


def test_reset_token_works_once_and_signs_out_everywhere(api, mailbox, session):
    register(api, "reset@example.com")
    old_session = login(api, "reset@example.com").json()
    assert _forgot(api, "reset@example.com").status == 202
    token = link_token(mailbox()[-1])
    assert "reset-password?token=" in mailbox()[-1].body

    assert _reset(api, token).status == 200
    again = _reset(api, token, "yet another passphrase")
    assert again.status == 400 and again.content_type == "application/problem+json"

    assert login(api, "reset@example.com").status == 401  # old password
    assert login(api, "reset@example.com", NEW_PASSWORD).status == 200
    refreshed = api.call(
        "auth", "POST", "/v1/auth/refresh", {"refresh_token": old_session["refresh_token"]}
    )
    assert refreshed.status == 401
    # Only the hash of the token is stored
    stored = session.scalars(select(PasswordResetToken.token)).all()
    assert token not in stored


def test_reset_token_expires_after_one_hour(api, mailbox, frozen_clock):
    register(api, "late@example.com")
    _forgot(api, "late@example.com")
    token = link_token(mailbox()[-1])
    frozen_clock.advance(timedelta(hours=1, seconds=1))
    assert _reset(api, token).status == 400
    assert login(api, "late@example.com", NEW_PASSWORD).status == 401


def test_reset_applies_the_password_policy_and_keeps_the_token(api, mailbox):
    register(api, "weak@example.com")
    _forgot(api, "weak@example.com")
    token = link_token(mailbox()[-1])
    weak = _reset(api, token, "qwertyuiop")
    assert weak.status == 422
    assert weak.json()["errors"][0]["pointer"] == "/new_password"
    assert _reset(api, token).status == 200


@pytest.mark.parametrize("path", ["/v1/auth/forgot-password", "/v1/auth/resend-verification"])
def test_answers_do_not_reveal_whether_an_account_exists(api, mailbox, path):
    register(api, "exists@example.com")
    sent_before = len(mailbox())
    known = api.call("auth", "POST", path, {"email": "exists@example.com"})
    unknown = api.call("auth", "POST", path, {"email": "missing@example.com"})
    assert (known.status, known.body) == (unknown.status, unknown.body)
    assert known.status == 202
    # ...but only the real account got a mail
    assert len(mailbox()) == sent_before + 1


def test_forgot_password_is_rate_limited_per_email_and_per_ip(mailbox, session):
    api = ApiClient(source_ip="198.51.100.10")
    register(api, "limited@example.com")
    statuses = [_forgot(api, "limited@example.com").status for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    # the same limit applies to an email without an account (no enumeration via 429)
    statuses = [_forgot(api, "ghost@example.com").status for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    limited = _forgot(api, "ghost@example.com")
    assert limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0

    # per IP: 20 per hour from one address, whatever the emails
    other = ApiClient(source_ip="198.51.100.99")
    results = [_forgot(other, f"user{i}@example.com").status for i in range(21)]
    assert results[:20] == [202] * 20 and results[20] == 429
    # counters store hashed subjects, never the email or the IP
    keys = session.scalars(select(RateLimitCounter.key)).all()
    assert keys and not any("example.com" in k or "198.51" in k for k in keys)
    assert session.scalar(select(func.count()).select_from(User)) >= 1
