"""Request and response models of /v1/auth/*."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ecomvideo.schemas.fields import Email, Locale, Name, Password, Timezone, Token


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterRequest(_Request):
    email: Email
    password: Password = Field(repr=False, description="At least 10 characters.")
    first_name: Name | None = None
    last_name: Name | None = None
    timezone: Timezone = "UTC"
    locale: Locale = "en-US"


class LoginRequest(_Request):
    email: Email
    password: Password = Field(repr=False)


class RefreshRequest(_Request):
    refresh_token: Token = Field(repr=False)


class LogoutRequest(_Request):
    refresh_token: Token = Field(repr=False)


class VerifyEmailRequest(_Request):
    token: Token = Field(repr=False)


class EmailRequest(_Request):
    """Resend-verification and forgot-password: only an email."""

    email: Email


class ResetPasswordRequest(_Request):
    token: Token = Field(repr=False)
    new_password: Password = Field(repr=False)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")


class RegisteredResponse(BaseModel):
    id: str
    email: str
    email_verified: bool


class MessageResponse(BaseModel):
    message: str
