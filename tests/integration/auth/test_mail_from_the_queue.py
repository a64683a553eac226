"""Account mails leave through the job queue: the Auth and Account functions never call SES
(their template grants no SES permission), the jobs worker sends what they enqueued."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ecomvideo.models import BackgroundJob
from ecomvideo.services import auth_mail
from tests.support.accounts import PASSWORD, register, signed_in
from tests.support.scheduled import invoke_scheduled


@pytest.fixture
def ses_calls(mailbox, monkeypatch) -> list[str]:
    """The recipient of each SES SendEmail call (the real moto call still happens)."""
    from ecomvideo.clients.email import get_email_client

    client = get_email_client()
    calls: list[str] = []
    real = client._ses.send_email

    def recording(**kwargs: Any) -> Any:
        calls.append(kwargs["Destination"]["ToAddresses"][0])
        return real(**kwargs)

    monkeypatch.setattr(client._ses, "send_email", recording)
    return calls


def test_auth_and_account_calls_enqueue_mail_and_only_the_jobs_worker_sends_it(
    api, session, ses_calls
):
    _user, tokens = signed_in(api, session, "queued@example.com")
    register(api, "queued@example.com")  # already registered: a mail to the owner
    api.call("auth", "POST", "/v1/auth/resend-verification", {"email": "queued@example.com"})
    api.call("auth", "POST", "/v1/auth/forgot-password", {"email": "queued@example.com"})
    body = {"current_password": PASSWORD, "new_password": "another long passphrase"}
    token = tokens["access_token"]
    changed = api.call("account", "POST", "/v1/me/change-password", body, token=token)
    assert changed.status == 200

    queued = session.scalars(
        select(BackgroundJob.job_type).where(BackgroundJob.job_type == auth_mail.JOB_TYPE)
    ).all()
    assert len(queued) >= 3
    assert ses_calls == []  # nothing sent by the Auth or Account function

    invoke_scheduled("jobs_worker", {"batch_size": 10, "max_jobs": 200}, timeout_s=120)

    assert len(ses_calls) == len(queued) and set(ses_calls) == {"queued@example.com"}
