"""Transactional email through Amazon SES (moto in tests and in the local stack).

One ``EmailClient`` per container (``get_email_client()``), created on first use. Messages
carry a plain-text and an HTML body built from the templates below; links point at the
configured frontend (``FRONTEND_URL``). In the local stack (``STAGE=local``) every message is
also printed to the console and kept in memory for ``GET /v1/dev/mails``: the developer needs
the verification link, and nothing there is real.
"""

from __future__ import annotations

import html
import sys
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ecomvideo import clock
from ecomvideo.observability import logger
from ecomvideo.settings import get_settings

LOCAL_STAGES = frozenset({"local"})
_OUTBOX_SIZE = 100


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    tag: str = "transactional"
    sent_at: datetime = field(default_factory=clock.utcnow)


class EmailClient:
    """Sends ``EmailMessage`` objects with SES ``SendEmail``."""

    def __init__(self, sender: str, ses_client: Any, *, echo: bool = False) -> None:
        self.sender = sender
        self._ses = ses_client
        self._echo = echo
        self.outbox: deque[EmailMessage] = deque(maxlen=_OUTBOX_SIZE)

    def send(self, message: EmailMessage) -> str | None:
        """Send ``message``; returns the SES message id."""
        if self._echo:
            self.outbox.append(message)
            # The console is the local developer's inbox.
            print(_console_render(self.sender, message), file=sys.stdout, flush=True)
        response = self._ses.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [message.to]},
            Message={
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": message.text, "Charset": "UTF-8"},
                    "Html": {"Data": message.html, "Charset": "UTF-8"},
                },
            },
            Tags=[{"Name": "kind", "Value": message.tag}],
        )
        message_id = response.get("MessageId")
        # Never log the body: it holds single-use links.
        logger.info("email sent", extra={"email_kind": message.tag, "message_id": message_id})
        return message_id

    def sent(self) -> list[dict[str, Any]]:
        """Messages kept in the local stack's outbox, newest first."""
        return [{**asdict(m), "sent_at": clock.rfc3339(m.sent_at)} for m in reversed(self.outbox)]


_client: EmailClient | None = None
_lock = threading.Lock()


def get_email_client() -> EmailClient:
    """The container's email client (created lazily, once)."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = _build_client()
    return _client


def set_email_client(client: EmailClient | None) -> None:
    """Swap the client (tests) or forget it (``None``) so the next call builds a new one."""
    global _client
    _client = client


def _build_client() -> EmailClient:
    import boto3  # only functions that send mail pay for boto3

    settings = get_settings()
    ses = boto3.client("ses", region_name=settings.aws_region)
    local = settings.stage in LOCAL_STAGES
    if local:
        # moto rejects mail from unverified senders; in AWS the identity is set up once.
        ses.verify_email_identity(EmailAddress=settings.email_sender)
    return EmailClient(settings.email_sender, ses, echo=local)


def _console_render(sender: str, message: EmailMessage) -> str:
    bar = "=" * 72
    return (
        f"{bar}\nMAIL  From: {sender}\n      To: {message.to}\n      Subject: {message.subject}"
        f"\n{'-' * 72}\n{message.text}\n{bar}"
    )


# ------------------------------------------------------------------------------ templates


def frontend_link(path: str, **params: str) -> str:
    """An absolute link into the web app, e.g. ``/verify-email?token=...``."""
    base = get_settings().frontend_url.rstrip("/")
    return f"{base}{path}?{urlencode(params)}" if params else f"{base}{path}"


class Rich(str):
    """A paragraph that is its plain text (``str``) and also carries safe HTML for the HTML
    part (``.html``, e.g. with a ``<time>``); ``html_page`` uses that instead of escaping."""

    html: str

    def __new__(cls, text: str, markup: str) -> Rich:
        paragraph = super().__new__(cls, text)
        paragraph.html = markup
        return paragraph


def time_element(at: datetime, shown: str) -> str:
    """``shown`` (a time written for the reader, in their zone and format) as an HTML ``<time>``
    whose ``datetime`` is the instant, machine-readable: RFC 3339 UTC with ``Z``."""
    return f'<time datetime="{clock.rfc3339(at)}">{html.escape(shown)}</time>'


def with_time(template: str, at: datetime, shown: str) -> Rich:
    """``template`` with ``{when}`` as ``shown`` in the text and as a ``<time>`` in the HTML."""
    before, _, after = template.partition("{when}")
    return Rich(
        template.replace("{when}", shown),
        f"{html.escape(before)}{time_element(at, shown)}{html.escape(after)}",
    )


def html_page(title: str, paragraphs: list[str], link: str, button: str) -> str:
    """A minimal HTML mail: the title, paragraphs (escaped, or a ``Rich`` one's own HTML) and
    one button to ``link``."""
    body = "".join(
        f"<p>{p.html if isinstance(p, Rich) else html.escape(p)}</p>" for p in paragraphs
    )
    safe_link = html.escape(link, quote=True)
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,sans-serif;line-height:1.5;color:#222">'
        f"<h2>{html.escape(title)}</h2>{body}"
        f'<p><a href="{safe_link}" style="background:#5b3df5;color:#fff;padding:10px 16px;'
        f'border-radius:6px;text-decoration:none">{html.escape(button)}</a></p>'
        f'<p style="font-size:12px;color:#666">Or paste this link into your browser:<br>'
        f"{safe_link}</p></body></html>"
    )


def verification_email(to: str, first_name: str | None, token: str) -> EmailMessage:
    """'Confirm your email' with a 24-hour link."""
    link = frontend_link("/verify-email", token=token)
    hello = f"Hi {first_name}," if first_name else "Hi,"
    lines = [
        hello,
        "Welcome to EcomVideo AI! Please confirm your email address.",
        "The link is valid for 24 hours. If you did not sign up, ignore this email.",
    ]
    text = "\n\n".join([*lines, link])
    return EmailMessage(
        to=to,
        subject="Confirm your EcomVideo AI email address",
        text=text,
        html=html_page("Confirm your email", lines, link, "Confirm email"),
        tag="verify-email",
    )


def account_locked_email(to: str, first_name: str | None, token: str) -> EmailMessage:
    """'Your account was locked' after many wrong passwords, with a one-click unlock link
    (valid while the lock lasts, works once) and the advice to reset the password."""
    return _link_email(
        to,
        first_name,
        ("/unlock-account", token),
        [
            "Your EcomVideo AI account received many wrong passwords in a row, so we locked it"
            " for one hour to protect it.",
            "If that was you, unlock it now with the link below (it works once, until the lock"
            " ends). If it was not you, someone may know your email address: after unlocking,"
            " choose a new password at " + frontend_link("/forgot-password") + ".",
        ],
        subject="Your EcomVideo AI account was locked",
        heading=("Account locked", "Unlock my account"),
        tag="account-locked",
    )


def already_registered_email(to: str, first_name: str | None) -> EmailMessage:
    """'Someone tried to sign up with your address': the owner signs in or resets the
    password; no account was created and nothing changed."""
    return _link_email(
        to,
        first_name,
        ("/login", ""),
        [
            "Someone (hopefully you) tried to create an EcomVideo AI account with this email"
            " address. You already have an account, so nothing was created or changed.",
            "Sign in with the link below. Forgot your password? Choose a new one at "
            + frontend_link("/forgot-password")
            + ". If it was not you, you can ignore this email.",
        ],
        subject="You already have an EcomVideo AI account",
        heading=("You already have an account", "Sign in"),
        tag="already-registered",
    )


def _link_email(
    to: str,
    first_name: str | None,
    target: tuple[str, str],
    body: list[str],
    *,
    subject: str,
    heading: tuple[str, str],
    tag: str,
) -> EmailMessage:
    """A greeting, ``body`` paragraphs and one frontend link (``target`` = path, token; an
    empty token links to the bare path)."""
    link = frontend_link(target[0], token=target[1]) if target[1] else frontend_link(target[0])
    lines = [f"Hi {first_name}," if first_name else "Hi,", *body]
    return EmailMessage(
        to=to,
        subject=subject,
        text="\n\n".join([*lines, link]),
        html=html_page(heading[0], lines, link, heading[1]),
        tag=tag,
    )


def password_reset_email(to: str, first_name: str | None, token: str) -> EmailMessage:
    """'Reset your password' with a 1-hour link."""
    return _link_email(
        to,
        first_name,
        ("/reset-password", token),
        [
            "Someone (hopefully you) asked to reset your EcomVideo AI password.",
            "The link is valid for 1 hour and works once. If it was not you, ignore this email:"
            " your password stays the same.",
        ],
        subject="Reset your EcomVideo AI password",
        heading=("Reset your password", "Choose a new password"),
        tag="password-reset",
    )
