"""Security headers on every API response; no-store on every authenticated one."""

from __future__ import annotations

from tests.support.accounts import login, register


def _headers(response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()}


def test_authenticated_responses_are_no_store_with_hsts_and_nosniff(api, session):
    register(api, "headers@example.com")
    token = login(api, "headers@example.com").json()["access_token"]

    for response in (
        api.call("account", "GET", "/v1/me", token=token),
        api.call(
            "account", "GET", "/v1/me/no-such-thing", token=token, unrouted=True
        ),  # errors too
    ):
        headers = _headers(response)
        assert headers["cache-control"] == "no-store"
        assert headers["strict-transport-security"].startswith("max-age=")
        assert headers["x-content-type-options"] == "nosniff"


def test_public_responses_get_hsts_and_nosniff(api):
    response = api.call("auth", "POST", "/v1/auth/login", raw_body='{"email": ')

    headers = _headers(response)
    assert response.status == 400
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
