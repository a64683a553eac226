"""Fixed-window rate-limit counters (an addition to the spec, see docs/decisions.md).

One row per (key, window): ``services.rate_limit.hit`` bumps it with a single upsert. Rows are
short-lived; ``expires_at`` lets the cleanup job delete finished windows with an index scan.
"""

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import Base


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"
    __table_args__ = (Index("ix_rate_limit_counters_expires_at", "expires_at"),)

    # Keys are "<scope>:<hashed subject>", e.g. "forgot-password:email:3f2a...".
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
