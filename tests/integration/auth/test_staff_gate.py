"""Every /v1/admin route of template.yaml answers a role without access 403 before validating
anything, and lets the area's roles (``http.app.ADMIN_AREAS``) through to the handler."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from devserver.app_model import build_model
from ecomvideo.http.app import ADMIN_AREAS, admin_roles
from tests.support.engagement import token_for
from tests.support.factories import make_user

ROOT = Path(__file__).resolve().parents[3]
MODEL = build_model(ROOT / "template.yaml")
OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())
ADMIN = [r for r in MODEL.routes if r.path.startswith("/v1/admin/")]
PARAM = re.compile(r"\{([^}]+)\}")
BOGUS_BODY = {"not_a_field": [{"deeply": "wrong"}], "role": "God", "settings": "no"}
SAMPLE = {"role": "User", "price_id": "price_gate_check"}


def _concrete(path: str) -> str:
    return PARAM.sub(lambda m: SAMPLE.get(m.group(1), str(uuid.uuid4())), path)


def _takes_body(route) -> bool:
    return "requestBody" in OPENAPI["paths"][route.path].get(route.method.lower(), {})


def test_every_admin_route_belongs_to_an_area():
    assert ADMIN, "no admin routes found in template.yaml"
    stray = [r.route_key for r in ADMIN if not any(r.path.startswith(a) for a in ADMIN_AREAS)]
    assert not stray, f"add their area to http.app.ADMIN_AREAS: {stray}"


@pytest.mark.parametrize("role", ["User", "Support", "Moderator"])
def test_a_role_without_access_gets_403_before_any_validation(api, session, role):
    caller = make_user(session)
    token = token_for(caller.id, "User", *([] if role == "User" else [role]))
    refused = [r for r in ADMIN if role not in admin_roles(r.path)]
    assert refused
    for route in refused:
        function = MODEL.functions[route.function].code_dir.name
        response = api.call(
            function,
            route.method,
            _concrete(route.path),
            BOGUS_BODY if route.method in ("POST", "PUT", "PATCH") else None,
            token=token,
            query="limit=-1&date_from=yesterday",
        )
        assert response.status == 403, (route.route_key, response.status, response.body)
        assert "errors" not in response.json(), route.route_key


@pytest.mark.parametrize("role", ["Admin", "Support", "Moderator"])
def test_the_areas_roles_reach_the_handler(api, session, role):
    """The gate and the handler agree: a role of the area is never refused 403 (a bogus body
    then gets the handler's 422, a read its answer, an unknown id its 404)."""
    caller = make_user(session)
    token = token_for(caller.id, "User", role)
    allowed = [r for r in ADMIN if role in admin_roles(r.path)]
    assert allowed
    for route in allowed:
        if route.method != "GET" and not _takes_body(route):
            continue  # e.g. billing sync would act; its gate is covered by the test above
        function = MODEL.functions[route.function].code_dir.name
        body = BOGUS_BODY if _takes_body(route) else None
        response = api.call(function, route.method, _concrete(route.path), body, token=token)
        assert response.status != 403, (route.route_key, response.body)
        assert response.status < 500, (route.route_key, response.body)
        if body is not None:
            assert response.status == 422, (route.route_key, response.body)
