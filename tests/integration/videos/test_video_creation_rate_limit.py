"""The hourly video-creation limit applies to the creation routes, found by route template."""

from __future__ import annotations

from ecomvideo.services import system_settings
from tests.integration.videos.test_videos_api import TEXT
from tests.support.factories import make_grant, make_user
from tests.support.pipeline_stack import call


def test_creations_beyond_the_hourly_limit_are_429_while_reads_still_pass(session, stack):
    plans = {"Free": {"requests_per_minute": 100, "video_creations_per_hour": 2}}
    system_settings.update(session, "ratelimit.plans", plans, updated_by="t", data_type="json")
    system_settings.clear_cache()
    user = make_user(session)
    make_grant(session, user, 10)
    try:
        statuses = [
            call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT)[0] for _ in range(3)
        ]
        read, _, headers = call("videos", "GET", "/v1/videos", user_id=user.id)
    finally:
        system_settings.clear_cache()

    assert statuses == [202, 202, 429]
    # Reads only count toward the per-minute window: 4 of 100 used.
    assert read == 200 and headers["RateLimit-Remaining"] == "96"
