"""The committed OpenAPI document is current and covers every route of template.yaml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from devserver.app_model import build_model
from devserver.events import HttpRequest
from devserver.gateway import api_docs

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "docs" / "openapi.json"


def test_committed_openapi_matches_the_handlers():
    # A fresh interpreter: other tests change settings and provider registries in-process.
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/core/python'}{os.pathsep}{ROOT}"}
    for key in ("FREEPIK_API_KEY", "PUBLIC_API_URL", "DATABASE_URL"):
        env.pop(key, None)
    out = subprocess.run(
        [sys.executable, "-m", "devserver.openapi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    generated = json.loads(out.stdout)
    committed = json.loads(COMMITTED.read_text())
    assert generated == committed, "regenerate: python -m devserver.openapi > docs/openapi.json"


def test_every_template_route_is_documented_with_problem_errors():
    document = json.loads(COMMITTED.read_text())
    for route in build_model(ROOT / "template.yaml").routes:
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["responses"]["429"]["$ref"] == "#/components/responses/Problem"
        if route.authorizer is None:
            assert operation["security"] == []
        else:
            assert "401" in operation["responses"]


def test_local_stack_serves_the_document():
    response = api_docs(HttpRequest(method="GET", path="/openapi.json"))
    assert response is not None and response.status == 200
    assert json.loads(response.body)["openapi"].startswith("3.1")
    assert api_docs(HttpRequest(method="POST", path="/openapi.json")) is None
