"""Response models of /v1/analytics/* and /v1/me/usage."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Interval = Literal["day", "week"]


class Totals(BaseModel):
    """Counted events (humans, views deduplicated per session per 30 minutes)."""

    views: int = 0
    downloads: int = 0
    shares: int = 0
    likes: int = 0
    bot_events: int = Field(0, description="Recorded crawler events, never counted.")
    raw_events: int = Field(0, description="Every recorded event, counted or not.")
    watch_seconds: int = 0
    avg_watch_seconds: float | None = None


class SeriesPoint(BaseModel):
    period_start: date
    views: int = 0
    downloads: int = 0
    shares: int = 0
    likes: int = 0


class TopItem(BaseModel):
    value: str
    views: int


class TopVideo(BaseModel):
    video_id: uuid.UUID
    title: str
    views: int


class Report(BaseModel):
    scope: Literal["video", "own", "all"]
    video_id: uuid.UUID | None = None
    date_from: date
    date_to: date
    interval: Interval
    totals: Totals
    series: list[SeriesPoint]
    top_platforms: list[TopItem]
    top_countries: list[TopItem]
    top_devices: list[TopItem]
    top_videos: list[TopVideo] = Field(default_factory=list)


class EndpointUsage(BaseModel):
    endpoint: str
    method: str
    requests: int
    errors: int
    avg_response_ms: float | None


class LimitState(BaseModel):
    name: str
    limit: int
    window_seconds: int
    used: int
    remaining: int
    resets_at: datetime


class UsageOut(BaseModel):
    plan: str | None
    since: datetime
    requests: int
    errors: int
    rate_limited: int
    endpoints: list[EndpointUsage]
    limits: list[LimitState]
