"""Shared fixtures for the sharing, analytics and rate-limit tests (issue 9)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ecomvideo.enums import VideoStatus
from tests.support.api import Api, load_function, route_for, with_token
from tests.support.factories import assign_roles, make_user, make_video
from tests.support.lambda_handlers import ApiClient

VIDEO_URL = "s3://ecomvideo-videos-local/videos/demo/video.mp4"
BROWSER_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(scope="session")
def jwt_keys() -> tuple[str, str]:
    from ecomvideo.security.jwt import generate_keypair

    return generate_keypair()


@pytest.fixture
def jwt_env(jwt_keys, monkeypatch) -> Iterator[None]:
    """Keys for issuing tokens in tests and for the authorizer to verify them."""
    from ecomvideo.security import jwt
    from ecomvideo.services import system_settings
    from ecomvideo.settings import reset_settings

    private, public = jwt_keys
    monkeypatch.setenv("JWT_PRIVATE_KEY", private)
    monkeypatch.setenv("JWT_PUBLIC_KEY", public)
    monkeypatch.setenv("FRONTEND_URL", "https://app.ecomvideo.test")
    reset_settings()
    jwt.reset_key_cache()
    system_settings.clear_cache()
    yield
    reset_settings()
    jwt.reset_key_cache()
    system_settings.clear_cache()


def token_for(user_id: uuid.UUID, *roles: str) -> str:
    """An access token for the user; ``roles`` are also given in the database, where the
    authorizer reads them."""
    from ecomvideo.security.jwt import issue_access_token

    assign_roles(user_id, roles)
    return issue_access_token(user_id, list(roles) or ["User"]).token


def completed_video(session: Session, user: Any | None = None, **overrides: Any) -> Any:
    owner = user or make_user(session)
    data: dict[str, Any] = {"status": VideoStatus.COMPLETED, "video_url": VIDEO_URL}
    data.update(overrides)
    return make_video(session, owner, **data)


def api(user_agent: str = BROWSER_UA, source_ip: str = "198.51.100.77") -> ApiClient:
    return ApiClient(source_ip=source_ip, user_agent=user_agent)


def fresh_handler(function: str) -> Any:
    """A private copy of ``functions/<function>/app.py`` (its own resolver, so the middleware
    stacks ``create_app()`` installs are built anew, with the test's settings)."""
    return load_function(function, fresh=True)


def call(
    module: Any,
    method: str,
    path: str,
    *,
    token: str | None = None,
    unrouted_to: str | None = None,
    **kw: Any,
) -> Any:
    """Run a request through the authorizer and ``module``'s handler (a ``fresh_handler``
    copy of the route's function); ``unrouted_to`` names that function for a path the
    template does not route."""
    client = api()
    function = route_for(method, path, unrouted_to=unrouted_to).function
    gateway = Api(
        with_token(token),
        source_ip=client.source_ip,
        user_agent=client.user_agent,
        modules={function: module},
        unrouted_to=unrouted_to,
    )
    return gateway.call(method, path, query=kw.get("query", ""))
