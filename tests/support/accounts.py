"""Helpers for the accounts tests: register, log in, read links from sent mails."""

from __future__ import annotations

import re
from typing import Any

from tests.support.lambda_handlers import ApiClient, ApiResponse

SENDER = "no-reply@ecomvideo.test"
PASSWORD = "correct horse battery staple"


def link_token(message: Any) -> str:
    """The ``token`` query parameter of the link in a sent message's text body (an opaque
    secret, or a signed JWT with dots)."""
    text = message.body if isinstance(message.body, str) else str(message.body)
    match = re.search(r"token=([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)", text)
    assert match, "no link with a token in the message"
    return match.group(1)


def register(api: ApiClient, email: str, password: str = PASSWORD, **extra: Any) -> ApiResponse:
    body = {"email": email, "password": password, "first_name": "Ada", **extra}
    return api.call("auth", "POST", "/v1/auth/register", body)


def login(api: ApiClient, email: str, password: str = PASSWORD) -> ApiResponse:
    return api.call("auth", "POST", "/v1/auth/login", {"email": email, "password": password})


def signed_in(api: ApiClient, session: Any, email: str, *roles: Any) -> tuple[Any, dict[str, Any]]:
    """Register ``email``, give it ``roles`` (UserRole) in the database, log in: (user, tokens)."""
    from sqlalchemy import select

    from ecomvideo.models import User, UserRoleAssignment

    register(api, email)
    user = session.scalars(select(User).where(User.email == email)).one()
    for role in roles:
        session.add(UserRoleAssignment(user_id=user.id, role_name=role))
    session.flush()
    return user, login(api, email).json()
