"""The committed OpenAPI document is current and covers every route of template.yaml."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

from devserver.app_model import build_model
from devserver.events import HttpRequest
from devserver.gateway import api_docs, make_server

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "docs" / "openapi.json"


def test_committed_openapi_matches_the_handlers():
    # A fresh interpreter: other tests change settings and provider registries in-process.
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/core/python'}{os.pathsep}{ROOT}"}
    for key in ("FREEPIK_API_KEY", "PUBLIC_API_URL", "DATABASE_URL"):
        env.pop(key, None)
    out = subprocess.run(
        [sys.executable, "-m", "tools.openapi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    generated = json.loads(out.stdout)
    committed = json.loads(COMMITTED.read_text())
    assert generated == committed, "regenerate: python -m tools.openapi > docs/openapi.json"


def test_every_template_route_is_documented_with_problem_errors():
    document = json.loads(COMMITTED.read_text())
    for route in build_model(ROOT / "template.yaml").routes:
        operation = document["paths"][route.path][route.method.lower()]
        too_many = operation["responses"]["429"]
        # The shared RateLimited problem response, or (webhooks) one that offers problem+json.
        assert too_many.get("$ref") == "#/components/responses/RateLimited" or (
            "application/problem+json" in too_many["content"]
        ), route.route_key
        if route.authorizer is None:
            assert operation["security"] == []
        else:
            assert "401" in operation["responses"]


def test_local_stack_serves_the_document():
    response = api_docs(HttpRequest(method="GET", path="/openapi.json"))
    assert response is not None and response.status == 200
    assert json.loads(response.body)["openapi"].startswith("3.1")
    assert api_docs(HttpRequest(method="POST", path="/openapi.json")) is None


def test_operations_use_the_template_names_and_document_every_status():
    document = json.loads(COMMITTED.read_text())
    for route in build_model(ROOT / "template.yaml").routes:
        operation = document["paths"][route.path][route.method.lower()]
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        # schemathesis/clients fill {id} from the parameter list: the names must agree.
        assert names == set(re.findall(r"\{([^}]+)\}", route.path)), route.route_key
        responses = operation["responses"]
        assert {"401", "404", "405", "422"} <= responses.keys(), route.route_key
        assert "content" not in responses.get("204", {}), route.route_key
        # A summary from the route function (docstring or name), not a copy of the route key.
        if route.path.startswith("/v1/") and route.path != "/v1/dev/mails":
            assert operation["summary"] != f"{route.method} {route.path}", route.route_key


def test_the_local_stack_routes_any_http_method(stub_model, make_gateway):
    # http.server answers 501 HTML for methods without a do_X; API Gateway routes them.
    server = make_server(make_gateway(stub_model), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        connection.request("QUERY", "/v1/echo/1")
        response = connection.getresponse()
        assert response.status == 405
        assert response.getheader("Content-Type") == "application/problem+json"
        assert response.getheader("Allow") == "POST"
    finally:
        server.shutdown()
        server.server_close()


def test_docs_page_has_a_restrictive_csp_that_allows_its_own_inline_script():
    import base64
    import hashlib
    import re

    response = api_docs(HttpRequest(method="GET", path="/docs"))
    assert response is not None
    csp = response.header("Content-Security-Policy") or ""
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    inline = re.findall(r"<script>(.*?)</script>", response.body.decode(), re.DOTALL)
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
