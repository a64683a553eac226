"""API models for system settings (admin + public) and outbound webhooks."""

import uuid
from typing import Any, Literal

from pydantic import ConfigDict, Field

from ecomvideo.enums import SettingDataType
from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.fields import UtcDateTime

WebhookEvent = Literal["video.completed", "video.failed", "credits.low"]


class SettingOut(Schema):
    key: str
    value: Any = Field(description="Decoded according to data_type.")
    data_type: SettingDataType
    category: str | None = None
    description: str | None = None
    is_public: bool = False
    updated_at: UtcDateTime | None = None
    updated_by: str | None = None


class PublicSettingOut(Schema):
    key: str
    value: Any
    data_type: SettingDataType


class SettingsList(Schema):
    items: list[SettingOut]


class PublicSettingsList(Schema):
    items: list[PublicSettingOut]


class SettingUpdate(Schema):
    """One setting to create or change. ``value`` must match ``data_type`` (or the stored one)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_.\-]+$")
    value: Any
    data_type: SettingDataType | None = None
    category: str | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=2000)
    is_public: bool | None = None


class SettingsUpdate(Schema):
    # The example sets the seeded defaults: the contract tests send it to a live stack.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "settings": [
                        {
                            "key": "ratelimit.video_creations_per_hour",
                            "value": 30,
                            "data_type": "number",
                            "category": "ratelimit",
                            "description": "Video creations per user per hour.",
                            "is_public": True,
                        },
                        {"key": "app.maintenance_mode", "value": False, "data_type": "boolean"},
                    ]
                }
            ]
        },
    )

    settings: list[SettingUpdate] = Field(min_length=1, max_length=100)


class WebhookCreate(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.lumen-lamps.example.com/ecomvideo",
                    "events": ["video.completed", "video.failed"],
                    "description": "Post finished videos to our product feed",
                }
            ]
        },
    )

    url: str = Field(min_length=8, max_length=500, examples=["https://example.com/hooks/ecomvideo"])
    events: list[WebhookEvent] = Field(min_length=1, max_length=3)
    description: str | None = Field(default=None, max_length=200)


class WebhookOut(Schema):
    id: uuid.UUID
    url: str
    events: list[str]
    description: str | None = None
    is_active: bool
    failure_count: int
    last_delivery_at: UtcDateTime | None = None
    last_status_code: int | None = None
    created_at: UtcDateTime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signing secret; shown only in this response.")


class WebhookSecretRotated(WebhookOut):
    secret: str = Field(description="The new signing secret; shown only in this response.")
    previous_secret_expires_at: UtcDateTime = Field(
        description="Until then deliveries are signed with the old secret too."
    )


class WebhookList(Schema):
    items: list[WebhookOut]


class DeliveryOut(Schema):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    attempt: int
    success: bool
    status_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    created_at: UtcDateTime


class DeliveryList(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None = None
