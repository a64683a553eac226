"""Bodies the JSON API cannot read are 4xx problem+json, never 500 (found by schemathesis)."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from devserver.events import HttpRequest, LambdaContext, http_event


class Thing(BaseModel):
    name: str


@pytest.fixture(scope="module")
def app():
    from ecomvideo.http.app import create_app

    app = create_app(usage_and_limits=False)

    @app.post("/things")
    def create(body: Thing) -> Thing:
        return body

    return app


def _post(app, body: bytes, content_type: str) -> tuple[int, dict]:
    request = HttpRequest(
        method="POST", path="/things", headers=[("content-type", content_type)], body=body
    )
    event = http_event(request, route_key="POST /things")
    result = app.resolve(
        event, LambdaContext("things", memory_mb=128, timeout_s=3, region="us-east-1")
    )
    return result["statusCode"], json.loads(result["body"])


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/merge-patch+json",
    ],
)
def test_a_body_that_is_not_json_is_415(app, content_type):
    status, problem = _post(app, b'{"name": "lamp"}', content_type)

    assert status == 415
    assert problem["type"].endswith("/unsupported-media-type")


def test_a_body_that_is_not_utf8_is_400(app):
    status, problem = _post(app, b'{"name": "\xff\xfe"}', "application/json")

    assert status == 400
    assert problem["type"].endswith("/malformed-json")


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_json_bodies_still_work(app, content_type):
    status, body = _post(app, b'{"name": "lamp"}', content_type)

    assert (status, body) == (200, {"name": "lamp"})


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "lamp\\u0000"}',  # JSON escape
        b'{"name": "lamp", "\\u0000": 1}',  # in a key
        b'{"name": "lamp\x00"}',  # raw byte
    ],
)
def test_a_nul_character_is_422_not_a_database_error(app, body):
    status, problem = _post(app, body, "application/json")

    assert status == 422
    assert "NUL" in problem["detail"]


def test_an_escaped_backslash_before_u0000_is_ordinary_text(app):
    status, body = _post(app, b'{"name": "C:\\\\u0000"}', "application/json")

    assert (status, body) == (200, {"name": "C:\\u0000"})


def test_a_nul_in_the_query_string_is_422(app):
    request = HttpRequest(method="POST", path="/things", headers=[], body=b"")
    event = http_event(request, route_key="POST /things")
    event["rawQueryString"] = "q=a%00b"
    result = app.resolve(event, LambdaContext("t", memory_mb=128, timeout_s=3, region="us-east-1"))

    assert result["statusCode"] == 422
