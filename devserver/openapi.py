"""One OpenAPI 3.1 document for the whole API, merged from every function's resolver.

Each HTTP function is a Powertools ``APIGatewayHttpResolver`` whose pydantic models already
describe its routes; this merges their ``get_openapi_schema()`` output for exactly the routes
``template.yaml`` declares, marks public routes (``Auth: {Authorizer: NONE}``) with
``security: []`` and adds the problem+json error responses every route can give.

    python -m devserver.openapi > docs/openapi.json     (a test checks the file is current)
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
BODY_ERRORS = {"415": "Send application/json"}


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
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
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
            "errors": {"type": "array", "items": {"type": "object"}},
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
        generated = {_norm(p): item for p, item in schema.get("paths", {}).items()}
        for route in function_routes:
            item = generated.get(_norm(route.path), {})
            operation = item.get(route.method.lower())
            if operation is None:
                operation = {"summary": f"{route.method} {route.path}", "responses": {}}
            _decorate(operation, route)
            document["paths"].setdefault(route.path, {})[route.method.lower()] = operation
    document["paths"] = dict(sorted(document["paths"].items()))
    return document


def _add_plain_routes(document: dict[str, Any], routes: list[Any]) -> None:
    """Handlers without a resolver (webhooks): documented by hand, raw body in, JSON out."""
    for route in routes:
        operation = {
            "summary": f"{route.method} {route.path}",
            "description": "Provider webhook: the signature on the raw body is the credential.",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "Accepted (also for unknown events)"}},
        }
        _decorate(operation, route)
        document["paths"].setdefault(route.path, {})[route.method.lower()] = operation


def _decorate(operation: dict[str, Any], route: Any) -> None:
    operation["operationId"] = f"{route.function}.{route.method.lower()}.{_norm(route.path)}"
    operation.setdefault("summary", f"{route.method} {route.path}")
    responses = operation.setdefault("responses", {})
    errors = dict(COMMON_ERRORS)
    if route.authorizer is None:
        operation["security"] = []
    else:
        errors.update(AUTH_ERRORS)
    if "{" in route.path:
        errors["404"] = "Not found (or not yours)"
    if route.method in ("POST", "PUT", "PATCH"):
        errors.update(BODY_ERRORS)
    for code, description in errors.items():
        # Our validation errors are problem+json, not Powertools' default HTTPValidationError.
        responses[code] = {**PROBLEM_REF, "description": description}


def main() -> int:
    sys.stdout.write(json.dumps(build(), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
