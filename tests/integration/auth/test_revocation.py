"""Revocation that sticks: the authorizer reads the account state (one query, cached per
container for ``session_state.CACHE_SECONDS``) and the token's claims are not enough.

Each test drives the clock (``frozen_clock``): right after the change a cached answer may still
allow the old token; once the cache bound has passed it is refused. Together with API
Gateway's authorizer cache (``ReauthorizeEvery``) the bound is 60 s, checked against the
template below.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from ecomvideo.enums import UserRole
from ecomvideo.security import session_state
from tests.support.accounts import PASSWORD, login, signed_in

ROOT = Path(__file__).resolve().parents[3]
PAST_CACHE = timedelta(seconds=session_state.CACHE_SECONDS + 1)
WITHIN_CACHE = timedelta(seconds=session_state.CACHE_SECONDS - 1)
NEW_PASSWORD = "a different horse battery staple"


@pytest.fixture(autouse=True)
def _clean_cache():
    session_state.clear_cache()
    yield
    session_state.clear_cache()


def _me(api, token):
    return api.call("account", "GET", "/v1/me", token=token)


def _change_password(api, token):
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    return api.call("account", "POST", "/v1/me/change-password", body, token=token)


def _admin_call(api, method, path, token, body=None):
    return api.call("account", method, path, body, token=token)


class _Signed:
    """The authorizer's verdict for a token, as API Gateway would turn it into a status."""

    @staticmethod
    def allowed(api, token) -> bool:
        return _me(api, token).status == 200


def test_logout_all_refuses_old_access_tokens_within_the_cache_bound(api, session, frozen_clock):
    _, tokens = signed_in(api, session, "everywhere@example.com")
    access = tokens["access_token"]
    assert _Signed.allowed(api, access)  # the authorizer has cached this account's state

    assert api.call("auth", "POST", "/v1/auth/logout-all", token=access).status in (200, 204)

    frozen_clock.advance(WITHIN_CACHE)
    assert _Signed.allowed(api, access)  # the documented window: a cached answer
    frozen_clock.advance(timedelta(seconds=2))
    assert not _Signed.allowed(api, access)


def test_logout_ends_only_that_session(api, session, frozen_clock):
    _, first = signed_in(api, session, "two-devices@example.com")
    second = login(api, "two-devices@example.com").json()

    out = api.call("auth", "POST", "/v1/auth/logout", {"refresh_token": first["refresh_token"]})
    assert out.status in (200, 204)

    frozen_clock.advance(PAST_CACHE)
    assert not _Signed.allowed(api, first["access_token"])
    assert _Signed.allowed(api, second["access_token"])


def test_password_change_refuses_every_older_token_and_the_new_one_works(
    api, session, frozen_clock
):
    _, old = signed_in(api, session, "rotate@example.com")
    other = login(api, "rotate@example.com").json()
    changed = _change_password(api, old["access_token"])
    assert changed.status == 200, changed.body

    frozen_clock.advance(PAST_CACHE)
    assert not _Signed.allowed(api, old["access_token"])
    assert not _Signed.allowed(api, other["access_token"])
    assert _Signed.allowed(api, changed.json()["access_token"])


def test_deactivated_account_cannot_use_or_renew_its_tokens(api, session, frozen_clock):
    _, admin = signed_in(api, session, "chief@example.com", UserRole.ADMIN)
    target, tokens = signed_in(api, session, "leaving@example.com")
    assert _Signed.allowed(api, tokens["access_token"])

    off = _admin_call(api, "POST", f"/v1/admin/users/{target.id}/deactivate", admin["access_token"])
    assert off.status == 200

    # Still inside the cache window: the token passes the authorizer, but no path issues
    # new tokens to an inactive account.
    renewed = _change_password(api, tokens["access_token"])
    assert renewed.status == 401
    assert "access_token" not in renewed.body
    refreshed = api.call(
        "auth", "POST", "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status == 401

    frozen_clock.advance(PAST_CACHE)
    assert not _Signed.allowed(api, tokens["access_token"])


def test_roles_come_from_the_database_not_the_token(api, session, frozen_clock):
    _, admin = signed_in(api, session, "root@example.com", UserRole.ADMIN)
    demoted, tokens = signed_in(api, session, "demoted@example.com", UserRole.ADMIN)
    access = tokens["access_token"]
    assert _admin_call(api, "GET", "/v1/admin/users", access).status == 200

    removed = _admin_call(
        api, "DELETE", f"/v1/admin/users/{demoted.id}/roles/Admin", admin["access_token"]
    )
    assert removed.status == 200
    fresh = api.call(
        "auth", "POST", "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}
    ).json()["access_token"]

    frozen_clock.advance(PAST_CACHE)
    # The old token (roles claim still says Admin) no longer passes at all; the refreshed one
    # does, with only the roles the database holds.
    assert not _Signed.allowed(api, access)
    assert _Signed.allowed(api, fresh)
    assert _admin_call(api, "GET", "/v1/admin/users", fresh).status == 403
    restore = _admin_call(
        api, "POST", f"/v1/admin/users/{demoted.id}/roles", fresh, {"role": "Admin"}
    )
    assert restore.status == 403


def test_a_forged_roles_claim_grants_nothing(api, session):
    from ecomvideo.security.jwt import issue_access_token

    user, _ = signed_in(api, session, "claims@example.com")
    token = issue_access_token(user.id, ["User", "Admin"]).token  # signed, but lying

    assert _admin_call(api, "GET", "/v1/admin/users", token).status == 403


def test_deleted_account_tokens_are_refused_and_never_500(api, session, frozen_clock):
    _, tokens = signed_in(api, session, "gone@example.com")
    access = tokens["access_token"]
    assert _Signed.allowed(api, access)
    deleted = api.call("account", "DELETE", "/v1/me", {"password": PASSWORD}, token=access)
    assert deleted.status == 204, deleted.body

    # Inside the cache window the request reaches handlers: writes that need the user row
    # answer 401, not a foreign-key 500.
    for method, path, body in (
        ("PUT", "/v1/me/preferences", {"preferred_language": "en"}),
        ("PUT", "/v1/me/notification-settings", {"weekly_digest": True}),
        ("POST", "/v1/auth/logout-all", None),
    ):
        function = "auth" if path.startswith("/v1/auth") else "account"
        response = api.call(function, method, path, body, token=access)
        assert response.status == 401, (path, response.status, response.body)

    frozen_clock.advance(PAST_CACHE)
    assert not _Signed.allowed(api, access)


def test_template_bounds_revocation_to_60_seconds():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)  # noqa: S506
    authorizer = template["Resources"]["HttpApi"]["Properties"]["Auth"]["Authorizers"]
    gateway_cache = authorizer["LambdaAuthorizer"]["Identity"]["ReauthorizeEvery"]

    assert gateway_cache + session_state.CACHE_SECONDS <= 60
