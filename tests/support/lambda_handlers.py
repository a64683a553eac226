"""Call the real ``functions/<name>/app.py`` handlers with API Gateway HTTP API v2 events.

Handlers are imported by file path under unique module names (like Lambda, and like the local
stack in ``devserver/runner.py``). ``ApiClient`` runs the Lambda authorizer first when a bearer
token is given, exactly as API Gateway would, and passes its context to the route's handler.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from devserver.events import HttpRequest, LambdaContext, authorizer_event, http_event

ROOT = Path(__file__).resolve().parents[2]
_loaded: dict[str, ModuleType] = {}


def load_handler_module(function: str) -> ModuleType:
    """Import ``functions/<function>/app.py`` once per test session."""
    module = _loaded.get(function)
    if module is None:
        path = ROOT / "functions" / function / "app.py"
        name = f"_test_fn_{function}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _loaded[function] = module
    return module


def context(function: str) -> LambdaContext:
    return LambdaContext(function, memory_mb=512, timeout_s=15, region="us-east-1")


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return {k.lower(): v for k, v in self.headers.items()}.get("content-type", "")


class ApiClient:
    """A tiny API Gateway: optional authorizer, then the function's handler."""

    def __init__(self, source_ip: str = "203.0.113.7", user_agent: str = "pytest-client/1.0"):
        self.source_ip = source_ip
        self.user_agent = user_agent

    def authorize(self, request: HttpRequest, route_key: str) -> dict[str, Any] | None:
        """The authorizer's context, or None when it denies."""
        event = authorizer_event(request, route_key=route_key, identity_headers=("authorization",))
        result = load_handler_module("authorizer").lambda_handler(event, context("authorizer"))
        return result.get("context") if result.get("isAuthorized") is True else None

    def call(
        self,
        function: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw_body: str | None = None,
        query: str = "",
        headers: dict[str, str] | None = None,
        protected: bool = False,
    ) -> ApiResponse:
        all_headers = {"user-agent": self.user_agent, **(headers or {})}
        payload = b""
        if raw_body is not None:
            payload = raw_body.encode()
        elif body is not None:
            payload = json.dumps(body).encode()
        if payload:
            all_headers.setdefault("content-type", "application/json")
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
        request = HttpRequest(
            method=method,
            path=path,
            query=query,
            headers=list(all_headers.items()),
            body=payload,
            source_ip=self.source_ip,
        )
        route_key = f"{method} {path}"
        authorizer_context = None
        if protected or token is not None:
            if token is None:
                return ApiResponse(401, {}, json.dumps({"message": "Unauthorized"}))
            authorizer_context = self.authorize(request, route_key)
            if authorizer_context is None:
                return ApiResponse(403, {}, json.dumps({"message": "Forbidden"}))
        event = http_event(request, route_key=route_key, authorizer_context=authorizer_context)
        result = load_handler_module(function).lambda_handler(event, context(function))
        return ApiResponse(
            status=result["statusCode"],
            headers=result.get("headers") or {},
            body=result.get("body") or "",
        )


_FRESH_SCRIPT = """
import json, sys, importlib.util
from devserver.events import LambdaContext
spec = importlib.util.spec_from_file_location("fresh_handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
context = LambdaContext("fresh", memory_mb=256, timeout_s=10, region="us-east-1")
response = module.lambda_handler(json.loads(sys.argv[2]), context)
modules = [m for m in json.loads(sys.argv[3]) if m in sys.modules]
print(json.dumps({"status": response["statusCode"], "imported": modules}))
"""


def invoke_in_fresh_interpreter(
    function: str,
    event: dict[str, Any],
    env: dict[str, str],
    watched: tuple[str, ...] = ("sqlalchemy",),
) -> dict[str, Any]:
    """Run ``functions/<function>/app.py`` once in a new interpreter (a cold Lambda container).

    Returns ``{"status": <statusCode>, "imported": [the ``watched`` modules it imported]}``:
    for checks such as "a forged webhook is rejected before the ORM is imported".
    """
    import subprocess

    full_env = {
        "PYTHONPATH": f"{ROOT / 'layers/core/python'}:{ROOT}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "EcomVideo",
        "PATH": "/usr/bin:/bin",
        **env,
    }
    handler = str(ROOT / "functions" / function / "app.py")
    out = subprocess.run(
        [sys.executable, "-c", _FRESH_SCRIPT, handler, json.dumps(event), json.dumps(watched)],
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
