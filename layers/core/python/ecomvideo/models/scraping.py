"""The scraper's tables: ``scraping_rules`` (spec section 3, operators' per-shop selectors and
politeness delays) and the per-domain politeness gate (an addition, see docs/decisions.md).
They are apart from the product tables, which every video function maps.

One row per shop domain: ``next_fetch_at`` is the earliest moment the next request to that
domain may start. ``services.products`` reserves a slot with one atomic upsert (no lock held
while waiting), so concurrent Lambdas space their requests to a shop by the domain's
``scraping_rules.delay_ms``.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ecomvideo.models.base import (
    Base,
    audit_column,
    bool_column,
    created_at_column,
    int_column,
    updated_at_column,
    uuid_pk,
)


class ScrapeDomainGate(Base):
    __tablename__ = "scrape_domain_gates"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_fetch_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[datetime | None] = updated_at_column()


class ScrapingRule(Base):
    __tablename__ = "scraping_rules"
    __table_args__ = (
        UniqueConstraint("domain"),
        Index("ix_scraping_rules_domain", "domain"),
        Index("ix_scraping_rules_platform", "platform"),
        Index("ix_scraping_rules_is_active", "is_active"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    domain: Mapped[str] = mapped_column(String(100), nullable=False)
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    selectors: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    delay_ms: Mapped[int] = int_column(1000)
    is_active: Mapped[bool] = bool_column(True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    updated_by: Mapped[str | None] = audit_column()
