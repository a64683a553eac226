"""Domain exceptions. Services raise these; the shared resolver maps each to problem+json.

``detail`` is written for the API client: never pass ``str(exc)`` of a database or provider
error into it.
"""

from __future__ import annotations

from typing import Any

# RFC 9457 problem details: every error answer of the API (http/problems, webhooks/responses).
PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://docs.ecomvideo.ai/problems/"


# A provider account problem (our API key, our credits) in product words for the user; the
# vendor's details go to the logs only.
PROVIDER_ACCOUNT_PROBLEM = (
    "Video generation is temporarily unavailable on our side. No credits were used; please try"
    " again later."
)


class AppError(Exception):
    status: int = 500
    title: str = "Internal Server Error"
    slug: str = "internal-error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(AppError):
    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(AppError):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class PaymentRequired(AppError):
    status, title, slug = 402, "Payment Required", "payment-required"


class InsufficientCredits(PaymentRequired):
    title, slug = "Insufficient credits", "insufficient-credits"

    def __init__(self, *, balance: int, cost: int) -> None:
        super().__init__(
            f"This needs {cost} credits and your balance is {balance}.",
            extra={"balance": balance, "cost": cost},
        )


class PlanLimitExceeded(AppError):
    status, title, slug = 403, "Plan limit exceeded", "plan-limit"

    def __init__(self, detail: str, *, limit: str, allowed: Any, requested: Any) -> None:
        super().__init__(detail, extra={"limit": limit, "allowed": allowed, "requested": requested})


class Forbidden(AppError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(AppError):
    status, title, slug = 404, "Not Found", "not-found"


class MethodNotAllowed(AppError):
    status, title, slug = 405, "Method Not Allowed", "method-not-allowed"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class Gone(AppError):
    status, title, slug = 410, "Gone", "gone"


class PayloadTooLarge(AppError):
    status, title, slug = 413, "Payload Too Large", "payload-too-large"


class UnsupportedMediaType(AppError):
    status, title, slug = 415, "Unsupported Media Type", "unsupported-media-type"


def field_error(pointer: str, detail: str, code: str = "invalid") -> dict[str, str]:
    """One entry of a problem's ``errors[]``, the same shape for every 4xx with field errors.

    ``pointer`` is an RFC 6901 JSON pointer into the request body (``/variables/name``) or,
    for a query/path/header parameter, the parameter's name (``limit``, ``Idempotency-Key``).
    """
    return {"pointer": pointer, "detail": detail, "code": code}


class ValidationFailed(AppError):
    status, title, slug = 422, "Validation failed", "validation-error"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None) -> None:
        """``errors`` entries come from ``field_error()``."""
        super().__init__(detail, extra={"errors": errors or []})


def invalid_field(name: str, message: str) -> ValidationFailed:
    """A 422 about one body field: ``"<name>: <message>."`` with the pointer ``/<name>``."""
    return ValidationFailed(f"{name}: {message}.", errors=[field_error("/" + name, message)])


class Locked(AppError):
    status, title, slug = 423, "Locked", "locked"


class TooManyRequests(AppError):
    status, title, slug = 429, "Too Many Requests", "rate-limited"

    def __init__(self, detail: str, *, retry_after: int, headers: dict[str, str] | None = None):
        merged = {"Retry-After": str(retry_after), **(headers or {})}
        super().__init__(detail, extra={"retry_after": retry_after}, headers=merged)


class ProviderError(AppError):
    """An outside provider failed; the message is safe to show to the user."""

    status, title, slug = 502, "Bad Gateway", "provider-error"


class ServiceUnavailable(AppError):
    status, title, slug = 503, "Service Unavailable", "unavailable"
