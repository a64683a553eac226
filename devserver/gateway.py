"""A local API Gateway (HTTP API): routing, Lambda authorizer, CORS, payload format 2.0.

``Gateway.handle`` turns an ``HttpRequest`` into an ``HttpResponse`` without sockets, so tests
drive it directly; ``serve`` wraps it in a stdlib ``ThreadingHTTPServer``.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devserver.app_model import AppModel, Route
from devserver.events import HttpRequest, authorizer_event, http_event, new_request_id
from devserver.routing import NoRoute, RouteTable
from devserver.runner import FunctionRunner, InvocationError

log = logging.getLogger("devserver.http")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://docs.ecomvideo.ai/problems/"


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def json(self) -> Any:
        return json.loads(self.body)


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str,
    headers: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    """An RFC 9457 problem+json response, shaped like the API's own errors."""
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    return HttpResponse(
        status,
        [("Content-Type", PROBLEM_CONTENT_TYPE), *(headers or [])],
        json.dumps(body).encode(),
    )


def lambda_result_to_response(result: Any) -> HttpResponse:
    """Convert a handler's return value as API Gateway does for payload format 2.0."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # Format 2.0 infers a 200 JSON response from anything without a statusCode.
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("Content-Type", "application/json")], body.encode())
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("Set-Cookie", str(c)) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return HttpResponse(int(result["statusCode"]), headers, body)


class Gateway:
    """Routes requests to the template's handlers through the runner."""

    def __init__(
        self,
        model: AppModel,
        runner: FunctionRunner,
        *,
        cors: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.model = model
        self.runner = runner
        self.table = RouteTable(model.routes)
        self.cors = cors if cors is not None else model.cors

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request: CORS preflight, routing, authorizer, handler."""
        request_id = new_request_id()
        response = self._handle(request, request_id)
        response.headers.append(("apigw-requestid", request_id))
        self._add_cors(request, response)
        return response

    # -- steps -----------------------------------------------------------------------------
    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        preflight = self._preflight(request)
        if preflight is not None:
            return preflight
        docs = api_docs(request)
        if docs is not None:
            return docs
        found = self.table.match(request.method, request.path)
        if isinstance(found, NoRoute):
            if found.allowed:
                return problem_response(
                    405,
                    "Method Not Allowed",
                    f"{request.method} is not allowed here.",
                    slug="method-not-allowed",
                    instance=request.path,
                    headers=[("Allow", ", ".join(found.allowed))],
                )
            return problem_response(
                404, "Not Found", "No such resource.", slug="not-found", instance=request.path
            )
        route = found.route
        context = None
        if route.authorizer is not None:
            denied, context = self._authorize(request, route, found.path_parameters, request_id)
            if denied is not None:
                return denied
        event = http_event(
            request,
            route_key=route.route_key,
            path_parameters=found.path_parameters,
            authorizer_context=context,
            request_id=request_id,
        )
        try:
            result = self.runner.invoke(route.function, event)
        except InvocationError as exc:
            log.error("%s raised:\n%s", route.function, exc.traceback_text)
            return problem_response(
                500,
                "Internal Server Error",
                f"{route.function} raised; see the devserver log.",
                slug="internal-error",
                instance=request.path,
            )
        return lambda_result_to_response(result)

    def _authorize(
        self, request: HttpRequest, route: Route, path_parameters: dict[str, str], request_id: str
    ) -> tuple[HttpResponse | None, dict[str, Any] | None]:
        """Run the route's Lambda authorizer: (denial response or None, its context)."""
        unauthorized = problem_response(
            401,
            "Unauthorized",
            "Sign in to use this endpoint.",
            slug="unauthorized",
            instance=request.path,
            headers=[("WWW-Authenticate", "Bearer")],
        )
        spec = self.model.authorizers.get(route.api, {}).get(route.authorizer or "")
        if spec is None or spec.function not in self.model.functions:
            # The template names an authorizer that is not there yet: fail closed.
            return unauthorized, None
        event = authorizer_event(
            request,
            route_key=route.route_key,
            identity_headers=spec.identity_headers,
            path_parameters=path_parameters,
            request_id=request_id,
        )
        if spec.identity_headers and not all(event["identitySource"]):
            return unauthorized, None  # API Gateway answers 401 without calling the authorizer
        try:
            result = self.runner.invoke(spec.function, event)
        except InvocationError as exc:
            log.error("authorizer %s raised:\n%s", spec.function, exc.traceback_text)
            return problem_response(
                500,
                "Internal Server Error",
                "The authorizer failed; see the devserver log.",
                slug="internal-error",
                instance=request.path,
            ), None
        result = result if isinstance(result, dict) else {}
        if spec.simple_responses:
            allowed = result.get("isAuthorized") is True
        else:
            statements = (result.get("policyDocument") or {}).get("Statement") or []
            allowed = bool(statements) and all(s.get("Effect") == "Allow" for s in statements)
        if not allowed:
            return problem_response(
                403,
                "Forbidden",
                "The authorizer denied this request.",
                slug="forbidden",
                instance=request.path,
            ), None
        return None, dict(result.get("context") or {})

    def _cors_config(self) -> dict[str, Any]:
        return next((c for c in self.cors.values() if c), {})

    def _allowed_origin(self, origin: str) -> str | None:
        origins = [str(o) for o in self._cors_config().get("AllowOrigins") or []]
        if "*" in origins:
            return "*"
        return origin if origin in origins else None

    def _preflight(self, request: HttpRequest) -> HttpResponse | None:
        headers = {k.lower(): v for k, v in request.headers}
        config = self._cors_config()
        if not (
            config
            and request.method.upper() == "OPTIONS"
            and "origin" in headers
            and "access-control-request-method" in headers
        ):
            return None
        response = HttpResponse(204)
        methods = config.get("AllowMethods") or ["*"]
        allow_headers = config.get("AllowHeaders") or []
        response.headers += [
            ("Access-Control-Allow-Methods", ",".join(str(m) for m in methods)),
            ("Access-Control-Allow-Headers", ",".join(str(h) for h in allow_headers)),
            ("Access-Control-Max-Age", str(config.get("MaxAge", 0))),
        ]
        return response

    def _add_cors(self, request: HttpRequest, response: HttpResponse) -> None:
        """API Gateway replaces the integration's CORS headers with its own configuration."""
        origin = next((v for k, v in request.headers if k.lower() == "origin"), None)
        config = self._cors_config()
        if not config or origin is None:
            return
        response.headers = [
            (k, v)
            for k, v in response.headers
            if not k.lower().startswith("access-control-allow-o")
        ]
        allowed = self._allowed_origin(origin)
        if allowed is None:
            return
        response.headers.append(("Access-Control-Allow-Origin", allowed))
        exposed = config.get("ExposeHeaders") or []
        if exposed and request.method.upper() != "OPTIONS":
            response.headers.append(
                ("Access-Control-Expose-Headers", ",".join(str(h) for h in exposed))
            )


class _Handler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"
    server_version = "ecomvideo-devserver"

    def _serve(self) -> None:
        started = time.monotonic()
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = HttpRequest(
            method=self.command,
            path=path,
            query=query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            host=self.headers.get("Host")
            or f"{self.server.server_address[0]!s}:{self.server.server_address[1]}",
        )
        response = self.gateway.handle(request)
        self.send_response_only(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Date", self.date_time_string())
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        elapsed = (time.monotonic() - started) * 1000
        log.info("%s %s -> %d (%.0f ms)", self.command, self.path, response.status, elapsed)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY...) is routed too: 405/404 problem+json, never 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request is written by _serve


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (keep-alive closed, request cancelled) is not a server error.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)


def make_server(gateway: Gateway, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    """A threading HTTP server bound to ``host:port`` that answers through ``gateway``."""
    handler = type("GatewayHandler", (_Handler,), {"gateway": gateway})
    server = _Server((host, port), handler)
    server.daemon_threads = True
    return server


# The Swagger UI page may load its bundle and stylesheet from unpkg, run its one inline script
# (by hash), fetch /openapi.json, and nothing else; no framing.
DOCS_CSP = (
    "default-src 'none'; "
    "script-src https://unpkg.com 'sha256-13RNZVxW4PqyApC3L0DvEr+2kYAyK0NE767HFGrU13A='; "
    "style-src https://unpkg.com 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
OPENAPI_FILE = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>EcomVideo AI API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<p style="font-family:sans-serif">The machine-readable document is at
<a href="/openapi.json">/openapi.json</a> (Swagger UI itself loads from a CDN).</p>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>
"""


def api_docs(request: HttpRequest) -> HttpResponse | None:
    """``GET /openapi.json`` (docs/openapi.json, works offline) and ``GET /docs`` (Swagger UI)."""
    if request.method != "GET":
        return None
    if request.path == "/openapi.json":
        return HttpResponse(200, [("Content-Type", "application/json")], OPENAPI_FILE.read_bytes())
    if request.path == "/docs":
        return HttpResponse(
            200,
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Security-Policy", DOCS_CSP)],
            SWAGGER_PAGE.encode(),
        )
    return None
