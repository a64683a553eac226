"""Every email template, rendered: each instant in a machine-readable part (HTML attributes such
as ``<time datetime>`` and links, JSON-LD blocks, the SES request's headers) is RFC 3339 UTC with
``Z``; the times written for the reader stay in their zone and format."""

from __future__ import annotations

import inspect
import json
import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import pytest

from ecomvideo.clients import email
from ecomvideo.clients.email import EmailClient
from ecomvideo.enums import SubscriptionStatus
from ecomvideo.models import User, UserPreferences
from ecomvideo.services import billing_mail, jobs, notifications
from tests.integration.jobs.conftest import NOW as AT
from tests.integration.jobs.conftest import FakeSes
from tests.support.factories import make_subscription, make_user

# Anything that looks like a date and time, in any of the forms people write them.
LOOSE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
STRICT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")


class _Parts(HTMLParser):
    """The machine-readable parts of an HTML body: attribute values, JSON-LD, <time> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[str] = []
        self.json_ld: list[str] = []
        self.times: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.attributes += [unquote(v) for v in values.values() if v]
        self._in_ld = tag == "script" and values.get("type") == "application/ld+json"
        if tag == "time":
            self.times.append(values.get("datetime") or "")

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_ld = False


def machine_readable_instants(ses_request: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(every date-time found in the structured parts, the <time datetime> values)."""
    parts = _Parts()
    parts.feed(ses_request["Message"]["Body"]["Html"]["Data"])
    texts = parts.attributes + [json.dumps(json.loads(block)) for block in parts.json_ld]
    texts += [json.dumps({k: v for k, v in ses_request.items() if k != "Message"})]  # headers
    return [m.group(0) for t in texts for m in LOOSE.finditer(t)], parts.times


def assert_rfc3339_z(ses_request: dict[str, Any]) -> list[str]:
    found, times = machine_readable_instants(ses_request)
    assert all(STRICT.fullmatch(value) for value in found), found
    assert all(STRICT.fullmatch(value) for value in times), times
    return times


def test_the_checker_refuses_an_offset_or_naive_instant_in_a_structured_part():
    def request(html: str) -> dict[str, Any]:
        return {"Message": {"Body": {"Html": {"Data": html}}}}

    ld = '<script type="application/ld+json">{"startDate": "2030-06-15T12:00:00"}</script>'
    for html in (
        '<time datetime="2030-06-15T14:00:00+02:00">14:00</time>',
        '<a href="https://x.test/?at=2030-06-15T12%3A00%3A00">x</a>',
        ld,
    ):
        with pytest.raises(AssertionError):
            assert_rfc3339_z(request(html))
    assert assert_rfc3339_z(request('<time datetime="2030-06-15T12:00:00Z">x</time>'))


@pytest.mark.parametrize("language", sorted(notifications.TEMPLATES))
@pytest.mark.parametrize("kind", list(notifications.Kind))
def test_every_notification_shows_local_time_and_carries_the_instant_in_utc(language, kind):
    user = User(first_name="Anna", email="anna@example.com", timezone="Asia/Kolkata", locale="en")
    prefs = UserPreferences(preferred_language=language, timezone="America/New_York")
    context = {"video_id": "5b0f2a8e-3c41-4d7a-9e62-8f1d0c7b4a93", "title": "Lamp", "plan": "Pro"}

    _, text, html = notifications.render(kind, user, prefs, AT, context)

    times = assert_rfc3339_z({"Message": {"Body": {"Html": {"Data": html}}}})
    assert times == ["2030-06-15T12:00:00Z"]
    assert "08:00 AM (America/New_York)" in text and "08:00 AM (America/New_York)" in html


def _link_templates() -> list[Any]:
    """Every ``*_email(to, first_name[, token])`` template of ``clients.email``."""
    return [
        func
        for name, func in inspect.getmembers(email, inspect.isfunction)
        if name.endswith("_email")
        and not name.startswith("_")
        and list(inspect.signature(func).parameters)[:1] == ["to"]
    ]


@pytest.mark.parametrize("template", _link_templates(), ids=lambda f: f.__name__)
def test_every_account_email_keeps_instants_in_its_structured_parts_rfc3339_z(template, ses):
    args = ["anna@example.com", "Anna", "tok-123"][: len(inspect.signature(template).parameters)]
    email.get_email_client().send(template(*args))

    (request,) = ses.sent
    assert_rfc3339_z(request)


def test_the_billing_emails_carry_the_trial_end_as_rfc3339_z(session, ses):
    # Every billing email: a new notify_* function must be added here.
    assert {n for n in dir(billing_mail) if n.startswith("notify_")} == {
        "notify_payment_failed",
        "notify_trial_ending",
    }
    user = make_user(session, first_name="Anna")
    sub = make_subscription(
        session, user, SubscriptionStatus.TRIAL, trial_ends_at=datetime(2030, 6, 18, 9, 30)
    )

    billing_mail.notify_trial_ending(session, sub)
    billing_mail.notify_payment_failed(session, sub, {"id": "in_1"})
    jobs.work(job_types=[billing_mail.JOB_TYPE])  # what the jobs worker does

    trial, payment = ses.sent
    assert assert_rfc3339_z(trial) == ["2030-06-18T09:30:00Z"]
    assert "June 18, 2030" in trial["Message"]["Body"]["Text"]["Data"]
    assert "<time" not in trial["Message"]["Body"]["Text"]["Data"]
    assert assert_rfc3339_z(payment) == []


def test_the_local_outbox_and_webhook_events_write_instants_the_same_way(ses):
    from ecomvideo.services import outbound_webhooks

    client = EmailClient("no-reply@ecomvideo.ai", FakeSes(), echo=True)
    client.send(email.verification_email("anna@example.com", None, "tok"))

    assert client.sent()[0]["sent_at"] == "2030-06-15T12:00:00Z"
    assert outbound_webhooks.build_event("video.completed", {})["created_at"] == (
        "2030-06-15T12:00:00Z"
    )
