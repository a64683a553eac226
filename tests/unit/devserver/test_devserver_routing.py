"""Route selection follows API Gateway's precedence."""

from __future__ import annotations

from devserver.app_model import Route
from devserver.routing import Match, NoRoute, RouteTable


def route(method: str, path: str, function: str = "F") -> Route:
    return Route(method, path, function, None, "Api")


TABLE = RouteTable(
    [
        route("GET", "/v1/videos", "List"),
        route("POST", "/v1/videos", "Create"),
        route("GET", "/v1/videos/{id}", "Get"),
        route("GET", "/v1/videos/recent", "Recent"),
        route("DELETE", "/v1/videos/{id}", "Delete"),
        route("ANY", "/v1/files/{proxy+}", "Files"),
    ]
)


def test_static_segment_beats_path_parameter():
    found = TABLE.match("GET", "/v1/videos/recent")
    assert isinstance(found, Match) and found.route.function == "Recent"


def test_path_parameter_is_extracted():
    found = TABLE.match("GET", "/v1/videos/3f2a")
    assert isinstance(found, Match)
    assert (found.route.function, found.path_parameters) == ("Get", {"id": "3f2a"})


def test_greedy_parameter_takes_the_rest_of_the_path():
    found = TABLE.match("PUT", "/v1/files/a/b/c.mp4")
    assert isinstance(found, Match)
    assert found.path_parameters == {"proxy": "a/b/c.mp4"}


def test_unknown_path_is_not_found():
    assert TABLE.match("GET", "/v1/nothing") == NoRoute()


def test_known_path_with_other_method_lists_allowed_methods():
    assert TABLE.match("PATCH", "/v1/videos/1") == NoRoute(("DELETE", "GET"))


def test_parameter_does_not_span_segments():
    assert TABLE.match("GET", "/v1/videos/1/extra") == NoRoute()


def test_default_route_catches_unknown_paths_only():
    table = RouteTable([route("GET", "/v1/health", "Health"), route("ANY", "$default", "Catch")])
    found = table.match("GET", "/v1/other")
    assert isinstance(found, Match) and found.route.function == "Catch"
    assert found.route.route_key == "$default"
    assert table.match("POST", "/v1/health") == NoRoute(("GET",))
