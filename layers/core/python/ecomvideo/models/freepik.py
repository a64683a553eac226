"""Freepik webhook deliveries already processed (an addition: duplicate ``webhook-id``s)."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import Base, created_at_column


class FreepikWebhookEvent(Base):
    __tablename__ = "freepik_webhook_events"
    __table_args__ = (Index("ix_freepik_webhook_events_created_at", "created_at"),)

    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    task_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = created_at_column()
