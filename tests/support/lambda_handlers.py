"""Call the real ``functions/<name>/app.py`` handlers: a thin layer over ``tests.support.api``.

``ApiClient.call(function, method, path, token=...)`` is ``Api().with_token(token).call(...)``:
the template's routeKey, the real Lambda authorizer for a token, API Gateway's 401/403 before
the handler when a protected route has no token or the authorizer denies.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from devserver.events import LambdaContext
from tests.support.api import ROOT, Api, ApiResponse, load_function, with_token

__all__ = ["ROOT", "ApiClient", "ApiResponse", "context", "invoke_in_fresh_interpreter"]


def load_handler_module(function: str) -> Any:
    """Import ``functions/<function>/app.py`` once per test session."""
    return load_function(function)


def context(function: str) -> LambdaContext:
    return LambdaContext(function, memory_mb=512, timeout_s=15, region="us-east-1")


class ApiClient:
    """A client with a fixed source IP and user agent; each call may carry a bearer token."""

    def __init__(self, source_ip: str = "203.0.113.7", user_agent: str = "pytest-client/1.0"):
        self.source_ip = source_ip
        self.user_agent = user_agent

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
        unrouted: bool = False,
    ) -> ApiResponse:
        """``unrouted=True``: a path the template does not route, delivered to ``function``
        anyway (to test the handler's own 404)."""
        api = Api(
            with_token(token),
            source_ip=self.source_ip,
            user_agent=self.user_agent,
            unrouted_to=function if unrouted else None,
        )
        return api.call(
            method,
            path,
            function=function,
            body=body,
            raw_body=raw_body,
            query=query,
            headers=headers,
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
