"""``http.app.Api`` keeps its own route table: the 405 ``Allow`` header and the matched route
(usage log, rate limits) come from it, not from Powertools' private state."""

from __future__ import annotations

import json

import pytest

from devserver.events import HttpRequest, LambdaContext, http_event


@pytest.fixture(scope="module")
def app():
    from ecomvideo.http.app import create_app

    app = create_app(usage_and_limits=False)

    @app.get("/things/<thing_id>")
    def read(thing_id: str) -> dict:
        return {"id": thing_id}

    @app.delete("/things/<thing_id>")
    def remove(thing_id: str) -> dict:
        return {}

    @app.get("/things/mine")
    def mine() -> dict:
        return {"route": "mine"}

    @app.route("/things", method=["GET", "POST"])
    def things() -> dict:
        return {}

    return app


def _call(app, method: str, path: str) -> dict:
    event = http_event(HttpRequest(method=method, path=path), route_key=f"{method} {path}")
    return app.resolve(event, LambdaContext("t", memory_mb=128, timeout_s=3, region="us-east-1"))


def test_a_known_path_with_another_method_is_405_listing_every_allowed_method(app):
    result = _call(app, "PUT", "/things/42")

    assert result["statusCode"] == 405
    assert result["headers"]["Allow"] == "DELETE, GET"
    assert json.loads(result["body"])["type"].endswith("/method-not-allowed")
    assert _call(app, "PATCH", "/things")["headers"]["Allow"] == "GET, POST"


def test_an_unknown_path_is_404_without_allow(app):
    result = _call(app, "GET", "/things/42/parts")

    assert result["statusCode"] == 404
    assert "Allow" not in result["headers"]


def test_the_matched_route_prefers_a_static_rule_as_powertools_routes(app):
    assert json.loads(_call(app, "GET", "/things/mine")["body"]) == {"route": "mine"}
    assert app.matched_route("GET", "/things/mine").rule == "/things/mine"
    assert app.matched_route("get", "/things/7").rule == "/things/<thing_id>"
    assert app.matched_route("DELETE", "/things/mine").rule == "/things/<thing_id>"
    assert app.matched_route("POST", "/things/7") is None
    assert app.matched_route("GET", "/things/7/x") is None


def test_a_route_registered_for_several_methods_is_in_the_table_once_per_method(app):
    rules = [(r.method, r.rule) for r in app.routes if r.rule == "/things"]
    assert sorted(rules) == [("GET", "/things"), ("POST", "/things")]


def test_no_code_reads_the_resolvers_private_state():
    # Powertools' route tables, serializer and context keys are private: they change between
    # releases. A resolver is ``app`` everywhere; its public API and Api's own table suffice.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for folder in ("layers/core/python/ecomvideo", "functions", "devserver", "tools"):
        for file in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(file.read_text(), filename=str(file))):
                private_attribute = (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "app"
                    and node.attr.startswith("_")
                    and not node.attr.startswith("__")
                )
                # app.context.get("_route") / app.context["_path"]: Powertools' own keys.
                private_key = isinstance(node, ast.Constant) and node.value in ("_route", "_path")
                if private_attribute or private_key:
                    found.append(f"{file.relative_to(root)}:{node.lineno}")
    assert found == []
