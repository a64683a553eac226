"""The scraper's per-domain politeness gate (an addition to the spec, see docs/decisions.md).

One row per shop domain: ``next_fetch_at`` is the earliest moment the next request to that
domain may start. ``services.products`` reserves a slot with one atomic upsert (no lock held
while waiting), so concurrent Lambdas space their requests to a shop by the domain's
``scraping_rules.delay_ms``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import Base, updated_at_column


class ScrapeDomainGate(Base):
    __tablename__ = "scrape_domain_gates"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_fetch_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[datetime | None] = updated_at_column()
