"""Event tracking for public videos: one raw ``video_analytics`` row per event, plus counters.

``record`` does, in the caller's transaction and always in this order (a fixed lock order, so
concurrent viewers of one video queue on row locks instead of deadlocking):

1. decide whether the event counts: bots (``useragent.parse``) never count; a View or Like
   counts once per session per video per ``DEDUP_WINDOW`` (an upsert on
   ``analytics_counted_sessions`` whose ``WHERE`` makes the check-and-set atomic);
2. insert the raw event with ``created_at`` = the time it happened (partition key);
3. bump the video's counter with ``UPDATE ... SET view_count = view_count + 1`` (no lost
   updates: the row lock serialises concurrent increments);
4. upsert the daily rollup rows (total, platform, country, device) that reports read.

The IP is anonymised before it is stored (IPv4 to /24, IPv6 to /48) while the
``analytics.ip_anonymization`` setting is true (the default). The full address is used only
to derive the session key of viewers that send no session id, and only as a hash.

The event itself (``TrackedEvent``) and its hand-off (``submit``: to the ingest queue, or here
when there is none) are in ``services.tracked_events``: the public route only enqueues in
production.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Integer, delete, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo import clock
from ecomvideo.db import rowcount
from ecomvideo.enums import AnalyticsEventType
from ecomvideo.models import User, Video, VideoAnalytics
from ecomvideo.models.rollups import AnalyticsCountedSession, VideoAnalyticsDaily
from ecomvideo.services import system_settings, useragent

if TYPE_CHECKING:
    from ecomvideo.services.tracked_events import TrackedEvent

DEDUP_WINDOW = timedelta(minutes=30)
UNKNOWN = "Unknown"
# Events deduplicated per session; the others count every time (a second download is real).
DEDUPLICATED = frozenset({AnalyticsEventType.VIEW, AnalyticsEventType.LIKE})
COUNTER_COLUMNS = {
    AnalyticsEventType.VIEW: "view_count",
    AnalyticsEventType.DOWNLOAD: "download_count",
    AnalyticsEventType.SHARE: "share_count",
}


@dataclass(frozen=True)
class RecordResult:
    counted: bool
    bot: bool


def anonymize_ip(ip: str | None) -> str | None:
    """IPv4 -> its /24 network address, IPv6 -> its /48; None for absent or invalid input."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def _valid_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def session_key(event: TrackedEvent) -> str:
    """A stable, non-reversible key for "this viewer": their session id, else IP + agent."""
    raw = (
        f"s:{event.session_id}"
        if event.session_id
        else f"a:{event.ip or ''}|{event.user_agent or ''}"
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def country(value: str | None) -> str | None:
    """CloudFront-Viewer-Country is ISO 3166-1 alpha-2; anything else is dropped."""
    if value and len(value.strip()) == 2 and value.strip().isalpha():
        return value.strip().upper()
    return None


def _claim_count(session: Session, event: TrackedEvent) -> bool:
    """True when no counted event of this kind exists for the session within the window."""
    marker = insert(AnalyticsCountedSession).values(
        video_id=event.video_id,
        session_key=session_key(event),
        event_type=str(event.event_type),
        counted_at=event.occurred_at,
    )
    excluded = marker.excluded
    stmt = marker.on_conflict_do_update(
        index_elements=[
            AnalyticsCountedSession.video_id,
            AnalyticsCountedSession.session_key,
            AnalyticsCountedSession.event_type,
        ],
        set_={"counted_at": excluded.counted_at},
        where=AnalyticsCountedSession.counted_at <= excluded.counted_at - DEDUP_WINDOW,
    ).returning(literal_column("1", Integer))
    return session.execute(stmt).first() is not None


def _rollup(
    session: Session,
    event: TrackedEvent,
    owner_id: uuid.UUID,
    *,
    counted: bool,
    bot: bool,
    device: str | None,
    country_code: str | None,
) -> None:
    day: date = event.occurred_at.date()
    # Watch time of every human event counts, including repeat views within a session.
    watch = 0 if bot else (event.duration_seconds or 0)
    # Sorted by primary key so concurrent transactions lock rollup rows in the same order.
    dims = sorted(
        [
            ("country", country_code or UNKNOWN),
            ("device", device or UNKNOWN),
            ("platform", (event.platform or UNKNOWN)[:100]),
            ("total", ""),
        ]
    )
    rows = [
        {
            "video_id": event.video_id,
            "day": day,
            "event_type": str(event.event_type),
            "dimension": dimension,
            "value": value,
            "owner_id": owner_id,
            "events": 1,
            "counted": 1 if counted else 0,
            "bots": 1 if bot else 0,
            "watch_seconds": watch,
        }
        for dimension, value in dims
    ]
    stmt = insert(VideoAnalyticsDaily).values(rows)
    table = VideoAnalyticsDaily
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.video_id, table.day, table.event_type, table.dimension, table.value],
        set_={
            "events": table.events + stmt.excluded.events,
            "counted": table.counted + stmt.excluded.counted,
            "bots": table.bots + stmt.excluded.bots,
            "watch_seconds": table.watch_seconds + stmt.excluded.watch_seconds,
        },
    )
    session.execute(stmt)


def record(session: Session, event: TrackedEvent) -> RecordResult | None:
    """Store one event and update counters and rollups; None when the video no longer exists."""
    owner_id = session.scalar(select(Video.user_id).where(Video.id == event.video_id))
    if owner_id is None:
        return None
    agent = useragent.parse(event.user_agent)
    bot = agent.is_bot
    counted = not bot and (event.event_type not in DEDUPLICATED or _claim_count(session, event))
    ip = _valid_ip(event.ip)
    if ip and system_settings.get(session, "analytics.ip_anonymization", True):
        ip = anonymize_ip(ip)
    country_code = country(event.country_code)
    device = str(agent.device_type) if agent.device_type else None
    meta = {**event.meta, "counted": counted, "bot": bot}
    session.execute(
        insert(VideoAnalytics).values(
            id=uuid.uuid4(),
            video_id=event.video_id,
            # The viewer may have deleted their account since: store NULL, keep the event.
            user_id=(
                select(User.id).where(User.id == event.user_id).scalar_subquery()
                if event.user_id
                else None
            ),
            event_type=event.event_type,
            platform=(event.platform or None) and event.platform[:50],
            ip_address=ip,
            user_agent=(event.user_agent or None) and event.user_agent[:1000],
            referrer=(event.referrer or None) and event.referrer[:500],
            country_code=country_code,
            city=(event.city or None) and event.city[:100],
            device_type=agent.device_type,
            browser=agent.browser,
            os=agent.os,
            session_id=(event.session_id or None) and event.session_id[:255],
            duration_seconds=event.duration_seconds,
            meta=meta,
            created_at=event.occurred_at,
        )
    )
    column = COUNTER_COLUMNS.get(event.event_type)
    if counted and column is not None:
        counter = getattr(Video, column)
        session.execute(
            update(Video).where(Video.id == event.video_id).values({column: counter + 1})
        )
    _rollup(
        session, event, owner_id, counted=counted, bot=bot, device=device, country_code=country_code
    )
    return RecordResult(counted=counted, bot=bot)


def purge_counted_sessions(session: Session, *, now: datetime | None = None) -> int:
    """Delete dedup markers older than the window (run from the scheduled cleanup)."""
    cutoff = (now or clock.utcnow()) - DEDUP_WINDOW
    result = session.execute(
        delete(AnalyticsCountedSession).where(AnalyticsCountedSession.counted_at < cutoff)
    )
    return rowcount(result)
