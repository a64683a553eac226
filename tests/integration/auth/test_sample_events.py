"""The sample events in events/auth/ are real inputs for the handlers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.lambda_handlers import context, load_handler_module

EVENTS = Path(__file__).resolve().parents[3] / "events" / "auth"


def _event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_register_and_login_events(api):
    auth = load_handler_module("auth")
    created = auth.lambda_handler(_event("register.json"), context("auth"))
    assert created["statusCode"] == 202, created["body"]
    logged_in = auth.lambda_handler(_event("login.json"), context("auth"))
    assert logged_in["statusCode"] == 200
    assert logged_in["headers"]["Cache-Control"] == "no-store"


def test_authorizer_event_with_a_fake_signature_is_denied(auth_env):
    authorizer = load_handler_module("authorizer")
    result = authorizer.lambda_handler(_event("authorizer_request.json"), context("authorizer"))
    assert result == {"isAuthorized": False}


def test_get_me_event_for_an_unknown_user_is_404(auth_env):
    account = load_handler_module("account")
    response = account.lambda_handler(_event("get_me.json"), context("account"))
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/problem+json"


def test_openapi_documents_every_route(auth_env):
    auth = load_handler_module("auth").app.get_openapi_schema().model_dump(by_alias=True)
    account = load_handler_module("account").app.get_openapi_schema().model_dump(by_alias=True)
    assert {"/v1/auth/register", "/v1/auth/login", "/v1/auth/refresh"} <= set(auth["paths"])
    assert "/v1/dev/mails" not in auth["paths"]
    assert {"/v1/me", "/v1/me/interests/{category}", "/v1/admin/users"} <= set(account["paths"])
    login = auth["paths"]["/v1/auth/login"]["post"]
    assert "requestBody" in login


def test_dev_mailbox_route_exists_only_in_the_local_stage(api):
    response = api.call("auth", "GET", "/v1/dev/mails")
    assert response.status == 404
