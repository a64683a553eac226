"""Spec section 3: products and e-commerce integration."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.enums import ScrapingStatus
from ecomvideo.models.base import (
    Base,
    audit_column,
    bool_column,
    created_at_column,
    enum_column,
    int_column,
    str_default,
    updated_at_column,
    uuid_pk,
)

if TYPE_CHECKING:
    from ecomvideo.models.users import User


class ProductCategory(Base):
    __tablename__ = "product_categories"
    __table_args__ = (
        UniqueConstraint("name"),
        Index("ix_product_categories_parent_id", "parent_id"),
        Index("ix_product_categories_name", "name"),
        Index("ix_product_categories_is_active", "is_active"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("product_categories.id")
    )
    level: Mapped[int] = int_column(0)
    sort_order: Mapped[int] = int_column(0)
    is_active: Mapped[bool] = bool_column(True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()

    parent: Mapped["ProductCategory | None"] = relationship(
        remote_side="ProductCategory.id", back_populates="children"
    )
    children: Mapped[list["ProductCategory"]] = relationship(back_populates="parent")


class ProductData(Base):
    __tablename__ = "product_data"
    __table_args__ = (
        Index("ix_product_data_user_id", "user_id"),
        Index("ix_product_data_category_id", "category_id"),
        Index("ix_product_data_original_url", "original_url"),
        Index("ix_product_data_domain", "domain"),
        Index("ix_product_data_platform", "platform"),
        Index("ix_product_data_scraping_status", "scraping_status"),
        Index("ix_product_data_created_at", "created_at"),
        Index("ix_product_data_metadata_gin", "metadata", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("product_categories.id")
    )
    original_url: Mapped[str] = mapped_column(String(1000), nullable=False)
    domain: Mapped[str | None] = mapped_column(String(100))
    platform: Mapped[str | None] = mapped_column(String(50))
    product_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str | None] = str_default(3, "USD")  # the scraper may find none
    original_price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    discount_percent: Mapped[int | None] = mapped_column(Integer)
    brand: Mapped[str | None] = mapped_column(String(200))
    sku: Mapped[str | None] = mapped_column(String(100))
    availability: Mapped[str | None] = mapped_column(String(50))
    rating: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    review_count: Mapped[int] = int_column(0)
    main_image_url: Mapped[str | None] = mapped_column(String(500))
    scraping_status: Mapped[ScrapingStatus] = enum_column(
        ScrapingStatus, "scraping_status", nullable=True, default=ScrapingStatus.PENDING
    )
    scraped_at: Mapped[datetime | None] = mapped_column(DateTime)
    error_message: Mapped[str | None] = mapped_column(String(1000))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()

    user: Mapped["User"] = relationship()
    category: Mapped["ProductCategory | None"] = relationship()
    images: Mapped[list["ProductImage"]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ProductImage.sort_order",
    )


class ProductImage(Base):
    __tablename__ = "product_images"
    __table_args__ = (
        Index("ix_product_images_product_data_id", "product_data_id"),
        Index("ix_product_images_is_primary", "is_primary"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    product_data_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("product_data.id", ondelete="CASCADE"), nullable=False
    )
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    alt_text: Mapped[str | None] = mapped_column(String(500))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    is_primary: Mapped[bool] = bool_column(False)
    sort_order: Mapped[int] = int_column(0)
    created_at: Mapped[datetime] = created_at_column()

    product: Mapped["ProductData"] = relationship(back_populates="images")


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import users  # noqa: E402, F401
