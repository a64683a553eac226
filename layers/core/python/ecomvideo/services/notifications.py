"""User notifications by email (SES), sent through the background job queue.

``notify(session, user_id, kind, context)`` enqueues a ``notification.email`` job in the
caller's transaction (so a video that fails to commit never sends "your video is ready"). The
job handler decides at send time, with the user's *current* settings:

* ``users.is_active`` and ``notification_settings.email_enabled`` and
  ``user_preferences.email_notifications_enabled`` must all be true (a missing row means the
  spec's defaults, i.e. enabled);
* the per-type flag (``video_completed``, ``video_failed``, ``subscription_renewal``,
  ``subscription_expired``, ``payment_failed``, ``weekly_digest``) must be true;
* the text is written in the user's language (``preferred_language``, else ``users.locale``;
  English fallback) and times are shown in the user's time zone with their date/time format.

A skipped notification completes the job without sending. Sending failures retry with backoff.
"""

from __future__ import annotations

import html
import string
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.clients.email import EmailMessage, frontend_link, get_email_client, time_element
from ecomvideo.models import NotificationSettings, User, UserPreferences, Video
from ecomvideo.services import jobs

JOB_TYPE = "notification.email"


class Kind(StrEnum):
    """Notification types; values are the ``notification_settings`` column names."""

    VIDEO_COMPLETED = "video_completed"
    VIDEO_FAILED = "video_failed"
    SUBSCRIPTION_RENEWAL = "subscription_renewal"
    SUBSCRIPTION_EXPIRED = "subscription_expired"
    PAYMENT_FAILED = "payment_failed"
    WEEKLY_DIGEST = "weekly_digest"


# language -> kind -> (subject, body). Body placeholders come from the job's context plus
# {name} and {when} (the event time in the user's zone and format).
TEMPLATES: dict[str, dict[Kind, tuple[str, str]]] = {
    "en": {
        Kind.VIDEO_COMPLETED: (
            'Your video "{title}" is ready',
            'Hi {name},\n\nyour video "{title}" finished on {when}. Open it here: {link}',
        ),
        Kind.VIDEO_FAILED: (
            'Your video "{title}" could not be generated',
            'Hi {name},\n\nyour video "{title}" failed on {when}: {reason}\n'
            "The credits it held were returned to your balance. Try again: {link}",
        ),
        Kind.SUBSCRIPTION_RENEWAL: (
            "Your {plan} subscription renews soon",
            "Hi {name},\n\nyour {plan} subscription renews on {when}. Manage it: {link}",
        ),
        Kind.SUBSCRIPTION_EXPIRED: (
            "Your {plan} subscription has expired",
            "Hi {name},\n\nyour {plan} subscription expired on {when}. Renew it: {link}",
        ),
        Kind.PAYMENT_FAILED: (
            "Your payment failed",
            "Hi {name},\n\nyour payment of {amount} on {when} failed. Update your payment "
            "method: {link}",
        ),
        Kind.WEEKLY_DIGEST: (
            "Your week on EcomVideo AI",
            "Hi {name},\n\nin the week up to {when} you created {videos_created} videos "
            "({videos_completed} completed) and they were viewed {views} times.\n{link}",
        ),
    },
    "de": {
        Kind.VIDEO_COMPLETED: (
            'Ihr Video "{title}" ist fertig',
            'Hallo {name},\n\nIhr Video "{title}" wurde am {when} fertiggestellt: {link}',
        ),
        Kind.VIDEO_FAILED: (
            'Ihr Video "{title}" konnte nicht erstellt werden',
            'Hallo {name},\n\nIhr Video "{title}" ist am {when} fehlgeschlagen: {reason}\n'
            "Die reservierten Credits wurden gutgeschrieben. Erneut versuchen: {link}",
        ),
        Kind.SUBSCRIPTION_RENEWAL: (
            "Ihr {plan}-Abo verlängert sich bald",
            "Hallo {name},\n\nIhr {plan}-Abo verlängert sich am {when}. Verwalten: {link}",
        ),
        Kind.SUBSCRIPTION_EXPIRED: (
            "Ihr {plan}-Abo ist abgelaufen",
            "Hallo {name},\n\nIhr {plan}-Abo ist am {when} abgelaufen. Verlängern: {link}",
        ),
        Kind.PAYMENT_FAILED: (
            "Ihre Zahlung ist fehlgeschlagen",
            "Hallo {name},\n\nIhre Zahlung über {amount} am {when} ist fehlgeschlagen. "
            "Zahlungsmethode aktualisieren: {link}",
        ),
        Kind.WEEKLY_DIGEST: (
            "Ihre Woche bei EcomVideo AI",
            "Hallo {name},\n\nin der Woche bis {when} haben Sie {videos_created} Videos erstellt "
            "({videos_completed} fertig), angesehen wurden sie {views}-mal.\n{link}",
        ),
    },
    "fr": {
        Kind.VIDEO_COMPLETED: (
            "Votre vidéo « {title} » est prête",
            "Bonjour {name},\n\nvotre vidéo « {title} » a été terminée le {when} : {link}",
        ),
        Kind.VIDEO_FAILED: (
            "Votre vidéo « {title} » n'a pas pu être générée",
            "Bonjour {name},\n\nvotre vidéo « {title} » a échoué le {when} : {reason}\n"
            "Les crédits réservés ont été restitués. Réessayer : {link}",
        ),
        Kind.SUBSCRIPTION_RENEWAL: (
            "Votre abonnement {plan} sera bientôt renouvelé",
            "Bonjour {name},\n\nvotre abonnement {plan} sera renouvelé le {when} : {link}",
        ),
        Kind.SUBSCRIPTION_EXPIRED: (
            "Votre abonnement {plan} a expiré",
            "Bonjour {name},\n\nvotre abonnement {plan} a expiré le {when}. Renouveler : {link}",
        ),
        Kind.PAYMENT_FAILED: (
            "Votre paiement a échoué",
            "Bonjour {name},\n\nvotre paiement de {amount} du {when} a échoué. "
            "Mettez à jour votre moyen de paiement : {link}",
        ),
        Kind.WEEKLY_DIGEST: (
            "Votre semaine sur EcomVideo AI",
            "Bonjour {name},\n\nla semaine jusqu'au {when}, vous avez créé {videos_created} "
            "vidéos ({videos_completed} terminées), vues {views} fois.\n{link}",
        ),
    },
}
DEFAULT_NAME = {"en": "there", "de": "", "fr": ""}
LINK_PATHS = {
    Kind.VIDEO_COMPLETED: "/videos/{video_id}",
    Kind.VIDEO_FAILED: "/videos/{video_id}",
    Kind.SUBSCRIPTION_RENEWAL: "/billing",
    Kind.SUBSCRIPTION_EXPIRED: "/billing",
    Kind.PAYMENT_FAILED: "/billing",
    Kind.WEEKLY_DIGEST: "/dashboard",
}
_DATE_FORMATS = {"MM/DD/YYYY": "%m/%d/%Y", "DD/MM/YYYY": "%d/%m/%Y", "YYYY-MM-DD": "%Y-%m-%d"}
_TIME_FORMATS = {"12h": "%I:%M %p", "24h": "%H:%M"}


# ---------------------------------------------------------------------------- enqueue


def notify(
    session: Session,
    user_id: uuid.UUID,
    kind: Kind | str,
    context: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    dedupe_key: str | None = None,
) -> Any:
    """Enqueue an email notification in the caller's transaction (the outbox)."""
    kind = Kind(kind)
    data = {
        "user_id": str(user_id),
        "kind": kind.value,
        "at": (at or clock.utcnow()).isoformat(),
        "context": {k: str(v) for k, v in (context or {}).items()},
    }
    return jobs.enqueue(session, JOB_TYPE, data, priority=5, max_attempts=5, dedupe_key=dedupe_key)


def on_video_finished(session: Session, video: Video) -> None:
    """Hook for the pipeline: email + outbound webhooks when a video completes or fails."""
    from ecomvideo.services import outbound_webhooks  # lazy: it imports httpx, only used here

    status = str(video.status)
    if status not in ("Completed", "Failed"):
        return
    kind = Kind.VIDEO_COMPLETED if status == "Completed" else Kind.VIDEO_FAILED
    notify(
        session,
        video.user_id,
        kind,
        {"video_id": video.id, "title": video.title, "reason": video.error_message or ""},
        dedupe_key=f"{kind.value}:{video.id}:{video.completed_at or video.updated_at}",
    )
    outbound_webhooks.emit(
        session,
        video.user_id,
        "video.completed" if status == "Completed" else "video.failed",
        {
            "video_id": str(video.id),
            "title": video.title,
            "status": status,
            "error_message": video.error_message if status == "Failed" else None,
            "duration_seconds": video.duration_seconds,
        },
    )


# ---------------------------------------------------------------------------- rendering


def language_of(user: User, prefs: UserPreferences | None) -> str:
    raw = (prefs.preferred_language if prefs and prefs.preferred_language else user.locale) or "en"
    lang = raw.replace("_", "-").split("-")[0].lower()
    return lang if lang in TEMPLATES else "en"


def format_when(moment: datetime, user: User, prefs: UserPreferences | None) -> str:
    """``moment`` (naive UTC) in the user's zone, date and time format, with the zone name."""
    zone_name = (prefs.timezone if prefs and prefs.timezone else user.timezone) or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone, zone_name = ZoneInfo("UTC"), "UTC"
    local = moment.replace(tzinfo=UTC).astimezone(zone)
    date_fmt = _DATE_FORMATS.get(prefs.date_format if prefs else "", "%m/%d/%Y")
    time_fmt = _TIME_FORMATS.get(prefs.time_format if prefs else "", "%I:%M %p")
    return f"{local.strftime(date_fmt)} {local.strftime(time_fmt)} ({zone_name})"


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(
    kind: Kind, user: User, prefs: UserPreferences | None, at: datetime, context: dict[str, Any]
) -> tuple[str, str, str]:
    """(subject, text, html) for ``kind`` in the user's language, zone and formats. In the HTML
    part ``{when}`` is a ``<time>`` whose ``datetime`` is the instant in RFC 3339 UTC (``Z``)
    and ``{link}`` a link; every other value is escaped."""
    lang = language_of(user, prefs)
    subject, body = TEMPLATES[lang][kind]
    values = _Defaults(context)
    values["name"] = user.first_name or DEFAULT_NAME.get(lang, "")
    values["when"] = format_when(at, user, prefs)
    values["link"] = frontend_link(LINK_PATHS[kind].format_map(values))
    link = html.escape(values["link"], quote=True)
    markup = {"when": time_element(at, values["when"]), "link": f'<a href="{link}">{link}</a>'}
    subject = subject.format_map(values)
    return subject, body.format_map(values), _html(subject, _format_html(body, values, markup))


def _format_html(template: str, values: dict[str, Any], markup: dict[str, str]) -> str:
    """``template`` formatted for HTML: literal text and values escaped, ``markup`` as is."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(html.escape(literal))
        if name is not None:
            out.append(markup[name] if name in markup else html.escape(str(values[name])))
    return "".join(out)


def should_send(
    kind: Kind, user: User, settings: NotificationSettings | None, prefs: UserPreferences | None
) -> bool:
    """The user's current settings allow an email of this kind."""
    if not user.is_active:
        return False
    if prefs is not None and prefs.email_notifications_enabled is False:
        return False
    if settings is None:
        return True  # no row yet: the spec's defaults (all of these are TRUE)
    if settings.email_enabled is False:
        return False
    return getattr(settings, kind.value) is not False


@jobs.handler(JOB_TYPE)
def send_email_job(session: Session, data: dict[str, Any]) -> None:
    """Job handler: render and send one notification if the user still wants it."""
    kind = Kind(data["kind"])
    user = session.get(User, uuid.UUID(data["user_id"]))
    if user is None:
        return  # account deleted since: nothing to send
    settings = session.scalars(
        select(NotificationSettings).where(NotificationSettings.user_id == user.id)
    ).first()
    prefs = session.scalars(
        select(UserPreferences).where(UserPreferences.user_id == user.id)
    ).first()
    if not should_send(kind, user, settings, prefs):
        return
    at = datetime.fromisoformat(data.get("at") or clock.utcnow().isoformat())
    subject, body, markup = render(kind, user, prefs, at, data.get("context") or {})
    get_email_client().send(
        EmailMessage(
            to=user.email,
            subject=subject,
            text=body,
            html=markup,
            tag=kind.value.replace("_", "-"),
        )
    )


def _html(subject: str, body: str) -> str:
    """The HTML part: ``body`` (already safe HTML) one paragraph per line."""
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n") if line.strip())
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        f'<body style="font-family:Arial,sans-serif;line-height:1.5">{paragraphs}</body></html>'
    )


# ---------------------------------------------------------------------------- weekly digest


def enqueue_weekly_digests(
    session: Session, *, now: datetime | None = None, limit: int = 500
) -> int:
    """Enqueue this week's digest for up to ``limit`` users who want it (idempotent per week).

    Users who opted out (``weekly_digest`` / ``email_enabled`` false) get no job at all; the
    handler checks again at send time.
    """
    moment = now or clock.utcnow()
    week = moment.strftime("%G-W%V")
    since = moment - timedelta(days=7)
    rows = session.execute(
        text(
            """
            SELECT u.id,
                   count(v.id) AS created,
                   count(v.id) FILTER (WHERE v.status = 'Completed') AS completed,
                   COALESCE(sum(v.view_count), 0) AS views
            FROM users u
            LEFT JOIN notification_settings n ON n.user_id = u.id
            LEFT JOIN videos v ON v.user_id = u.id AND v.created_at >= :since
            WHERE u.is_active IS NOT FALSE
              AND COALESCE(n.weekly_digest, TRUE) AND COALESCE(n.email_enabled, TRUE)
              AND NOT EXISTS (
                  SELECT 1 FROM background_jobs j
                  WHERE j.job_type = :job_type AND j.job_data->>'dedupe_key' = :prefix || u.id)
            GROUP BY u.id
            HAVING count(v.id) > 0
            ORDER BY u.id
            LIMIT :limit
            """
        ),
        {"since": since, "job_type": JOB_TYPE, "prefix": f"digest:{week}:", "limit": limit},
    ).all()
    queued = 0
    for row in rows:
        job = notify(
            session,
            row.id,
            Kind.WEEKLY_DIGEST,
            {
                "videos_created": row.created,
                "videos_completed": row.completed,
                "views": row.views,
            },
            at=moment,
            dedupe_key=f"digest:{week}:{row.id}",
        )
        queued += job is not None
    return queued
