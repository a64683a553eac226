"""A viewer event as the public route sees it, and its hand-off to the ingest queue.

Apart from ``services.analytics`` (which records events: the raw row, the per-session
deduplication, the counters and the daily rollups) so that the public function, which in
production only enqueues, loads none of the analytics tables; the ``analytics_ingest``
function records what it queued.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecomvideo.clients import aws
from ecomvideo.enums import AnalyticsEventType

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TrackedEvent:
    """One viewer event as the public route saw it (also the SQS message body)."""

    video_id: uuid.UUID
    event_type: AnalyticsEventType
    occurred_at: datetime
    ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    country_code: str | None = None
    city: str | None = None
    session_id: str | None = None
    platform: str | None = None
    duration_seconds: int | None = None
    user_id: uuid.UUID | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_message(self) -> dict[str, Any]:
        """JSON-safe dict for an SQS message body."""
        return {
            "video_id": str(self.video_id),
            "event_type": str(self.event_type),
            "occurred_at": self.occurred_at.isoformat(),
            "ip": self.ip,
            "user_agent": self.user_agent,
            "referrer": self.referrer,
            "country_code": self.country_code,
            "city": self.city,
            "session_id": self.session_id,
            "platform": self.platform,
            "duration_seconds": self.duration_seconds,
            "user_id": str(self.user_id) if self.user_id else None,
            "meta": self.meta,
        }

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> TrackedEvent:
        """Inverse of ``to_message``; raises ValueError/KeyError on a malformed body."""
        return cls(
            video_id=uuid.UUID(data["video_id"]),
            event_type=AnalyticsEventType(data["event_type"]),
            occurred_at=datetime.fromisoformat(data["occurred_at"]).replace(tzinfo=None),
            ip=data.get("ip"),
            user_agent=data.get("user_agent"),
            referrer=data.get("referrer"),
            country_code=data.get("country_code"),
            city=data.get("city"),
            session_id=data.get("session_id"),
            platform=data.get("platform"),
            duration_seconds=data.get("duration_seconds"),
            user_id=uuid.UUID(data["user_id"]) if data.get("user_id") else None,
            meta=data.get("meta") or {},
        )


def submit(session: Session, event: TrackedEvent, *, queue_url: str | None = None) -> None:
    """Hand the event to the ingest queue when one is configured (production: the
    analytics_ingest function records it), else record it now in the caller's transaction
    (local stack, tests)."""
    if queue_url:
        aws.sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(event.to_message()))
        return
    # lazy: production always has the queue; recording maps the analytics tables
    from ecomvideo.services import analytics

    analytics.record(session, event)
