"""The local API Gateway: events in, responses out, authorizer and errors."""

from __future__ import annotations

import base64
import json

from devserver.events import HttpRequest
from devserver.gateway import lambda_result_to_response


def request(method: str, path: str, **kwargs) -> HttpRequest:
    return HttpRequest(method=method, path=path, **kwargs)


def test_public_route_gets_a_payload_v2_event(stub_model, make_gateway):
    gateway = make_gateway(stub_model)

    response = gateway.handle(
        request(
            "POST",
            "/v1/echo/42",
            query="a=1&a=2&b=",
            headers=[
                ("Content-Type", "application/json"),
                ("X-Custom", "v"),
                ("Cookie", "s=abc; t=def"),
                ("User-Agent", "curl/8"),
            ],
            body=b'{"hello": "world"}',
        )
    )

    assert response.status == 201
    payload = response.json()
    event = payload["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /v1/echo/{id}"
    assert event["rawPath"] == "/v1/echo/42"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"id": "42"}
    assert event["cookies"] == ["s=abc", "t=def"]
    assert event["headers"]["x-custom"] == "v"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST"
    assert context["http"]["userAgent"] == "curl/8"
    assert context["stage"] == "$default"
    assert context["requestId"] == response.header("apigw-requestid")
    assert "authorizer" not in context
    # the function's own environment was in place
    assert payload["service"] == "echofunction"
    assert response.header("X-Stage") == "local"
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2"]


def test_binary_body_is_base64_encoded(stub_model, make_gateway):
    gateway = make_gateway(stub_model)
    raw = bytes(range(256))

    response = gateway.handle(
        request("POST", "/v1/echo/1", headers=[("Content-Type", "image/png")], body=raw)
    )

    event = response.json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_unknown_path_is_problem_json_404(stub_model, make_gateway):
    response = make_gateway(stub_model).handle(request("GET", "/v1/missing"))

    assert response.status == 404
    assert response.header("Content-Type") == "application/problem+json"
    assert response.json()["status"] == 404


def test_wrong_method_is_problem_json_405_with_allow(stub_model, make_gateway):
    response = make_gateway(stub_model).handle(request("GET", "/v1/echo/1"))

    assert response.status == 405
    assert response.header("Allow") == "POST"
    assert response.json()["type"].endswith("/method-not-allowed")


def test_protected_route_without_token_is_401(stub_model, make_gateway):
    response = make_gateway(stub_model).handle(request("GET", "/v1/private"))

    assert response.status == 401
    assert response.header("Content-Type") == "application/problem+json"


def test_authorizer_denial_is_403(stub_model, make_gateway):
    response = make_gateway(stub_model).handle(
        request("GET", "/v1/private", headers=[("Authorization", "Bearer bad")])
    )

    assert response.status == 403
    assert response.json()["status"] == 403


def test_authorizer_context_reaches_the_handler(stub_model, make_gateway):
    response = make_gateway(stub_model).handle(
        request("GET", "/v1/private", headers=[("Authorization", "Bearer good")])
    )

    assert response.status == 201
    context = response.json()["event"]["requestContext"]["authorizer"]
    assert context == {"lambda": {"userId": "u-1", "roles": "user"}}


def test_route_fails_closed_when_the_authorizer_function_is_missing(stub_model, make_gateway):
    del stub_model.functions["AuthorizerFunction"]

    response = make_gateway(stub_model).handle(
        request("GET", "/v1/private", headers=[("Authorization", "Bearer good")])
    )

    assert response.status == 401


def test_handler_exception_is_problem_json_500(stub_model, make_gateway):
    response = make_gateway(stub_model).handle(request("POST", "/v1/echo/boom"))

    assert response.status == 500
    assert response.header("Content-Type") == "application/problem+json"
    # The traceback goes to the devserver log, never into the response.
    assert "RuntimeError" not in response.body.decode()


def test_result_without_status_code_is_json_200():
    response = lambda_result_to_response({"ok": True})

    assert response.status == 200
    assert json.loads(response.body) == {"ok": True}


def test_base64_result_is_decoded():
    encoded = base64.b64encode(b"\x00\x01").decode()
    response = lambda_result_to_response(
        {"statusCode": 200, "body": encoded, "isBase64Encoded": True}
    )
    assert response.body == b"\x00\x01"
