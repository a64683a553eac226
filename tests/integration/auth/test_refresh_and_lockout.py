"""Refresh-token rotation with reuse detection, and the login lockout (frozen clock)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ecomvideo.models import RefreshToken, User, UserActivity
from tests.support.accounts import PASSWORD, login, register


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


def test_lockout_after_five_failures_and_unlock_after_window(api, session, frozen_clock):
    register(api, "locked@example.com")
    unknown = login(api, "nobody@example.com", "wrong password 123")
    for attempt in range(5):
        wrong = login(api, "locked@example.com", f"wrong password {attempt}")
        # Same status and body as for an unknown email
        assert (wrong.status, wrong.body) == (unknown.status, unknown.body)
    assert unknown.status == 401 and unknown.content_type == "application/problem+json"

    user = session.scalars(select(User).where(User.email == "locked@example.com")).one()
    session.refresh(user)
    assert user.locked_until == frozen_clock.utcnow() + timedelta(minutes=15)

    # The right password does not help while locked, and the answer stays generic
    locked = login(api, "locked@example.com")
    assert (locked.status, locked.body) == (unknown.status, unknown.body)

    frozen_clock.advance(timedelta(minutes=14, seconds=59))
    assert login(api, "locked@example.com").status == 401
    frozen_clock.advance(timedelta(seconds=2))
    ok = login(api, "locked@example.com", PASSWORD)
    assert ok.status == 200, ok.body
    session.refresh(user)
    assert user.failed_login_attempts == 0 and user.locked_until is None
    assert user.last_login_at == frozen_clock.utcnow()


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
