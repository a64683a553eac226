"""/v1/me/* and /v1/admin/users/* through the authorizer and the account handler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecomvideo.enums import UserRole
from ecomvideo.models import RefreshToken, UsageCredit, User
from tests.support.accounts import PASSWORD, login, signed_in


def _me(api, method, path, token, body=None, **kw):
    return api.call("account", method, path, body, token=token, **kw)


def test_profile_read_and_validated_update(api, session):
    user, tokens = signed_in(api, session, "profile@example.com")
    at = tokens["access_token"]
    patch = {
        "first_name": "Grace",
        "timezone": "America/New_York",
        "locale": "pt-br",
        "phone_number": "+1 (415) 555-0100",
        "avatar_url": "https://cdn.example.com/a.png",
        "date_of_birth": "1990-05-17",
    }
    updated = _me(api, "PATCH", "/v1/me", at, patch)
    assert updated.status == 200, updated.body
    body = updated.json()
    assert (body["first_name"], body["locale"], body["phone_number"]) == (
        "Grace",
        "pt-BR",
        "+14155550100",
    )
    for bad in (
        {"timezone": "Mars/Olympus"},
        {"locale": "english please"},
        {"phone_number": "0155 1234"},
        {"avatar_url": "http://cdn.example.com/a.png"},
        {"email": "new@example.com"},
        {"timezone": None},
    ):
        response = _me(api, "PATCH", "/v1/me", at, bad)
        assert response.status == 422, (bad, response.body)
        assert response.content_type == "application/problem+json"
    session.refresh(user)
    assert user.timezone == "America/New_York"


def test_change_password_signs_out_other_sessions(api, session):
    _, first = signed_in(api, session, "change@example.com")
    second = login(api, "change@example.com").json()
    wrong = _me(
        api,
        "POST",
        "/v1/me/change-password",
        first["access_token"],
        {"current_password": "not my password", "new_password": "another fine passphrase"},
    )
    assert wrong.status == 403
    changed = _me(
        api,
        "POST",
        "/v1/me/change-password",
        first["access_token"],
        {"current_password": PASSWORD, "new_password": "another fine passphrase"},
    )
    assert changed.status == 200, changed.body
    refresh = {"refresh_token": second["refresh_token"]}
    assert api.call("auth", "POST", "/v1/auth/refresh", refresh).status == 401
    fresh = {"refresh_token": changed.json()["refresh_token"]}
    assert api.call("auth", "POST", "/v1/auth/refresh", fresh).status == 200
    assert login(api, "change@example.com", "another fine passphrase").status == 200


def test_delete_account_requires_password_and_cascades(api, session):
    user, tokens = signed_in(api, session, "delete@example.com")
    user_id, at = user.id, tokens["access_token"]
    assert _me(api, "DELETE", "/v1/me", at, {"password": "wrong password!"}).status == 403
    assert _me(api, "DELETE", "/v1/me", at, {"password": PASSWORD}).status == 204
    session.expunge_all()
    assert session.get(User, user_id) is None
    for model in (RefreshToken, UsageCredit):
        count = session.scalar(
            select(func.count()).select_from(model).where(model.user_id == user_id)
        )
        assert count == 0


def test_preferences_notifications_and_interests(api, session):
    _, tokens = signed_in(api, session, "prefs@example.com")
    at = tokens["access_token"]
    prefs = _me(api, "GET", "/v1/me/preferences", at).json()
    assert prefs["default_aspect_ratio"] == "9:16"
    put = _me(
        api, "PUT", "/v1/me/preferences", at, {"theme": "Light", "default_aspect_ratio": "1:1"}
    )
    assert put.status == 200 and put.json()["theme"] == "Light"
    for bad in (
        {"theme": "Neon"},
        {"default_video_resolution": "999x1"},
        {"preferred_ai_provider": "Skynet"},
        {"two_factor_enabled": True},
    ):
        assert _me(api, "PUT", "/v1/me/preferences", at, bad).status == 422, bad

    ns = _me(api, "PUT", "/v1/me/notification-settings", at, {"weekly_digest": False})
    assert ns.status == 200 and ns.json()["weekly_digest"] is False
    assert _me(api, "PUT", "/v1/me/notification-settings", at, {"sms": True}).status == 422

    interests = {"interests": [{"category": "Fashion", "level": 5}, {"category": "Food"}]}
    put = _me(api, "PUT", "/v1/me/interests", at, interests)
    assert put.status == 200
    assert put.json()["interests"] == [
        {"category": "Fashion", "level": 5},
        {"category": "Food", "level": 1},
    ]
    dup = {"interests": [{"category": "Food", "level": 2}, {"category": "food", "level": 3}]}
    assert _me(api, "PUT", "/v1/me/interests", at, dup).status == 422
    level = {"interests": [{"category": "Toys", "level": 6}]}
    assert _me(api, "PUT", "/v1/me/interests", at, level).status == 422
    assert _me(api, "DELETE", "/v1/me/interests/fashion", at).status == 204
    assert _me(api, "DELETE", "/v1/me/interests/fashion", at).status == 404
    assert _me(api, "GET", "/v1/me/interests", at).json()["interests"] == [
        {"category": "Food", "level": 1}
    ]


def test_activity_is_paginated_newest_first(api, session):
    _, tokens = signed_in(api, session, "activity@example.com")
    at = tokens["access_token"]
    _me(api, "PATCH", "/v1/me", at, {"first_name": "Ann"})
    page = _me(api, "GET", "/v1/me/activity", at, query="limit=2").json()
    assert page["next_cursor"]
    assert [i["action"] for i in page["items"]] == ["ProfileUpdated", "LoggedIn"]
    assert page["items"][0]["ip_address"] == "203.0.113.7"
    assert page["items"][0]["user_agent"] == "pytest-client/1.0"
    rest = _me(api, "GET", "/v1/me/activity", at, query=f"limit=2&cursor={page['next_cursor']}")
    assert [i["action"] for i in rest.json()["items"]] == ["Registered"]
    assert rest.json()["next_cursor"] is None
    assert _me(api, "GET", "/v1/me/activity", at, query="limit=1000").status == 422


ADMIN_ROUTES = [
    ("GET", "/v1/admin/users", None),
    ("POST", "/v1/admin/users/{id}/activate", None),
    ("POST", "/v1/admin/users/{id}/deactivate", None),
    ("POST", "/v1/admin/users/{id}/unlock", None),
    ("POST", "/v1/admin/users/{id}/roles", {"role": "Admin"}),
    ("DELETE", "/v1/admin/users/{id}/roles/User", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_user_role_gets_403_on_admin_routes(api, session, method, path, body):
    user, tokens = signed_in(api, session, "plain@example.com", UserRole.SUPPORT)
    response = _me(api, method, path.format(id=user.id), tokens["access_token"], body)
    assert response.status == 403
    assert response.content_type == "application/problem+json"
    session.refresh(user)
    assert user.role_names == ["Support", "User"] and user.is_active


@pytest.mark.parametrize(
    ("function", "method", "path", "body"),
    [
        ("account", "POST", "/v1/admin/users/not-a-uuid/roles", {"role": "God"}),
        ("account", "GET", "/v1/admin/users?page_size=-1", None),
        ("settings_admin", "PUT", "/v1/admin/settings", {"settings": "not a list"}),
    ],
)
def test_plain_users_get_403_before_any_validation_on_admin_routes(
    api, session, function, method, path, body
):
    _, tokens = signed_in(api, session, "curious@example.com")
    route, _, query = path.partition("?")
    response = api.call(function, method, route, body, token=tokens["access_token"], query=query)
    assert response.status == 403, response.body
    assert "errors" not in response.json()  # no schema details


def test_admin_lists_filters_and_manages_users(api, session):
    _, admin = signed_in(api, session, "boss@example.com", UserRole.ADMIN)
    at = admin["access_token"]
    target, target_tokens = signed_in(api, session, "target_1@example.com")
    signed_in(api, session, "target%2@example.com")

    found = _me(api, "GET", "/v1/admin/users", at, query="email=TARGET_1").json()
    assert [u["email"] for u in found["items"]] == ["target_1@example.com"]
    admins = _me(api, "GET", "/v1/admin/users", at, query="role=Admin").json()
    assert [u["email"] for u in admins["items"]] == ["boss@example.com"]
    paged = _me(api, "GET", "/v1/admin/users", at, query="email=example.com&limit=2").json()
    assert len(paged["items"]) == 2 and paged["next_cursor"]
    query = f"email=example.com&limit=2&cursor={paged['next_cursor']}"
    rest = _me(api, "GET", "/v1/admin/users", at, query=query).json()
    seen = [u["email"] for u in paged["items"] + rest["items"]]
    assert len(seen) == len(set(seen)) >= 3

    off = _me(api, "POST", f"/v1/admin/users/{target.id}/deactivate", at)
    assert off.status == 200 and off.json()["is_active"] is False
    assert login(api, "target_1@example.com").status == 403
    refresh = {"refresh_token": target_tokens["refresh_token"]}
    assert api.call("auth", "POST", "/v1/auth/refresh", refresh).status == 401
    inactive = _me(api, "GET", "/v1/admin/users", at, query="is_active=false").json()
    assert [u["email"] for u in inactive["items"]] == ["target_1@example.com"]
    assert _me(api, "POST", f"/v1/admin/users/{target.id}/activate", at).status == 200
    assert login(api, "target_1@example.com").status == 200

    granted = _me(api, "POST", f"/v1/admin/users/{target.id}/roles", at, {"role": "Moderator"})
    assert granted.json()["roles"] == ["Moderator", "User"]
    assert _me(api, "POST", f"/v1/admin/users/{target.id}/roles", at, {"role": "God"}).status == 422
    revoked = _me(api, "DELETE", f"/v1/admin/users/{target.id}/roles/Moderator", at)
    assert revoked.json()["roles"] == ["User"]

    target.locked_until = target.created_at + timedelta(days=1)  # an account-wide lock
    session.flush()
    assert login(api, "target_1@example.com").status == 401
    unlocked = _me(api, "POST", f"/v1/admin/users/{target.id}/unlock", at)
    assert unlocked.status == 200 and unlocked.json()["locked_until"] is None
    assert login(api, "target_1@example.com").status == 200

    missing = "00000000-0000-0000-0000-000000000000"
    assert _me(api, "POST", f"/v1/admin/users/{missing}/unlock", at).status == 404
    assert _me(api, "POST", "/v1/admin/users/not-a-uuid/unlock", at).status == 422
