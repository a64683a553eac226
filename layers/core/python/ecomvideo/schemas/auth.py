"""Request and response models of /v1/auth/*."""

from pydantic import ConfigDict, Field

from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.docs import examples as _examples
from ecomvideo.schemas.fields import Email, Locale, Name, Password, Timezone, Token


class _Request(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterRequest(_Request):
    model_config = _examples(
        {
            "email": "maria@lumen-lamps.example.com",
            "password": "Brass-Arc-Lamp-2026",
            "first_name": "Maria",
            "last_name": "Keller",
            "timezone": "Europe/Berlin",
            "locale": "de-DE",
        }
    )

    email: Email
    password: Password = Field(repr=False, description="At least 10 characters.")
    first_name: Name | None = None
    last_name: Name | None = None
    timezone: Timezone = "UTC"
    locale: Locale = "en-US"


class LoginRequest(_Request):
    model_config = _examples(
        {"email": "maria@lumen-lamps.example.com", "password": "Brass-Arc-Lamp-2026"}
    )

    email: Email
    password: Password = Field(repr=False)


_REFRESH_EXAMPLE = "rt_Jb3xQm8vT2kLw9ZpR4nY7cFh1sDg6uEa"


class RefreshRequest(_Request):
    model_config = _examples({"refresh_token": _REFRESH_EXAMPLE})

    refresh_token: Token = Field(repr=False)


class LogoutRequest(_Request):
    model_config = _examples({"refresh_token": _REFRESH_EXAMPLE})

    refresh_token: Token = Field(repr=False)


class VerifyEmailRequest(_Request):
    model_config = _examples({"token": "ev_5TqNw2XbK8mLr0PzV3yH6dJc9sGf4Ua1"})

    token: Token = Field(repr=False)


class EmailRequest(_Request):
    """Resend-verification and forgot-password: only an email."""

    model_config = _examples({"email": "maria@lumen-lamps.example.com"})

    email: Email


class ResetPasswordRequest(_Request):
    model_config = _examples(
        {"token": "pr_8HkVz1NqW4cTm7RbY2xL5gJd0sPf3Ea9", "new_password": "Walnut-Desk-Lamp-77"}
    )

    token: Token = Field(repr=False)
    new_password: Password = Field(repr=False)


class TokenResponse(Schema):
    model_config = _examples(
        {
            "access_token": (
                "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0."
                "eyJzdWIiOiI3YzFlNGIyYS0wZDNmLTRhNmItOWU4Yy0xZjJhM2I0YzVkNmUiLCJyb2xlcyI6WyJVc2VyIl19."
                "c2lnbmF0dXJl"
            ),
            "token_type": "Bearer",
            "expires_in": 900,
            "refresh_token": _REFRESH_EXAMPLE,
            "refresh_expires_in": 2592000,
        }
    )

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")


class UnlockRequest(_Request):
    """The signed token from the "account locked" mail's unlock link."""

    model_config = _examples(
        {"token": "eyJhbGciOiJFZERTQSIsImtpZCI6IjFhMmIzYzRkNWU2ZjdhOGIifQ.eyJzdWIiOiIuLi4ifQ.c2ln"}
    )

    token: str = Field(min_length=20, max_length=1000, repr=False)


class MessageResponse(Schema):
    message: str
