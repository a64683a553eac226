"""Request and response models of /v1/videos/{id}/shares and /v1/public/videos/{slug}."""

import uuid
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.fields import UtcDateTime

# Spellings accepted from clients; services.sharing normalises them ("X" -> "Twitter/X").
SharePlatform = Literal[
    "Instagram",
    "TikTok",
    "YouTube",
    "Twitter/X",
    "Twitter",
    "X",
    "Facebook",
    "Pinterest",
    "Link",
]


class ShareCreate(Schema):
    """POST /v1/videos/{id}/shares."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "platform": "TikTok",
                    "caption": "Our brass Arc lamp turns any corner golden #homedecor #lighting",
                }
            ]
        },
    )

    platform: SharePlatform
    caption: Annotated[str, StringConstraints(max_length=5000)] | None = None


class SafeZone(Schema):
    """Margins (percent of the frame) that the platform's UI covers: keep text out of them."""

    top_pct: float
    bottom_pct: float
    left_pct: float
    right_pct: float


class PlatformPreset(Schema):
    platform: str
    recommended_aspect_ratio: str | None
    accepted_aspect_ratios: list[str]
    max_duration_seconds: int | None
    recommended_duration_seconds: int | None
    caption_max_length: int | None
    safe_zone: SafeZone | None


class ShareOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                    "video_id": "5b0f2a8e-3c41-4d7a-9e62-8f1d0c7b4a93",
                    "platform": "TikTok",
                    "slug": "q3ZfT8xWk1nLp0vR7sYbHg",
                    "share_url": "https://app.ecomvideo.example.com/s/q3ZfT8xWk1nLp0vR7sYbHg",
                    "public_api_url": "/v1/public/videos/q3ZfT8xWk1nLp0vR7sYbHg",
                    "shared_at": "2026-11-20T15:10:00Z",
                    "revoked_at": None,
                    "caption": "Our brass Arc lamp turns any corner golden #homedecor #lighting",
                    "preset": {
                        "platform": "TikTok",
                        "recommended_aspect_ratio": "9:16",
                        "accepted_aspect_ratios": ["9:16"],
                        "max_duration_seconds": 600,
                        "recommended_duration_seconds": 30,
                        "caption_max_length": 4000,
                        "safe_zone": {
                            "top_pct": 8.0,
                            "bottom_pct": 25.0,
                            "left_pct": 5.0,
                            "right_pct": 13.0,
                        },
                    },
                    "warnings": [],
                }
            ]
        }
    )

    id: uuid.UUID
    video_id: uuid.UUID
    platform: str
    slug: str
    share_url: str = Field(description="Link for viewers (the web player).")
    public_api_url: str = Field(description="GET this without a token for metadata and stream.")
    shared_at: UtcDateTime
    revoked_at: UtcDateTime | None = None
    caption: str | None = None
    preset: PlatformPreset
    warnings: list[str] = Field(
        default_factory=list, description="Where the video or caption does not fit the platform."
    )


class ShareList(Schema):
    items: list[ShareOut]
    next_cursor: str | None = None


class PublicVideo(Schema):
    """What anyone with the link may see: never the owner, prompt or internal fields."""

    slug: str
    title: str
    description: str | None
    aspect_ratio: str
    resolution: str
    duration_seconds: int
    platform: str | None
    stream_url: str = Field(
        description="Opaque URL of the video on this API: answers 302 to a short-lived URL of "
        "the media (follow redirects); it never names the owner or the storage key."
    )
    stream_url_expires_in: int = Field(
        description="Seconds the redirect's target stays valid; the stream_url itself works "
        "as long as the share link does."
    )
    thumbnail_url: str | None = Field(
        description="Opaque URL of the thumbnail (302 like stream_url), or null."
    )
    view_count: int
    published_at: UtcDateTime | None


class PublicEventIn(Schema):
    """POST /v1/public/videos/{slug}/events."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_type": "View",
                    "session_id": "s_7f3a9c2e41d84b6b",
                    "duration_seconds": 12,
                    "platform": "TikTok",
                    "referrer": "https://www.tiktok.example.com/@lumenlamps",
                }
            ]
        },
    )

    event_type: Literal["View", "Download", "Share", "Like"]
    session_id: Annotated[str, StringConstraints(min_length=8, max_length=255)] | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=86_400)] | None = None
    platform: Annotated[str, StringConstraints(max_length=50)] | None = None
    referrer: Annotated[str, StringConstraints(max_length=500)] | None = None


class PublicEventAccepted(Schema):
    status: Literal["accepted"] = "accepted"
