"""The hourly video-creation limit applies to the creation routes, found by route template."""

from __future__ import annotations

from ecomvideo.services import system_settings
from tests.integration.videos.test_videos_api import TEXT
from tests.support.factories import make_grant, make_user
from tests.support.pipeline_stack import call
from tests.support.ratelimit_fields import rate_limits


def test_creations_beyond_the_hourly_limit_are_429_while_reads_still_pass(session, stack):
    plans = {"Free": {"requests_per_minute": 100, "video_creations_per_hour": 2}}
    system_settings.update(session, "ratelimit.plans", plans, updated_by="t", data_type="json")
    system_settings.clear_cache()
    user = make_user(session)
    make_grant(session, user, 10)
    try:
        created = [call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT) for _ in "abc"]
        read, _, headers = call("videos", "GET", "/v1/videos", user_id=user.id)
    finally:
        system_settings.clear_cache()

    assert [status for status, _, _ in created] == [202, 202, 429]
    # A creation reports both windows it counted in; the third found video-creations spent.
    first = rate_limits(created[0][2])
    assert (first["requests"]["q"], first["requests"]["w"], first["requests"]["r"]) == (100, 60, 99)
    assert (first["video-creations"]["q"], first["video-creations"]["w"]) == (2, 3600)
    assert first["video-creations"]["r"] == 1
    assert rate_limits(created[2][2])["video-creations"]["r"] == 0
    # Reads count toward the per-minute window only: 4 of 100 used.
    assert read == 200 and rate_limits(headers) == {
        "requests": {"q": 100, "w": 60, "r": 96, "t": rate_limits(headers)["requests"]["t"]}
    }
