"""/v1/auth/*: registration, email verification, password reset, login, refresh, logout.

Public routes (no authorizer) except ``logout-all``. Business rules live in
``ecomvideo.services.auth``; this file parses, calls, returns.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging.correlation_paths import API_GATEWAY_HTTP
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal
from ecomvideo.http.contract import ACCEPTED, no_location
from ecomvideo.observability import logger, tracer
from ecomvideo.schemas.auth import (
    EmailRequest,
    LoginRequest,
    LogoutRequest,
    MessageResponse,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenResponse,
    UnlockRequest,
    VerifyEmailRequest,
)
from ecomvideo.services import auth, auth_sessions
from ecomvideo.services.activity import RequestMeta
from ecomvideo.settings import get_settings

app = create_app()
NO_STORE = {"Cache-Control": "no-store"}


def _meta() -> RequestMeta:
    return RequestMeta.from_event(app.current_event.raw_event)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    # The resolver validates and serialises ``body`` against the route's return model.
    return Response(status, content_type="application/json", body=body, headers=headers)


def _tokens(pair: auth_sessions.TokenPair) -> Response[TokenResponse]:
    # Token responses must never be cached by a browser or proxy.
    return _json(200, TokenResponse(**asdict(pair)), NO_STORE)


@app.post(
    "/v1/auth/register",
    responses={202: {"description": "Accepted (the same answer for a new or a known email)"}},
    openapi_extensions=no_location("a mail is sent; the account is read at /v1/me after login"),
)
def register(body: RegisterRequest) -> Response[MessageResponse]:
    """Create an account and send the verification email; an address that already has an
    account gets the same answer and its owner a "you already have an account" mail."""
    message = auth.register(**body.model_dump(), request=_meta())
    return _json(202, MessageResponse(message=message))


@app.post("/v1/auth/verify-email")
def verify_email(body: VerifyEmailRequest) -> MessageResponse:
    """Confirm the email address with the token from the verification link."""
    auth.verify_email(body.token, request=_meta())
    return MessageResponse(message="Your email address is verified.")


@app.post(
    "/v1/auth/resend-verification",
    responses=ACCEPTED,
    openapi_extensions=no_location("a mail is sent; nothing to poll"),
)
def resend_verification(body: EmailRequest) -> Response[MessageResponse]:
    """Send a new verification link (same answer whether or not the account exists)."""
    message = auth.resend_verification(body.email, request=_meta())
    return _json(202, MessageResponse(message=message))


@app.post(
    "/v1/auth/forgot-password",
    responses=ACCEPTED,
    openapi_extensions=no_location("a mail is sent; nothing to poll"),
)
def forgot_password(body: EmailRequest) -> Response[MessageResponse]:
    """Send a password reset link (same answer whether or not the account exists)."""
    message = auth.forgot_password(body.email, request=_meta())
    return _json(202, MessageResponse(message=message))


@app.post("/v1/auth/reset-password")
def reset_password(body: ResetPasswordRequest) -> MessageResponse:
    """Set a new password with a reset token; signs out every session."""
    auth.reset_password(body.token, body.new_password, request=_meta())
    return MessageResponse(message="Your password has been changed. Please sign in.")


@app.post("/v1/auth/unlock")
def unlock(body: UnlockRequest) -> MessageResponse:
    """Lift an account lock with the one-click link from the "account locked" mail (once)."""
    auth.unlock_account(body.token, request=_meta())
    return MessageResponse(message="Your account is unlocked. You can sign in again.")


@app.post("/v1/auth/login")
def login(body: LoginRequest) -> Response[TokenResponse]:
    """Exchange email and password for an access token and a refresh token."""
    return _tokens(auth.login(body.email, body.password, request=_meta()))


@app.post("/v1/auth/refresh")
def refresh(body: RefreshRequest) -> Response[TokenResponse]:
    """Rotate the refresh token and get a new access token."""
    return _tokens(auth_sessions.refresh(body.refresh_token, request=_meta()))


@app.post("/v1/auth/logout", responses={204: {"description": "Signed out"}})
def logout(body: LogoutRequest) -> Response[None]:
    """Revoke this session's refresh token."""
    auth_sessions.logout(body.refresh_token, request=_meta())
    return Response(status_code=204)


@app.post("/v1/auth/logout-all", responses={204: {"description": "Signed out everywhere"}})
def logout_all() -> Response[None]:
    """Revoke every refresh token of the caller (requires the access token)."""
    auth_sessions.logout_all(current_principal(app).user_id, request=_meta())
    return Response(status_code=204)


if get_settings().stage == "local":
    # The local stack's inbox. Not registered in AWS, where the route answers 404.
    from ecomvideo.clients.email import get_email_client

    @app.get("/v1/dev/mails", include_in_schema=False)
    def dev_mails() -> Any:
        return _json(200, {"items": get_email_client().sent()}, NO_STORE)


@logger.inject_lambda_context(correlation_id_path=API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
