"""The one-click unlock link of an account-wide lock: signed, single use, bound to its lock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ecomvideo.models import User
from ecomvideo.services.auth_throttle import ACCOUNT_LOCK_THRESHOLD
from tests.support.accounts import link_token, login, register
from tests.support.lambda_handlers import ApiClient


def _lock(api, session, email):
    """Bring ``email``'s streak to the threshold with one more wrong password; the lock mail."""
    user = session.scalars(select(User).where(User.email == email)).one()
    user.failed_login_attempts = ACCOUNT_LOCK_THRESHOLD - 1
    session.flush()
    assert login(ApiClient(source_ip="198.51.100.77"), email, "a wrong password").status == 401
    session.refresh(user)
    assert user.locked_until is not None
    return user


def _unlock(api, token):
    return api.call("auth", "POST", "/v1/auth/unlock", {"token": token})


def _lock_mail(mailbox):
    return [m for m in mailbox() if "locked" in m.subject][-1]


def test_the_unlock_link_works_once(api, mailbox, session, frozen_clock):
    register(api, "once@example.com")
    _lock(api, session, "once@example.com")
    token = link_token(_lock_mail(mailbox))

    assert _unlock(api, token).status == 200
    assert login(api, "once@example.com").status == 200
    again = _unlock(api, token)
    assert again.status == 400 and again.content_type == "application/problem+json"


def test_a_link_of_an_earlier_lock_does_not_lift_a_later_one(api, mailbox, session, frozen_clock):
    register(api, "twice@example.com")
    _lock(api, session, "twice@example.com")
    first = link_token(_lock_mail(mailbox))
    assert _unlock(api, first).status == 200

    frozen_clock.advance(timedelta(seconds=5))
    _lock(api, session, "twice@example.com")
    assert _unlock(api, first).status == 400
    assert login(api, "twice@example.com").status == 401  # still locked
    assert _unlock(api, link_token(_lock_mail(mailbox))).status == 200


def test_the_link_dies_with_the_lock(api, mailbox, session, frozen_clock):
    register(api, "expired@example.com")
    _lock(api, session, "expired@example.com")
    token = link_token(_lock_mail(mailbox))
    frozen_clock.advance(timedelta(hours=1, seconds=1))
    assert _unlock(api, token).status == 400


def test_tampered_tokens_and_unlock_tokens_as_bearer_tokens_are_refused(
    api, mailbox, session, frozen_clock
):
    register(api, "forged@example.com")
    user = _lock(api, session, "forged@example.com")
    token = link_token(_lock_mail(mailbox))
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert _unlock(api, f"{header}.{payload}.{flipped}").status == 400
    assert _unlock(api, "x" * 40).status == 400
    # The same key signs access tokens: the unlock audience keeps the two apart
    assert api.call("account", "GET", "/v1/me", token=token).status == 403
    session.refresh(user)
    assert user.locked_until is not None


def test_no_unlock_mail_when_the_lock_was_lifted_before_the_worker_ran(
    api, mailbox, session, frozen_clock
):
    register(api, "quick@example.com")
    mailbox()
    before = len(mailbox())
    user = session.scalars(select(User).where(User.email == "quick@example.com")).one()
    user.failed_login_attempts = ACCOUNT_LOCK_THRESHOLD - 1
    session.flush()
    login(ApiClient(source_ip="198.51.100.78"), "quick@example.com", "a wrong password")
    session.refresh(user)
    user.locked_until = None  # e.g. an admin unlocked the account meanwhile
    session.flush()
    assert len(mailbox()) == before
