"""Refresh-token rotation with reuse detection, and the login lockout (frozen clock)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ecomvideo.models import RefreshToken, User, UserActivity
from tests.support.accounts import PASSWORD, link_token, login, register
from tests.support.lambda_handlers import ApiClient


def _refresh(api, token):
    return api.call("auth", "POST", "/v1/auth/refresh", {"refresh_token": token})


def test_reused_refresh_token_revokes_family(api, session, caplog):
    register(api, "reuse@example.com")
    laptop = login(api, "reuse@example.com").json()
    phone = login(api, "reuse@example.com").json()  # another session = another family

    # Given the laptop rotated its refresh token once
    rotated = _refresh(api, laptop["refresh_token"])
    assert rotated.status == 200
    # When someone presents the old (already rotated) token again
    stolen = _refresh(api, laptop["refresh_token"])
    # Then it is refused and the whole family, including the fresh token, is revoked
    assert stolen.status == 401
    assert _refresh(api, rotated.json()["refresh_token"]).status == 401
    # ...while the phone's session (another family) still works
    assert _refresh(api, phone["refresh_token"]).status == 200

    user = session.scalars(select(User).where(User.email == "reuse@example.com")).one()
    actions = session.scalars(
        select(UserActivity.action).where(UserActivity.user_id == user.id)
    ).all()
    assert actions.count("RefreshTokenReuseDetected") == 1
    assert any("refresh token reuse" in r.getMessage() for r in caplog.records)


def test_expired_or_garbage_refresh_tokens_are_refused(api, session, frozen_clock):
    register(api, "expiry@example.com")
    pair = login(api, "expiry@example.com").json()
    assert _refresh(api, "not-a-token-at-all-but-long-enough").status == 401
    family = pair["refresh_token"].split(".")[0]
    assert _refresh(api, family + ".forged-secret-forged-secret-forged").status == 401
    frozen_clock.advance(timedelta(days=30, seconds=1))
    assert _refresh(api, pair["refresh_token"]).status == 401


def test_five_failures_throttle_that_client_for_that_account_not_the_owner(
    api, session, frozen_clock
):
    register(api, "targeted@example.com")
    attacker = ApiClient(source_ip="198.51.100.66")
    unknown = login(attacker, "nobody@example.com", "wrong password 123")
    for attempt in range(5):
        wrong = login(attacker, "targeted@example.com", f"wrong password {attempt}")
        # Same status and body as for an unknown email
        assert (wrong.status, wrong.body) == (unknown.status, unknown.body)

    # The attacker's client is throttled, even with the right password...
    throttled = login(attacker, "targeted@example.com")
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) <= 900
    # ...while the owner, elsewhere, signs in as usual and the account is not locked.
    assert login(api, "targeted@example.com").status == 200
    user = session.scalars(select(User).where(User.email == "targeted@example.com")).one()
    session.refresh(user)
    assert user.locked_until is None

    frozen_clock.advance(timedelta(seconds=int(throttled.headers["Retry-After"])))
    assert login(attacker, "targeted@example.com").status == 200


def test_unknown_emails_are_throttled_the_same_way(api, frozen_clock):
    for attempt in range(5):
        assert login(api, "ghost@example.com", f"wrong password {attempt}").status == 401
    assert login(api, "ghost@example.com", "wrong password x").status == 429


def test_backoff_the_throttle_lasts_longer_after_more_failures(api, session, frozen_clock):
    from datetime import datetime

    frozen_clock.freeze(datetime(2026, 12, 7, 0, 0, 0))  # windows aligned: exact waits
    register(api, "backoff@example.com")
    for attempt in range(5):
        login(api, "backoff@example.com", f"wrong password {attempt}")
    first = login(api, "backoff@example.com")
    assert (first.status, first.headers["Retry-After"]) == (429, "900")

    frozen_clock.advance(timedelta(seconds=900))
    for attempt in range(5):
        login(api, "backoff@example.com", f"wrong again {attempt}")
    second = login(api, "backoff@example.com")
    assert (second.status, second.headers["Retry-After"]) == (429, "2700")  # the hour window


def test_many_failures_from_one_ip_across_accounts_throttle_that_ip(api, frozen_clock):
    from ecomvideo.services.auth_throttle import IP_THROTTLES

    limit = IP_THROTTLES[0][0]
    for n in range(limit):
        assert login(api, f"spray-{n}@example.com", "Password123!").status == 401
    assert login(api, "spray-next@example.com", "Password123!").status == 429
    elsewhere = ApiClient(source_ip="192.0.2.99")
    assert login(elsewhere, "spray-next@example.com", "x" * 12).status == 401


def test_account_wide_lock_only_at_the_high_threshold_mails_an_unlock_link(
    api, mailbox, session, frozen_clock
):
    from ecomvideo.services.auth_throttle import ACCOUNT_LOCK_THRESHOLD

    register(api, "botnet-target@example.com")
    user = session.scalars(select(User).where(User.email == "botnet-target@example.com")).one()
    user.failed_login_attempts = ACCOUNT_LOCK_THRESHOLD - 2  # a distributed streak so far
    session.flush()
    sent_before = len(mailbox())

    assert login(ApiClient(source_ip="203.0.113.201"), user.email, "nope nope 1").status == 401
    session.refresh(user)
    assert user.locked_until is None
    assert login(ApiClient(source_ip="203.0.113.202"), user.email, "nope nope 2").status == 401
    session.refresh(user)
    assert user.locked_until == frozen_clock.utcnow() + timedelta(hours=1)

    # Locked: the right password answers the generic 401
    assert login(api, user.email).status == 401
    mails = mailbox()[sent_before:]
    assert [m.destinations["ToAddresses"] for m in mails] == [[user.email]]
    assert "locked" in mails[0].subject

    # One click on the mail's unlock link lifts the lock; the old password works again
    assert "/unlock-account?token=" in mails[0].body
    unlock = api.call("auth", "POST", "/v1/auth/unlock", {"token": link_token(mails[0])})
    assert unlock.status == 200, unlock.body
    assert login(api, user.email).status == 200
    mine = select(UserActivity.action).where(UserActivity.user_id == user.id)
    assert "AccountUnlocked" in set(session.scalars(mine))


def test_wrong_current_passwords_on_change_password_count_like_logins(api, session):
    register(api, "changer@example.com")
    token = login(api, "changer@example.com").json()["access_token"]

    def change(current: str):
        body = {"current_password": current, "new_password": "a brand new passphrase"}
        return api.call("account", "POST", "/v1/me/change-password", body, token=token)

    for attempt in range(5):
        assert change(f"guess number {attempt}").status == 403
    assert change(PASSWORD).status == 429
    assert login(api, "changer@example.com").status == 429  # the same client, the same account


def test_inactive_user_cannot_log_in(api, session):
    register(api, "inactive@example.com")
    user = session.scalars(select(User).where(User.email == "inactive@example.com")).one()
    user.is_active = False
    session.flush()
    assert login(api, "inactive@example.com").status == 403
    assert (
        session.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id)).first() is None
    )


def test_every_failed_login_costs_exactly_one_argon2_verification(api, session, monkeypatch):
    """Timing parity: unknown email, wrong password and locked account do the same work."""
    from argon2 import PasswordHasher

    register(api, "timing@example.com")
    calls: list[str] = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, hash, password):
        calls.append(hash[:9])
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    for email, password in [
        ("nobody@example.com", "wrong password 1"),
        ("timing@example.com", "wrong password 2"),
    ]:
        calls.clear()
        assert login(api, email, password).status == 401
        assert calls == ["$argon2id"]
    user = session.scalars(select(User).where(User.email == "timing@example.com")).one()
    user.locked_until = user.created_at + timedelta(days=3650)
    session.flush()
    calls.clear()
    assert login(api, "timing@example.com").status == 401
    assert calls == ["$argon2id"]
