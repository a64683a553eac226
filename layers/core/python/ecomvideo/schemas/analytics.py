"""Response models of /v1/analytics/* and /v1/me/usage."""

import uuid
from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field

from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.fields import UtcDateTime, bounded_list

Interval = Literal["day", "week"]


class Totals(Schema):
    """Counted events (humans, views deduplicated per session per 30 minutes)."""

    views: int = 0
    downloads: int = 0
    shares: int = 0
    likes: int = 0
    bot_events: int = Field(0, description="Recorded crawler events, never counted.")
    raw_events: int = Field(0, description="Every recorded event, counted or not.")
    watch_seconds: int = 0
    avg_watch_seconds: float | None = None


class SeriesPoint(Schema):
    period_start: date
    views: int = 0
    downloads: int = 0
    shares: int = 0
    likes: int = 0


class TopItem(Schema):
    value: str
    views: int


class TopVideo(Schema):
    video_id: uuid.UUID
    title: str
    views: int


_TOP = bounded_list("the top N: the `top` parameter, at most 50")


class Report(Schema):
    scope: Literal["video", "own", "all"]
    video_id: uuid.UUID | None = None
    date_from: date
    date_to: date
    interval: Interval
    totals: Totals
    series: list[SeriesPoint] = Field(
        json_schema_extra=bounded_list("one point per interval of a range of at most 731 days")
    )
    top_platforms: list[TopItem] = Field(json_schema_extra=_TOP)
    top_countries: list[TopItem] = Field(json_schema_extra=_TOP)
    top_devices: list[TopItem] = Field(json_schema_extra=_TOP)
    top_videos: list[TopVideo] = Field(default_factory=list, json_schema_extra=_TOP)


class EndpointUsage(Schema):
    endpoint: str
    method: str
    requests: int
    errors: int
    avg_response_ms: float | None


class LimitState(Schema):
    name: str
    limit: int
    window_seconds: int
    used: int
    remaining: int
    resets_at: UtcDateTime


class UsageOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan": "Pro",
                    "since": "2026-11-01T00:00:00Z",
                    "requests": 412,
                    "errors": 3,
                    "rate_limited": 0,
                    "endpoints": [
                        {
                            "endpoint": "/v1/videos",
                            "method": "POST",
                            "requests": 38,
                            "errors": 1,
                            "avg_response_ms": 184.5,
                        },
                        {
                            "endpoint": "/v1/products/scrape",
                            "method": "POST",
                            "requests": 21,
                            "errors": 2,
                            "avg_response_ms": 96.0,
                        },
                    ],
                    "limits": [
                        {
                            "name": "video_creations_per_hour",
                            "limit": 30,
                            "window_seconds": 3600,
                            "used": 4,
                            "remaining": 26,
                            "resets_at": "2026-11-20T15:00:00Z",
                        }
                    ],
                }
            ]
        }
    )

    plan: str | None
    since: UtcDateTime
    requests: int
    errors: int
    rate_limited: int
    endpoints: list[EndpointUsage] = Field(
        json_schema_extra=bounded_list("the 20 most used endpoints")
    )
    limits: list[LimitState] = Field(json_schema_extra=bounded_list("one per limit window"))
