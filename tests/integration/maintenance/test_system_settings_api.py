"""GET/PUT /v1/admin/settings (Admin only, typed) and public GET /v1/settings/public."""

from __future__ import annotations

import uuid

import pytest

from ecomvideo.services import system_settings
from tests.support.api import Api, as_user


@pytest.fixture(autouse=True)
def _cache():
    system_settings.clear_cache()
    yield
    system_settings.clear_cache()


def _call(method: str, path: str, body=None, roles: str | None = "Admin"):
    caller = as_user(None if roles is None else uuid.uuid4(), *(roles or "").split(","))
    response = Api(caller, user_agent=None).call(method, path, function="settings_admin", body=body)
    return response.status, response.json(), response.headers


def test_public_settings_list_only_public_ones_without_login(db):
    status, body, headers = _call("GET", "/v1/settings/public", roles=None)
    keys = {s["key"] for s in body["items"]}
    assert status == 200 and "credits.cost.base_per_5s" in keys
    assert "retention.api_usage_days" not in keys  # not public
    assert headers.get("Cache-Control") == "public, max-age=30"


def test_only_admins_read_and_change_settings(db):
    assert _call("GET", "/v1/admin/settings", roles="User")[0] == 403
    put = {"settings": [{"key": "retention.api_usage_days", "value": 30}]}
    assert _call("PUT", "/v1/admin/settings", put, roles="Support")[0] == 403


def test_values_are_validated_against_their_data_type_and_applied_atomically(session):
    bad = {
        "settings": [
            {"key": "retention.api_usage_days", "value": 45},
            {"key": "app.maintenance_mode", "value": "maybe"},
        ]
    }
    status, body, _ = _call("PUT", "/v1/admin/settings", bad)
    assert status == 422 and body["errors"][0]["pointer"] == "/settings/1/value"
    assert system_settings.get(session, "retention.api_usage_days", None) == 90  # unchanged

    good = {"settings": [{"key": "retention.api_usage_days", "value": 45}]}
    status, body, _ = _call("PUT", "/v1/admin/settings", good)
    assert status == 200 and body["items"][0]["value"] == 45
    system_settings.clear_cache()
    assert system_settings.get(session, "retention.api_usage_days", None) == 45
    status, body, _ = _call("GET", "/v1/admin/settings")
    assert {s["key"]: s["value"] for s in body["items"]}["retention.api_usage_days"] == 45


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("credits.cost.base_per_5s", 0),
        ("credits.cost.base_per_5s", -3),
        ("credits.cost.base_per_5s", 1.5),
        ("credits.cost.resolution_multiplier", {"720p": 0}),
        ("credits.cost.resolution_multiplier", {"8k": 2}),
        ("credits.cost.provider_extra", {"Freepik": -1}),
        ("credits.cost.provider_extra", [1, 2]),
        ("ratelimit.plans", {"Free": {"requests_per_minute": 0}}),
        ("retention.api_usage_days", 0),
        ("no.such.setting", 1),
        ("app.maintenance_mode", 1),
    ],
)
def test_each_key_has_its_own_schema_and_unknown_keys_are_refused(session, key, value):
    edit = {"settings": [{"key": key, "value": value}]}
    status, body, _ = _call("PUT", "/v1/admin/settings", edit)

    assert status == 422, body
    assert body["errors"][0]["pointer"] == "/settings/0/value", body
    assert body["errors"][0]["code"] == "type_mismatch"
    system_settings.clear_cache()
    assert system_settings.get(session, "credits.cost.base_per_5s", None) == 1  # unchanged


def test_values_inside_the_rules_are_accepted(session):
    good = {
        "settings": [
            {"key": "credits.cost.base_per_5s", "value": 2},
            {"key": "credits.cost.resolution_multiplier", "value": {"720p": 1, "4k": 3}},
            {"key": "ratelimit.plans", "value": {"Pro": {"requests_per_minute": 100}}},
        ]
    }
    status, body, _ = _call("PUT", "/v1/admin/settings", good)
    assert status == 200, body
