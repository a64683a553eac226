"""Fixtures for the accounts tests: JWT keys, SES in moto, an API client, frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.accounts import SENDER
from tests.support.lambda_handlers import ApiClient


@pytest.fixture(scope="session")
def jwt_keys() -> tuple[str, str]:
    from ecomvideo.security.jwt import generate_keypair

    return generate_keypair()


@pytest.fixture
def auth_env(db, jwt_keys, monkeypatch) -> Iterator[None]:
    """Signing key for the auth function, public key for the authorizer, SES sender."""
    from ecomvideo.security import jwt
    from ecomvideo.services import system_settings
    from ecomvideo.settings import reset_settings

    private, public = jwt_keys
    monkeypatch.setenv("JWT_PRIVATE_KEY", private)
    monkeypatch.setenv("JWT_PUBLIC_KEY", public)
    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    monkeypatch.setenv("FRONTEND_URL", "https://app.ecomvideo.test")
    reset_settings()
    jwt.reset_key_cache()
    system_settings.clear_cache()
    yield
    reset_settings()
    jwt.reset_key_cache()


@pytest.fixture
def mailbox(aws, auth_env) -> Iterator[Any]:
    """moto SES with a verified sender; yields a function returning the sent messages once the
    job queue's worker ran (account mails leave through ``auth.email`` jobs)."""
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from ecomvideo.clients.email import EmailClient, set_email_client

    ses = boto3.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress=SENDER)
    set_email_client(EmailClient(SENDER, ses))
    from ecomvideo.services import auth_mail, jobs

    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]

    def delivered() -> list[Any]:
        jobs.work(job_types=[auth_mail.JOB_TYPE])
        return list(backend.sent_messages)

    yield delivered
    set_email_client(None)


@pytest.fixture
def api(mailbox) -> ApiClient:
    return ApiClient()


@pytest.fixture
def frozen_clock() -> Iterator[Any]:
    from datetime import UTC, datetime

    from ecomvideo import clock

    # Frozen at the real "now": the authorizer checks exp/iat against the real clock.
    clock.freeze(datetime.now(UTC))
    yield clock
    clock.unfreeze()
