"""Spec section 2: video management."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecomvideo.enums import VideoInputType, VideoStatus
from ecomvideo.models.base import (
    Base,
    audit_column,
    bigint_column,
    bool_column,
    created_at_column,
    enum_column,
    int_column,
    str_default,
    updated_at_column,
    uuid_pk,
)

if TYPE_CHECKING:
    from ecomvideo.models.products import ProductData
    from ecomvideo.models.users import User


class VideoCategory(Base):
    __tablename__ = "video_categories"
    __table_args__ = (
        UniqueConstraint("name"),
        Index("ix_video_categories_name", "name"),
        Index("ix_video_categories_is_active", "is_active"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    color_hex: Mapped[str | None] = mapped_column(String(7))
    icon_name: Mapped[str | None] = mapped_column(String(50))
    sort_order: Mapped[int] = int_column(0)
    is_active: Mapped[bool] = bool_column(True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()

    templates: Mapped[list["VideoTemplate"]] = relationship(back_populates="category")


class VideoTemplate(Base):
    __tablename__ = "video_templates"
    __table_args__ = (
        Index("ix_video_templates_category_id", "category_id"),
        Index("ix_video_templates_is_premium", "is_premium"),
        Index("ix_video_templates_is_active", "is_active"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("video_categories.id")
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    preview_url: Mapped[str | None] = mapped_column(String(500))
    prompt_template: Mapped[str] = mapped_column(Text, nullable=False)
    style_settings: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    default_duration: Mapped[int] = int_column(5)
    aspect_ratio: Mapped[str] = str_default(10, "9:16")
    resolution: Mapped[str] = str_default(20, "1080x1920")
    is_premium: Mapped[bool] = bool_column(False)
    is_active: Mapped[bool] = bool_column(True)
    usage_count: Mapped[int] = int_column(0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()

    category: Mapped["VideoCategory | None"] = relationship(back_populates="templates")


video_tag_mappings = Table(
    "video_tag_mappings",
    Base.metadata,
    Column(
        "video_id",
        UUID(as_uuid=True),
        ForeignKey("videos.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "tag_id",
        UUID(as_uuid=True),
        ForeignKey("video_tags.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_video_tag_mappings_video_id", "video_id"),
    Index("ix_video_tag_mappings_tag_id", "tag_id"),
)


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        Index("ix_videos_user_id", "user_id"),
        Index("ix_videos_status", "status"),
        Index("ix_videos_created_at", "created_at"),
        Index("ix_videos_category_id", "category_id"),
        Index("ix_videos_template_id", "template_id"),
        Index("ix_videos_product_data_id", "product_data_id"),
        Index("ix_videos_is_public", "is_public"),
        Index("ix_videos_is_featured", "is_featured"),
        Index(
            "ix_videos_freepik_task_id",
            "freepik_task_id",
            unique=True,
            postgresql_where=text("freepik_task_id IS NOT NULL"),
        ),
        Index(
            "ix_videos_freepik_image_task_id",
            "freepik_image_task_id",
            unique=True,
            postgresql_where=text("freepik_image_task_id IS NOT NULL"),
        ),
        # Listing a user's videos newest first is the hottest query (cursor pagination).
        Index("ix_videos_user_id_created_at", "user_id", "created_at"),
        Index("ix_videos_metadata_gin", "metadata", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("video_categories.id")
    )
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("video_templates.id")
    )
    product_data_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("product_data.id")
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(String(1000))
    text_prompt: Mapped[str] = mapped_column(String(2000), nullable=False)
    input_type: Mapped[VideoInputType] = enum_column(VideoInputType, "input_type")
    status: Mapped[VideoStatus] = enum_column(VideoStatus, "status")
    resolution: Mapped[str] = mapped_column(String(50), nullable=False)
    aspect_ratio: Mapped[str] = mapped_column(String(10), nullable=False)
    duration_seconds: Mapped[int] = mapped_column(
        Integer, nullable=False, default=5, server_default=text("5")
    )
    style: Mapped[str | None] = mapped_column(String(100))
    image_url: Mapped[str | None] = mapped_column(String(500))
    video_url: Mapped[str | None] = mapped_column(String(500))
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    freepik_task_id: Mapped[str | None] = mapped_column(String(100))
    freepik_image_task_id: Mapped[str | None] = mapped_column(String(100))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    error_message: Mapped[str | None] = mapped_column(String(2000))
    file_size_bytes: Mapped[int] = bigint_column(0)
    view_count: Mapped[int] = int_column(0)
    download_count: Mapped[int] = int_column(0)
    share_count: Mapped[int] = int_column(0)
    is_public: Mapped[bool] = bool_column(False)
    is_featured: Mapped[bool] = bool_column(False)
    # "metadata" is reserved on declarative classes: every model maps it as ``meta``.
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    ai_provider: Mapped[str | None] = mapped_column(String(50))
    generation_cost_credits: Mapped[int] = int_column(0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = updated_at_column()
    created_by: Mapped[str | None] = audit_column()
    updated_by: Mapped[str | None] = audit_column()

    user: Mapped["User"] = relationship()
    category: Mapped["VideoCategory | None"] = relationship()
    template: Mapped["VideoTemplate | None"] = relationship()
    product: Mapped["ProductData | None"] = relationship()
    tags: Mapped[list["VideoTag"]] = relationship(
        secondary=video_tag_mappings, back_populates="videos", passive_deletes=True
    )


class VideoTag(Base):
    __tablename__ = "video_tags"
    __table_args__ = (UniqueConstraint("name"), Index("ix_video_tags_name", "name"))

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    color_hex: Mapped[str | None] = mapped_column(String(7))
    usage_count: Mapped[int] = int_column(0)
    created_at: Mapped[datetime] = created_at_column()

    videos: Mapped[list["Video"]] = relationship(
        secondary=video_tag_mappings, back_populates="tags", passive_deletes=True
    )


# What this module's foreign keys and relationships name (``ecomvideo.models`` is lazy).
from ecomvideo.models import products, users  # noqa: E402, F401
