"""The whole account lifecycle through the real handlers and the real authorizer."""

from __future__ import annotations

from sqlalchemy import select

from ecomvideo.models import (
    NotificationSettings,
    RefreshToken,
    UsageCredit,
    User,
    UserActivity,
    UserPreferences,
)
from tests.support.accounts import PASSWORD, link_token, login, register


def test_register_verify_login_refresh_logout(api, mailbox, session):
    # Given a new visitor registers (mixed-case email)
    created = register(api, "Ada.Lovelace@Example.COM", timezone="Europe/London", locale="en-gb")
    assert created.status == 202, created.body
    assert "inbox" in created.json()["message"]

    user = session.scalars(select(User).where(User.email == "ada.lovelace@example.com")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert user.role_names == ["User"]
    assert (user.timezone, user.locale) == ("Europe/London", "en-GB")
    assert session.scalars(select(UserPreferences).where(UserPreferences.user_id == user.id)).one()
    assert session.scalars(
        select(NotificationSettings).where(NotificationSettings.user_id == user.id)
    ).one()
    # No credits before the address is verified
    no_grant = select(UsageCredit).where(UsageCredit.user_id == user.id)
    assert session.scalars(no_grant).first() is None

    # When they follow the link from the verification mail
    (mail,) = mailbox()
    assert mail.destinations["ToAddresses"] == ["ada.lovelace@example.com"]
    assert "https://app.ecomvideo.test/verify-email?token=" in mail.body
    verified = api.call("auth", "POST", "/v1/auth/verify-email", {"token": link_token(mail)})
    assert verified.status == 200, verified.body
    # ...a second time, the single-use token is refused
    again = api.call("auth", "POST", "/v1/auth/verify-email", {"token": link_token(mail)})
    assert again.status == 400
    grant = session.scalars(select(UsageCredit).where(UsageCredit.user_id == user.id)).one()
    assert grant.amount == 3 and grant.meta["reason"] == "free_plan"

    # Then they can log in and call /v1/me through the authorizer
    logged_in = login(api, "ADA.LOVELACE@example.com")
    assert logged_in.status == 200, logged_in.body
    tokens = logged_in.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    me = api.call("account", "GET", "/v1/me", token=tokens["access_token"])
    assert me.status == 200, me.body
    assert me.json()["email_verified"] is True and me.json()["roles"] == ["User"]

    # Refresh rotates: the new pair works, the old refresh token is revoked
    rotated = api.call(
        "auth", "POST", "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status == 200, rotated.body
    new = rotated.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert api.call("account", "GET", "/v1/me", token=new["access_token"]).status == 200

    # Logout revokes the session; its refresh token no longer works
    out = api.call("auth", "POST", "/v1/auth/logout", {"refresh_token": new["refresh_token"]})
    assert out.status == 204
    after = api.call("auth", "POST", "/v1/auth/refresh", {"refresh_token": new["refresh_token"]})
    assert after.status == 401
    assert after.content_type == "application/problem+json"

    rows = session.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id)).all()
    assert len(rows) == 2 and all(r.is_revoked for r in rows)
    # Stored values are hashes, never the secret the client holds
    for secret in (tokens["refresh_token"], new["refresh_token"]):
        assert all(secret.split(".")[1] not in r.token for r in rows)
    actions = set(
        session.scalars(select(UserActivity.action).where(UserActivity.user_id == user.id))
    )
    assert {"Registered", "EmailVerified", "LoggedIn", "LoggedOut"} <= actions


def test_logout_all_revokes_every_session(api, session):
    register(api, "many@example.com")
    first = login(api, "many@example.com").json()
    second = login(api, "many@example.com").json()
    out = api.call("auth", "POST", "/v1/auth/logout-all", token=first["access_token"])
    assert out.status == 204
    for pair in (first, second):
        r = api.call("auth", "POST", "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
        assert r.status == 401


def test_password_is_rehashed_when_parameters_change(api, session):
    from argon2 import PasswordHasher

    register(api, "old@example.com")
    user = session.scalars(select(User).where(User.email == "old@example.com")).one()
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user.password_hash = old
    session.flush()
    assert login(api, "old@example.com").status == 200
    session.expire_all()
    assert session.get(User, user.id).password_hash != old
