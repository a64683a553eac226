"""One OpenAPI 3.1 document for the whole API, merged from every function's resolver.

Each HTTP function is a Powertools ``APIGatewayHttpResolver`` whose pydantic models already
describe its routes; this merges their ``get_openapi_schema()`` output for exactly the routes
``template.yaml`` declares, marks public routes (``Auth: {Authorizer: NONE}``) with
``security: []`` and adds the problem+json error responses every route can give.

    python -m tools.openapi > docs/openapi.json     (a test checks the file is current)
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from devserver.app_model import build_model

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM_REF = {"$ref": "#/components/responses/Problem"}
COMMON_ERRORS = {
    "400": "Malformed request",
    "413": "Body too large",
    "422": "Validation failed (field errors)",
    "429": "Rate limited",
}
AUTH_ERRORS = {"401": "Missing or invalid access token", "403": "Not allowed for your role"}
# Public routes answer 401 too: wrong password, invalid refresh token, bad webhook signature.
PUBLIC_ERRORS = {"401": "Invalid credentials, token or signature"}
# Also without a path id: an unknown plan, pack, category or subscription named in the request.
NOT_FOUND = {"404": "Not found (or not yours)"}
BODY_ERRORS = {"415": "Send application/json"}
WRITE_ERRORS = {"409": "Conflicts with the current state (duplicate, wrong status)"}
# Authenticated writes may spend credits (InsufficientCredits, PaymentRequired).
PAYMENT_ERRORS = {"402": "Not enough credits (balance and cost in the problem)"}
# The path exists but not with this method (the local stack and Powertools both answer so).
METHOD_ERRORS = {"405": "Method not allowed on this path (see Allow)"}


LOCATION = {
    "description": "The created resource, or the resource to poll for accepted work",
    "schema": {"type": "string", "format": "uri-reference"},
}
LINK_NEXT = {
    "description": 'RFC 8288 `<...&cursor=...>; rel="next"` when there is a next page',
    "schema": {"type": "string"},
}
# The rate limiter's headers (the legacy IETF draft trio, on every answer of a resolver route)
# and Retry-After (429 always, 503 where the wait is known): components.headers.
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests allowed in the tightest current window",
    "RateLimit-Remaining": "Requests left in that window",
    "RateLimit-Reset": "Seconds until that window resets",
}
RETRY_AFTER = "Seconds to wait before retrying"
# Component schema refs with a ``next_cursor`` property (filled in by build()).
_PAGED_REFS: set[str] = set()


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", re.sub(r"<[^>]+>", "{}", path))


def _load(function_file: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"openapi_{name}", function_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build() -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EcomVideo")
    model = build_model(ROOT / "template.yaml")
    routes: dict[str, list[Any]] = {}
    for route in model.routes:
        routes.setdefault(route.function, []).append(route)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "EcomVideo AI API",
            "version": "0.1.0",
            "description": (
                "Product URL, image or prompt in; short vertical marketing video out. Errors are "
                "RFC 9457 problem+json. See docs/api.md."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "make dev"}],
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "headers": {
                **{
                    name: {"description": text, "schema": {"type": "integer", "minimum": 0}}
                    for name, text in RATE_LIMIT_HEADERS.items()
                },
                "Retry-After": {
                    "description": RETRY_AFTER,
                    "schema": {"type": "integer", "minimum": 0},
                },
            },
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
                # The same body, with the headers that tell the client when to come back.
                "RateLimited": {
                    "description": "Rate limited (problem details)",
                    "headers": {
                        "Retry-After": _header_ref("Retry-After"),
                        **{name: _header_ref(name) for name in RATE_LIMIT_HEADERS},
                    },
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
                "Unavailable": {
                    "description": "Unavailable for now (problem details)",
                    "headers": {"Retry-After": _header_ref("Retry-After")},
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
            },
        },
        "security": [{"bearerAuth": []}],
    }
    document["components"]["schemas"]["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        },
    }
    document["components"]["schemas"]["FieldError"] = {
        "type": "object",
        "description": "One invalid field (ecomvideo.errors.field_error)",
        "required": ["pointer", "detail", "code"],
        "properties": {
            "pointer": {
                "type": "string",
                "description": "RFC 6901 JSON pointer into the body, or the parameter's name",
            },
            "detail": {"type": "string"},
            "code": {"type": "string"},
        },
    }
    for function, function_routes in sorted(routes.items()):
        spec = model.functions[function]
        module = _load(spec.module_file, function)
        app = getattr(module, "app", None)
        if app is None or not hasattr(app, "get_openapi_schema"):
            _add_plain_routes(document, function_routes)
            continue
        schema = app.get_openapi_schema().model_dump(by_alias=True, exclude_none=True, mode="json")
        document["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
        _PAGED_REFS.update(
            f"#/components/schemas/{name}"
            for name, component in document["components"]["schemas"].items()
            if "next_cursor" in (component.get("properties") or {})
        )
        generated = {_norm(p): item for p, item in schema.get("paths", {}).items()}
        docstrings = _route_docstrings(app)
        for route in function_routes:
            item = generated.get(_norm(route.path), {})
            operation = item.get(route.method.lower())
            if operation is None:
                operation = {"summary": f"{route.method} {route.path}", "responses": {}}
            summary = docstrings.get((route.method, _norm(route.path)))
            if summary:
                operation["summary"] = summary
            _rename_path_parameters(operation, route.path)
            _decorate(operation, route)
            document["paths"].setdefault(route.path, {})[route.method.lower()] = operation
    document["paths"] = dict(sorted(document["paths"].items()))
    # Powertools' default 422 body ({loc, msg, type}) is never sent: every 4xx is a Problem.
    for unused in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        document["components"]["schemas"].pop(unused, None)
    return document


def _route_docstrings(app: Any) -> dict[tuple[str, str], str]:
    """(METHOD, normalised path) -> the route function's summary (docstring line or name)."""
    found: dict[tuple[str, str], str] = {}
    for route in list(app._static_routes) + list(app._dynamic_routes):
        func = getattr(route, "func", None)
        if func is None:
            continue
        doc = (func.__doc__ or "").strip().splitlines()
        summary = doc[0].strip().rstrip(".") if doc else func.__name__.replace("_", " ").strip()
        found[(route.method, _norm(route.path))] = summary[:1].upper() + summary[1:]
    return found


def _rename_path_parameters(operation: dict[str, Any], template_path: str) -> None:
    """Use the template's parameter names: the handler may call ``{id}`` ``{webhook_id}``."""
    names = re.findall(r"\{([^}]+)\}", template_path)
    path_params = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
    for param, name in zip(path_params, names, strict=False):
        param["name"] = name


def _add_plain_routes(document: dict[str, Any], routes: list[Any]) -> None:
    """Handlers without a resolver (webhooks): documented by hand, raw body in, JSON out."""
    received = {
        "type": "object",
        "required": ["received", "outcome"],
        "properties": {"received": {"type": "boolean"}, "outcome": {"type": "string"}},
    }
    for route in routes:
        operation = {
            "summary": f"{route.method} {route.path}",
            "description": "Provider webhook: the signature on the raw body is the credential. "
            "Errors are problem+json; a 5xx asks the provider to retry.",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": {
                    "description": "Accepted (also for unknown events and redeliveries)",
                    "content": {"application/json": {"schema": received}},
                }
            },
        }
        _decorate(operation, route, limited=False)
        if "stripe" in route.path:
            operation["responses"]["500"] = {
                **PROBLEM_REF,
                "description": "Processing failed: Stripe retries the event",
            }
            operation["responses"]["503"] = {
                **PROBLEM_REF,
                "description": "No webhook secret configured: Stripe retries the event",
            }
        document["paths"].setdefault(route.path, {})[route.method.lower()] = operation


def _decorate(operation: dict[str, Any], route: Any, *, limited: bool = True) -> None:
    """``limited``: the route runs behind the resolver's rate limiter (RateLimit-* headers)."""
    operation["operationId"] = f"{route.function}.{route.method.lower()}.{_norm(route.path)}"
    operation.setdefault("summary", f"{route.method} {route.path}")
    responses = operation.setdefault("responses", {})
    if not any(code.startswith("2") for code in responses):
        # Routes outside a resolver's schema (e.g. the local dev mailbox): JSON, undescribed.
        responses["200"] = {"description": "OK", "content": {"application/json": {"schema": {}}}}
    errors = {**COMMON_ERRORS, **METHOD_ERRORS}
    if route.authorizer is None:
        operation["security"] = []
        errors.update(PUBLIC_ERRORS)
    else:
        errors.update(AUTH_ERRORS)
    errors.update(NOT_FOUND)
    if route.method in ("POST", "PUT", "PATCH"):
        errors.update(BODY_ERRORS)
    if route.method != "GET":
        errors.update(WRITE_ERRORS)
        if route.authorizer is not None:
            errors.update(PAYMENT_ERRORS)
    for code, response in responses.items():
        if code == "204":
            response.pop("content", None)  # 204 has no body (Powertools documents a JSON null)
        if code in ("201", "202") and not operation.get("x-no-location"):
            response.setdefault("headers", {})["Location"] = LOCATION
        if code == "200" and _pages(response):
            response.setdefault("headers", {})["Link"] = LINK_NEXT
    if _has_csv_format(operation) and "200" in responses:
        responses["200"].setdefault("content", {})["text/csv"] = {"schema": {"type": "string"}}
    for code, description in errors.items():
        # Our validation errors are problem+json, not Powertools' default HTTPValidationError.
        responses[code] = {**PROBLEM_REF, "description": description}
    for code, name in (("429", "RateLimited"), ("503", "Unavailable")):
        if code in responses:
            responses[code]["$ref"] = f"#/components/responses/{name}"
    if limited:
        for code, response in responses.items():
            if code.startswith("2"):
                headers = response.setdefault("headers", {})
                headers.update({name: _header_ref(name) for name in RATE_LIMIT_HEADERS})


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _pages(response: dict[str, Any]) -> bool:
    """A cursor page: the JSON body's schema has ``next_cursor`` (checked on the ref name)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "") in _PAGED_REFS


def _has_csv_format(operation: dict[str, Any]) -> bool:
    """A ``format`` query parameter that offers ``csv`` (analytics exports)."""
    for param in operation.get("parameters", []):
        if param.get("in") == "query" and param.get("name") == "format":
            return "csv" in json.dumps(param.get("schema", {}))
    return False


def main() -> int:
    sys.stdout.write(json.dumps(build(), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
