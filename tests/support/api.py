"""The one way tests call the HTTP API: API Gateway HTTP API v2 events for template.yaml's routes,
handed to the real Lambda entry points (``functions/<name>/app.py: lambda_handler``).

Routing is the local stack's (``devserver.routing.RouteTable`` over ``devserver.app_model``'s
reading of template.yaml), so every event carries the template's routeKey with its ``{param}``
placeholders and the matching ``pathParameters``, and a path the template does not route raises
``UnknownRoute`` instead of reaching a handler. Who calls:

* ``as_user(user_id, *roles)`` / ``as_admin(user_id)``: the authorizer context the Lambda
  authorizer gives an allowed request (``userId``, ``roles``), without a token;
* ``with_token(token)``: the real Lambda authorizer runs first, as API Gateway does (403 when it
  denies); a route with an authorizer and no caller is 401 before any handler runs;
* ``ANONYMOUS``: no credentials.

A test of a handler's own answer to a path the template does not route (its resolver's 404)
says so: ``Api(unrouted_to="analytics")`` delivers such a request to that function as through a
``$default`` route (the only events with a routeKey that is not one of the template's).

Handlers are imported by file path, once per test session (one warm container per function);
``load_function(name, fresh=True)`` gives a private copy (own resolver and middleware stacks).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from devserver.app_model import DEFAULT_ROUTE, AppModel, Route, build_model
from devserver.events import HttpRequest, LambdaContext, authorizer_event, http_event
from devserver.routing import NoRoute, RouteTable

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
_loaded: dict[str, ModuleType] = {}


class UnknownRoute(AssertionError):
    """The template has no route for this method and path (a test would call a handler that API
    Gateway never reaches)."""


@cache
def template_model() -> AppModel:
    return build_model(ROOT / "template.yaml")


@cache
def _table() -> RouteTable:
    return RouteTable(template_model().routes)


def template_route_keys() -> frozenset[str]:
    return frozenset(r.route_key for r in template_model().routes)


def function_dir(route: Route) -> str:
    """``functions/<dir>`` of the route's function (``videos`` for ``VideosFunction``)."""
    return template_model().functions[route.function].code_dir.name


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    function: str
    path_parameters: dict[str, str]

    @property
    def route_key(self) -> str:
        return self.route.route_key


def route_for(method: str, path: str, *, unrouted_to: str | None = None) -> RouteMatch:
    """The template's route for ``method path`` (most specific wins, as in API Gateway);
    ``unrouted_to``: the function that gets a path without a route, as through ``$default``."""
    found = _table().match(method, path)
    if isinstance(found, NoRoute):
        if unrouted_to is None:
            raise UnknownRoute(f"template.yaml has no route for {method.upper()} {path}")
        return RouteMatch(_default_route(unrouted_to), unrouted_to, {})
    return RouteMatch(found.route, function_dir(found.route), dict(found.path_parameters))


def _default_route(function: str) -> Route:
    """A ``$default`` route to ``functions/<function>`` behind the API's authorizer."""
    model = template_model()
    logical_id = next(k for k, f in model.functions.items() if f.code_dir.name == function)
    api, authorizers = next((a, specs) for a, specs in model.authorizers.items() if specs)
    return Route("ANY", DEFAULT_ROUTE, logical_id, next(iter(authorizers)), api)


def load_function(name: str, *, fresh: bool = False) -> ModuleType:
    """Import ``functions/<name>/app.py`` by path, once per session (a warm container);
    ``fresh=True`` returns a new private instance (a second container)."""
    if not fresh and name in _loaded:
        return _loaded[name]
    suffix = f"_{uuid.uuid4().hex[:8]}" if fresh else ""
    module_name = f"_test_fn_{name}{suffix}"
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    if not fresh:
        _loaded[name] = module
    return module


def context(function: str = "fn") -> LambdaContext:
    return LambdaContext(function, memory_mb=1024, timeout_s=60, region=REGION)


# -- who calls ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """An authorizer context to pass as is, or a bearer token for the real authorizer."""

    authorizer_context: dict[str, Any] | None = None
    token: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.authorizer_context is None and self.token is None


ANONYMOUS = Caller()


def as_user(user_id: uuid.UUID | str | None, *roles: str) -> Caller:
    """The context the authorizer gives ``user_id`` with ``roles`` (default ``User``);
    ``None`` is anonymous."""
    if user_id is None:
        return ANONYMOUS
    return Caller({"userId": str(user_id), "roles": ",".join(roles or ("User",))})


def as_admin(user_id: uuid.UUID | str) -> Caller:
    return as_user(user_id, "Admin")


def with_token(token: str | None) -> Caller:
    return ANONYMOUS if token is None else Caller(token=token)


# -- responses ------------------------------------------------------------------------------
@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str
    is_base64: bool = False

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def payload(self) -> Any:
        """Parsed JSON, the text when it is not JSON, None when empty."""
        try:
            return self.json()
        except json.JSONDecodeError:
            return self.body

    @property
    def content(self) -> bytes:
        return base64.b64decode(self.body) if self.is_base64 else self.body.encode()

    @property
    def content_type(self) -> str:
        return {k.lower(): v for k, v in self.headers.items()}.get("content-type", "")


def _gateway_denial(status: int, message: str) -> ApiResponse:
    """API Gateway's own answer (simple responses) when it stops a request at the authorizer."""
    return ApiResponse(
        status, {"content-type": "application/json"}, json.dumps({"message": message})
    )


# -- the client -----------------------------------------------------------------------------
@dataclass
class Api:
    """A small API Gateway in front of the real handlers."""

    caller: Caller = ANONYMOUS
    source_ip: str = "203.0.113.7"
    user_agent: str | None = "pytest-client/1.0"
    modules: dict[str, ModuleType] = field(default_factory=dict)
    unrouted_to: str | None = None

    def as_user(self, user_id: uuid.UUID | str | None, *roles: str) -> Api:
        return self._with(as_user(user_id, *roles))

    def as_admin(self, user_id: uuid.UUID | str) -> Api:
        return self._with(as_admin(user_id))

    def with_token(self, token: str | None) -> Api:
        return self._with(with_token(token))

    def _with(self, caller: Caller) -> Api:
        return Api(caller, self.source_ip, self.user_agent, self.modules, self.unrouted_to)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw_body: str | bytes | None = None,
        query: str = "",
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
    ) -> HttpRequest:
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if self.user_agent and not any(k.lower() == "user-agent" for k, _ in pairs):
            pairs.insert(0, ("user-agent", self.user_agent))
        payload = b""
        if raw_body is not None:
            payload = raw_body.encode() if isinstance(raw_body, str) else raw_body
        elif body is not None:
            payload = json.dumps(body).encode()
        if payload and not any(k.lower() == "content-type" for k, _ in pairs):
            pairs.append(("content-type", "application/json"))
        if self.caller.token is not None:
            pairs.append(("authorization", f"Bearer {self.caller.token}"))
        return HttpRequest(
            method=method.upper(),
            path=path,
            query=query,
            headers=pairs,
            body=payload,
            source_ip=self.source_ip,
        )

    def event(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The event API Gateway would send the route's handler (context as given; a token
        caller is authorized by the real authorizer: a denial raises)."""
        match = route_for(method, path, unrouted_to=self.unrouted_to)
        request = self.request(method, path, **kwargs)
        context_or_denial = self._authorize(request, match)
        if isinstance(context_or_denial, ApiResponse):
            raise AssertionError(f"the gateway stops this request: {context_or_denial.status}")
        return self._event(request, match, context_or_denial)

    def call(
        self, method: str, path: str, *, function: str | None = None, **kwargs: Any
    ) -> ApiResponse:
        """Route, authorize and invoke; ``function`` (optional) must be the route's function."""
        match = route_for(method, path, unrouted_to=self.unrouted_to)
        if function is not None and function != match.function:
            raise UnknownRoute(
                f"{method} {path} is served by functions/{match.function}, not {function}"
            )
        request = self.request(method, path, **kwargs)
        context_or_denial = self._authorize(request, match)
        if isinstance(context_or_denial, ApiResponse):
            return context_or_denial
        event = self._event(request, match, context_or_denial)
        return invoke(match.function, event, module=self.modules.get(match.function))

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("DELETE", path, **kwargs)

    # -- steps ------------------------------------------------------------------------------
    def _authorize(
        self, request: HttpRequest, match: RouteMatch
    ) -> dict[str, Any] | ApiResponse | None:
        """The authorizer context for the handler, or the gateway's denial."""
        if match.route.authorizer is None:
            return None  # a public route: API Gateway passes no authorizer context
        if self.caller.authorizer_context is not None:
            return dict(self.caller.authorizer_context)
        if self.caller.token is None:
            return _gateway_denial(401, "Unauthorized")
        spec = template_model().authorizers[match.route.api][match.route.authorizer]
        assert spec.function is not None
        event = authorizer_event(
            request,
            route_key=match.route_key,
            identity_headers=spec.identity_headers,
            path_parameters=match.path_parameters,
        )
        authorizer = template_model().functions[spec.function].code_dir.name
        result = load_function(authorizer).lambda_handler(event, context(authorizer))
        if result.get("isAuthorized") is not True:
            return _gateway_denial(403, "Forbidden")
        return dict(result.get("context") or {})

    def _event(
        self, request: HttpRequest, match: RouteMatch, authorizer_context: dict[str, Any] | None
    ) -> dict[str, Any]:
        return http_event(
            request,
            route_key=match.route_key,
            path_parameters=match.path_parameters,
            authorizer_context=authorizer_context,
        )


def invoke(
    function: str, event: dict[str, Any], *, module: ModuleType | None = None
) -> ApiResponse:
    """Run ``functions/<function>/app.py: lambda_handler`` with an API Gateway event."""
    handler = (module or load_function(function)).lambda_handler
    result = handler(event, context(function))
    return ApiResponse(
        status=result["statusCode"],
        headers=result.get("headers") or {},
        body=result.get("body") or "",
        is_base64=bool(result.get("isBase64Encoded")),
    )


def webhook_event(path: str, body: str | bytes, headers: list[tuple[str, str]]) -> dict[str, Any]:
    """A provider's POST to a public webhook route, as API Gateway passes it on."""
    return Api(user_agent=None).event("POST", path, raw_body=body, headers=headers)
