"""The one API test harness (tests/support/api.py) speaks template.yaml's routes, never a
concrete path as routeKey, and the older helpers are thin layers over it."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support import api, pipeline_stack
from tests.support.api import Api, UnknownRoute, as_admin, as_user, template_route_keys

_PARAM = re.compile(r"\{([^}+]+)\+?\}")


def _concrete(path: str) -> tuple[str, dict[str, str]]:
    """A request path for a template path, and the path parameters it should yield."""
    values: dict[str, str] = {}

    def fill(match: re.Match[str]) -> str:
        values[match.group(1)] = f"{match.group(1)}-{uuid.uuid4().hex[:6]}"
        return values[match.group(1)]

    return _PARAM.sub(fill, path), values


ROUTES = [r for r in api.template_model().routes if r.path != "$default"]


def test_the_template_has_routes_with_path_parameters_to_check():
    assert len(ROUTES) > 50
    assert any("{" in r.path for r in ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route_key)
def test_every_event_for_a_template_route_carries_its_template_route_key(route):
    path, parameters = _concrete(route.path)
    caller = Api(as_user(uuid.uuid4()))

    event = caller.event(route.method, path)

    assert event["routeKey"] == route.route_key
    assert event["routeKey"] in template_route_keys()
    assert event["requestContext"]["routeKey"] == route.route_key
    assert event["rawPath"] == path
    assert event.get("pathParameters", {}) == parameters
    assert api.route_for(route.method, path).function == api.function_dir(route)


def test_the_authorizer_context_reaches_protected_routes_only():
    user = uuid.uuid4()
    protected = Api(as_admin(user)).event("GET", "/v1/admin/users")
    public = Api(as_admin(user)).event("GET", "/v1/plans")

    assert protected["requestContext"]["authorizer"]["lambda"] == {
        "userId": str(user),
        "roles": "Admin",
    }
    assert "authorizer" not in public["requestContext"]


def test_a_protected_route_without_credentials_is_401_before_any_handler():
    response = Api().call("GET", "/v1/videos")

    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


def test_a_path_the_template_does_not_route_is_refused_unless_the_test_says_so():
    with pytest.raises(UnknownRoute):
        Api(as_user(uuid.uuid4())).event("GET", "/v1/videos/abc/nowhere")
    with pytest.raises(UnknownRoute):
        Api(as_user(uuid.uuid4())).event("PUT", "/v1/videos")  # a path, not this method

    event = Api(as_user(uuid.uuid4()), unrouted_to="videos").event("GET", "/v1/nowhere")
    assert event["routeKey"] == "$default"


def test_a_call_names_the_function_that_serves_the_route():
    with pytest.raises(UnknownRoute, match="functions/videos"):
        Api(as_user(uuid.uuid4())).call("GET", "/v1/videos", function="billing")


def test_the_pipeline_helpers_build_their_events_with_the_harness():
    video_id = uuid.uuid4()

    event = pipeline_stack.api_event("PATCH", f"/v1/videos/{video_id}", user_id=uuid.uuid4())

    assert event["routeKey"] == "PATCH /v1/videos/{video_id}"
    assert event["pathParameters"] == {"video_id": str(video_id)}
