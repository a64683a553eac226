"""Emails captured at the SES call (the HTTP-level boundary of the email client)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from ecomvideo import clock
from ecomvideo.clients.email import EmailClient, set_email_client

# The instant the email tests run at (frozen).
NOW = datetime(2030, 6, 15, 12, 0)


class FakeSes:
    """Records each ``SendEmail`` request as the SES client would receive it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_email(self, **kwargs: Any) -> dict[str, str]:
        self.sent.append(kwargs)
        return {"MessageId": f"m-{len(self.sent)}"}


@pytest.fixture
def ses():
    fake = FakeSes()
    set_email_client(EmailClient("no-reply@ecomvideo.ai", fake))
    clock.freeze(NOW)
    yield fake
    set_email_client(None)
    clock.unfreeze()
