"""The one resolver setup every HTTP function uses.

``create_app()`` returns a Powertools ``APIGatewayHttpResolver`` with pydantic validation (the
OpenAPI source), CORS, a request body size limit, and exception handlers that turn every error
into an RFC 9457 problem+json response: bad input is a 4xx, never a 500 or a stack trace.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.shared.json_encoder import Encoder

from ecomvideo.errors import AppError, field_error
from ecomvideo.http.problems import PROBLEM_CONTENT_TYPE, from_app_error, problem, validation_errors
from ecomvideo.observability import logger
from ecomvideo.settings import get_settings

ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"]
# Response headers a browser may read; template.yaml's HTTP API CorsConfiguration (which
# replaces the resolver's CORS on AWS) lists the same (tests/unit/test_api_contract.py).
EXPOSE_HEADERS = [
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Link",
    "Location",
]


F = TypeVar("F", bound=Callable[..., Any])
_RULE_PARAMETER = re.compile(r"<\w+>")


@dataclass(frozen=True)
class RouteInfo:
    """One registered route, kept by ``Api`` itself (Powertools' route tables are private)."""

    method: str
    rule: str  # Powertools' form: /v1/videos/<video_id>
    pattern: re.Pattern[str]
    func: Callable[..., Any]

    @property
    def dynamic(self) -> bool:
        return "<" in self.rule


def _rule_pattern(rule: str) -> re.Pattern[str]:
    """The rule as a regex: each ``<name>`` is one non-empty path segment."""
    parts = _RULE_PARAMETER.split(rule)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


class Api(APIGatewayHttpResolver):
    """Resolver that refuses oversized bodies before anything parses them, and keeps its own
    table of the routes registered on it (``routes``, ``matched_route``, ``allowed_methods``)
    and its response serializer (``response_serializer``)."""

    def __init__(self, *, serializer: Callable[[Any], str] | None = None, **kwargs: Any):
        self.response_serializer: Callable[[Any], str] = serializer or partial(
            json.dumps, separators=(",", ":"), cls=Encoder
        )
        self.routes: list[RouteInfo] = []
        super().__init__(serializer=self.response_serializer, **kwargs)

    def route(
        self, rule: str, method: str | list[str] | tuple[str], *args: Any, **kwargs: Any
    ) -> Callable[[F], F]:
        register = super().route(rule, method, *args, **kwargs)
        methods = (method,) if isinstance(method, str) else tuple(method)

        def record(func: F) -> F:
            pattern = _rule_pattern(rule)
            self.routes.extend(RouteInfo(m.upper(), rule, pattern, func) for m in methods)
            # Powertools tries static rules before dynamic ones, each in registration order.
            self.routes.sort(key=lambda r: r.dynamic)
            return register(func)

        return record

    def matched_route(self, method: str, path: str) -> RouteInfo | None:
        """The route a request for ``method path`` runs (None: no route matches)."""
        method = method.upper()
        for route in self.routes:
            if route.method == method and route.pattern.match(path):
                return route
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route accepts on ``path`` (the 405 answer's ``Allow``)."""
        return sorted({route.method for route in self.routes if route.pattern.match(path)})

    def current_route(self) -> RouteInfo | None:
        """The route of the request being resolved."""
        event = self.current_event
        return self.matched_route(event.http_method, event.path)

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        refused = staff_gate(event)
        if refused is not None:
            return refused
        limit = get_settings().max_body_bytes
        body = event.get("body") or ""
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body)
        if size > limit:
            return problem_event_response(
                413,
                "Payload Too Large",
                f"The request body is larger than {limit} bytes.",
                slug="payload-too-large",
            )
        if body and event.get("isBase64Encoded") and not _utf8(body):
            # API Gateway base64-encodes bodies that are not text; JSON must be UTF-8 text.
            return problem_event_response(
                400, "Malformed JSON", "The request body is not valid JSON.", slug="malformed-json"
            )
        if _has_nul(event):
            # PostgreSQL text and JSONB cannot hold U+0000: refuse it here, for every field at
            # once, instead of a DataError (500) at the INSERT.
            return problem_event_response(
                422,
                "Validation failed",
                "Text may not contain the NUL character (U+0000).",
                slug="validation-error",
                extra={"errors": [field_error("/", "contains U+0000", "nul_character")]},
            )
        if body and not _is_json(str((event.get("headers") or {}).get("content-type") or "")):
            # The API speaks JSON only; Powertools would otherwise parse form and multipart
            # bodies (and raise a bare ValueError, a 500, for a multipart without boundary).
            return problem_event_response(
                415,
                "Unsupported Media Type",
                "Send the request body as application/json.",
                slug="unsupported-media-type",
            )
        hostile = hostile_json_response(event)
        if hostile is not None:
            return hostile
        return super().resolve(event, context)


def hostile_json_response(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """400/413 problem for a body that breaks ``http.json_limits`` (depth, number length,
    string/array/object sizes), checked before pydantic or a handler parses it."""
    from ecomvideo.http import json_limits

    if not event.get("body"):
        return None
    found = json_limits.violation(raw_body(event))
    if found is None:
        return None
    return problem_event_response(found.status, found.title, found.detail, slug=found.slug)


# \u0000 in JSON text, unless its backslash is itself escaped ("\\u0000" is six characters).
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def _has_nul(event: Mapping[str, Any]) -> bool:
    """A NUL in the body (raw or JSON-escaped), the query string or the path (%00)."""
    body = event.get("body") or ""
    if body and event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body).decode("utf-8")
        except ValueError:
            return False  # not UTF-8: refused as malformed JSON afterwards
    if "\x00" in body or _JSON_NUL.search(body):
        return True
    url = f"{event.get('rawPath') or ''}?{event.get('rawQueryString') or ''}"
    return "%00" in url or "\x00" in url


def _utf8(base64_body: str) -> bool:
    try:
        base64.b64decode(base64_body).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are both ValueErrors
        return False
    return True


def _is_json(content_type: str) -> bool:
    """No header (Powertools reads JSON then) or ``application/json`` (any parameters)."""
    return content_type.split(";", 1)[0].strip().lower() in ("", "application/json")


class SecureApi(Api):
    """``Api`` whose every response carries the security headers (``add_security_headers``)."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return add_security_headers(event, super().resolve(event, context))


STAFF_ROLES = frozenset({"Admin", "Moderator", "Support"})
# Who may call each area of /v1/admin (longest prefix wins). The handlers check the same roles
# again; this table lets the gate answer 403 before the body or the query is validated, so a
# role without access never sees a route's schema in a 422. A test walks every /v1/admin route
# of template.yaml against it (an area missing here falls back to STAFF_ROLES).
ADMIN_AREAS: dict[str, frozenset[str]] = {
    "/v1/admin/users": frozenset({"Admin"}),
    "/v1/admin/settings": frozenset({"Admin"}),
    "/v1/admin/plans": frozenset({"Admin"}),
    "/v1/admin/stripe-prices": frozenset({"Admin"}),
    "/v1/admin/billing": frozenset({"Admin"}),
    "/v1/admin/templates": frozenset({"Admin", "Moderator"}),
    "/v1/admin/video-categories": frozenset({"Admin", "Moderator"}),
    "/v1/admin/tags": frozenset({"Admin", "Moderator"}),
    "/v1/admin/scraping-rules": frozenset({"Admin", "Moderator"}),
    "/v1/admin/analytics": frozenset({"Admin", "Support"}),
}


def admin_roles(path: str) -> frozenset[str] | None:
    """The roles allowed on ``path`` when it is under /v1/admin, else None."""
    if not (path == "/v1/admin" or path.startswith("/v1/admin/")):
        return None
    areas = [a for a in ADMIN_AREAS if path == a or path.startswith(a + "/")]
    return ADMIN_AREAS[max(areas, key=len)] if areas else STAFF_ROLES


def staff_gate(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """401/403 for ``/v1/admin/...`` when the caller holds none of the area's roles
    (``ADMIN_AREAS``), before the body or the query is validated: a caller without access
    learns nothing about the route's schema from a 422."""
    allowed = admin_roles(str(event.get("rawPath") or ""))
    if allowed is None:
        return None
    context = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    roles = {r for r in str(context.get("roles") or "").split(",") if r}
    if roles & allowed:
        return None
    if not context.get("userId"):
        return problem_event_response(
            401, "Unauthorized", "Sign in to use this endpoint.", slug="unauthorized"
        )
    return problem_event_response(
        403, "Forbidden", "Your role does not allow this action.", slug="forbidden"
    )


SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
}


def add_security_headers(event: Mapping[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """HSTS and nosniff on every response; ``Cache-Control: no-store`` on every response to an
    authenticated request (an authorizer context or an Authorization header), so no browser or
    proxy cache keeps a private answer."""
    headers = response.setdefault("headers", {}) or {}
    response["headers"] = headers
    present = {name.lower() for name in headers}
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            headers[name] = value
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    request_headers = {str(k).lower() for k in (event.get("headers") or {})}
    if authorizer or "authorization" in request_headers:
        for name in [n for n in headers if n.lower() == "cache-control"]:
            del headers[name]
        headers["Cache-Control"] = "no-store"
    return response


def problem_event_response(
    status: int, title: str, detail: str, *, slug: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A problem+json response already in API Gateway's payload format 2.0 shape."""
    response = problem(status, title, detail, slug=slug, extra=extra)
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE},
        "body": response.body,
        "isBase64Encoded": False,
    }


def create_app(*, usage_and_limits: bool = True) -> Api:
    """The resolver; ``usage_and_limits=False`` leaves out the api_usage log and rate limits
    (only for measuring their cost)."""
    settings = get_settings()
    api_class: type[Api] = SecureApi
    if usage_and_limits:
        from ecomvideo.http.usage import SecureAccountedApi as api_class
    app = api_class(
        enable_validation=True,
        cors=CORSConfig(
            allow_origin=settings.cors_allow_origin,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSE_HEADERS,
            max_age=600,
        ),
    )
    register_error_handlers(app)
    register_account_gone_handler(app)
    from ecomvideo.http.pagination import link_next_middleware

    app.use([link_next_middleware])
    from ecomvideo import snapstart

    snapstart.register()  # no-op outside Lambda
    if usage_and_limits:
        # Order matters: the usage log wraps the limiter, so it records rate_limit_hit.
        from ecomvideo.http.ratelimit import rate_limit_middleware
        from ecomvideo.http.usage import usage_middleware

        app.use([usage_middleware, rate_limit_middleware])
    return app


def register_error_handlers(app: Api) -> None:
    @app.exception_handler(AppError)
    def _app_error(exc: AppError) -> Response:
        if exc.status >= 500:
            logger.warning("request failed", extra={"error": exc.slug, "status": exc.status})
        return from_app_error(exc, instance=app.current_event.path)

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        kinds = {err.get("type") for err in errors}
        path = app.current_event.path
        if "json_invalid" in kinds:
            return problem(
                400,
                "Malformed JSON",
                "The request body is not valid JSON.",
                slug="malformed-json",
                instance=path,
            )
        if "unsupported_content_type" in kinds:
            return problem(
                415,
                "Unsupported Media Type",
                "Send the request body as application/json.",
                slug="unsupported-media-type",
                instance=path,
            )
        return problem(
            422,
            "Validation failed",
            "The request has invalid or missing fields; see errors.",
            slug="validation-error",
            instance=path,
            extra={"errors": validation_errors(errors)},
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media_type(exc: RequestUnsupportedContentType) -> Response:
        # Powertools raises this (not a RequestValidationError) for a body sent as e.g.
        # text/plain; without this handler it fell through to the 500 below.
        return problem(
            415,
            "Unsupported Media Type",
            "Send the request body as application/json.",
            slug="unsupported-media-type",
            instance=app.current_event.path,
        )

    @app.exception_handler(NotFoundError)
    def _not_found(exc: NotFoundError) -> Response:
        path = app.current_event.path
        allowed = app.allowed_methods(path)
        # The request's own method among them: Powertools did not match the path after all.
        if allowed and app.current_event.http_method.upper() not in allowed:
            return problem(
                405,
                "Method Not Allowed",
                f"{app.current_event.http_method} is not allowed here.",
                slug="method-not-allowed",
                instance=path,
                headers={"Allow": ", ".join(allowed)},
            )
        return problem(404, "Not Found", "No such resource.", slug="not-found", instance=path)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return internal_error(app.current_event.path)


def register_account_gone_handler(app: APIGatewayHttpResolver) -> None:
    """A write that references a user row which no longer exists -> 401, not 500.

    The authorizer refuses a deleted account's tokens once its cache expires (at most 60 s);
    inside that window the request reaches the handler, and its first write that points at
    ``users`` fails with a foreign-key violation. That is the caller's account being gone,
    not a server error.
    """
    from sqlalchemy.exc import IntegrityError

    @app.exception_handler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Response:
        diag = getattr(getattr(exc, "orig", None), "diag", None)
        constraint = str(getattr(diag, "constraint_name", "") or "")
        sqlstate = str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")
        if sqlstate == "23503" and constraint.endswith("_users"):
            return problem(
                401,
                "Unauthorized",
                "This account no longer exists.",
                slug="unauthorized",
                instance=app.current_event.path,
            )
        logger.exception("unhandled integrity error")
        return internal_error(app.current_event.path)


def internal_error(path: str) -> Response:
    return problem(
        500,
        "Internal Server Error",
        "Something went wrong on our side; it has been logged.",
        slug="internal-error",
        instance=path,
    )


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes the caller sent (API Gateway may have base64-encoded them)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(payload, default=str),
        headers=headers or {},
    )
