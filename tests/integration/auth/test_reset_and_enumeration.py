"""Password reset (single use, 1-hour expiry) and enumeration-safe, rate-limited endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecomvideo.models import BackgroundJob, PasswordResetToken, User
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


def test_register_answers_an_existing_email_like_a_new_one_and_mails_the_owner(
    api, mailbox, session
):
    register(api, "taken@example.com")
    mailbox()  # the verification mail of the first registration
    users_before = session.scalar(select(func.count()).select_from(User))

    new = register(api, "fresh@example.com", "another long passphrase")
    existing = register(api, "Taken@Example.com", "an attacker's passphrase", first_name="Eve")
    assert (existing.status, existing.body) == (new.status, new.body)
    assert existing.status == 202 and "Location" not in existing.headers

    # Only the new address got an account; the existing owner's account is unchanged ...
    assert session.scalar(select(func.count()).select_from(User)) == users_before + 1
    owner = session.scalars(select(User).where(User.email == "taken@example.com")).one()
    assert owner.first_name == "Ada"
    # ... and the owner (not the caller) is told to sign in or reset, with no token in the mail
    latest = {m.destinations["ToAddresses"][0]: m for m in mailbox()}
    told = latest["taken@example.com"]
    assert "you already have an" in told.subject.lower() and "tried to create" in told.body
    assert "/login" in told.body and "/forgot-password" in told.body
    assert "token=" not in told.body
    assert "verify-email?token=" in latest["fresh@example.com"].body


def test_repeated_registrations_of_a_taken_email_mail_the_owner_once_an_hour(
    api, mailbox, frozen_clock
):
    register(api, "flooded@example.com")
    before = len(mailbox())
    answers = {
        register(api, "flooded@example.com", f"attempt number {n}!").status for n in range(3)
    }
    assert answers == {202}
    assert len(mailbox()) == before + 1
    frozen_clock.advance(timedelta(hours=1))
    assert register(api, "flooded@example.com").status == 202
    assert len(mailbox()) == before + 2


def test_register_of_an_existing_email_still_applies_the_password_policy(api, mailbox):
    register(api, "policy@example.com")
    weak_new = register(api, "nobody-yet@example.com", "qwertyuiop")
    weak_existing = register(api, "policy@example.com", "qwertyuiop")
    assert weak_new.status == weak_existing.status == 422
    assert weak_new.json()["errors"] == weak_existing.json()["errors"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/v1/auth/forgot-password", "reset"), ("/v1/auth/resend-verification", "verify")],
)
def test_mail_requests_queue_one_job_whether_or_not_the_account_exists(
    api, mailbox, session, path, kind
):
    register(api, "queued@example.com")
    mailbox()
    sent_before = len(mailbox())
    for email in ("queued@example.com", "nobody@example.com"):
        assert api.call("auth", "POST", path, {"email": email}).status == 202
    # The request path sent nothing and looked nothing up: one queued job per request ...
    jobs = session.scalars(
        select(BackgroundJob)
        .where(BackgroundJob.job_type == "auth.email", BackgroundJob.status == "Pending")
        .order_by(BackgroundJob.created_at)
    ).all()
    assert [(j.job_data["kind"], j.job_data["email"]) for j in jobs] == [
        (kind, "queued@example.com"),
        (kind, "nobody@example.com"),
    ]
    assert all("token" not in str(j.job_data) for j in jobs)  # no secret at rest
    # ... and the worker mails only the real account
    delivered = mailbox()[sent_before:]
    assert [m.destinations["ToAddresses"] for m in delivered] == [["queued@example.com"]]
    session.expire_all()
    assert {j.status for j in session.scalars(select(BackgroundJob))} == {"Completed"}


def test_a_failed_send_keeps_no_token_and_the_job_retries(api, mailbox, session, monkeypatch):
    from ecomvideo.clients import email

    register(api, "retry@example.com")
    mailbox()
    client = email.get_email_client()
    monkeypatch.setattr(client, "send", lambda message: (_ for _ in ()).throw(OSError("SES")))
    assert _forgot(api, "retry@example.com").status == 202
    mailbox()
    job = session.scalars(
        select(BackgroundJob).where(BackgroundJob.job_data["kind"].astext == "reset")
    ).one()
    assert (job.status, job.attempts) == ("Pending", 1)
    assert session.scalar(select(func.count()).select_from(PasswordResetToken)) == 0


@pytest.mark.parametrize("path", ["/v1/auth/forgot-password", "/v1/auth/resend-verification"])
def test_known_and_unknown_addresses_run_the_same_statements(api, mailbox, path):
    """The request path's work does not depend on the account: the same SQL, in the same
    order (only the bound values differ), so its timing cannot tell the two apart."""
    import re

    from sqlalchemy import event

    from ecomvideo import db

    register(api, "same-work@example.com")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(re.sub(r"sa_savepoint_\d+", "sa_savepoint", statement))

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        runs = []
        for email in ("same-work@example.com", "no-such-user@example.com"):
            statements.clear()
            assert api.call("auth", "POST", path, {"email": email}).status == 202
            runs.append(list(statements))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert runs[0] == runs[1]
    assert not any("FROM users" in s for s in runs[0])
