"""Share links and public access through the real sharing and public handlers."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ecomvideo.enums import VideoStatus
from ecomvideo.models import Video, VideoShare
from tests.support.engagement import api, completed_video, token_for
from tests.support.factories import make_user, make_video


def _share(client, video_id, token, platform="TikTok", **extra):
    body = {"platform": platform, **extra}
    return client.call("sharing", "POST", f"/v1/videos/{video_id}/shares", body, token=token)


def test_share_link_round_trip(session, jwt_env):
    # Given a completed private video of its owner
    owner = make_user(session)
    video = completed_video(session, owner, title="Red sneakers", aspect_ratio="9:16")
    client = api()
    token = token_for(owner.id)

    # When the owner shares it on TikTok
    created = _share(client, video.id, token, caption="Fresh drop #sneakers")
    assert created.status == 201, created.body
    share = created.json()
    assert share["platform"] == "TikTok"
    assert len(share["slug"]) >= 20
    assert share["share_url"] == f"https://app.ecomvideo.test/s/{share['slug']}"
    assert share["preset"]["recommended_aspect_ratio"] == "9:16"
    assert share["preset"]["safe_zone"]["bottom_pct"] > 0
    assert share["warnings"] == []
    assert created.headers["Location"] == f"/v1/public/videos/{share['slug']}"

    # Then anyone without a token can open the link and stream the video
    public = client.call("public", "GET", share["public_api_url"])
    assert public.status == 200, public.body
    page = public.json()
    assert page["title"] == "Red sneakers"
    assert page["platform"] == "TikTok"
    assert page["stream_url"] == f"/v1/public/videos/{share['slug']}/media/video"
    assert "user_id" not in page and "text_prompt" not in page

    # And the owner sees the share in the list, and the counter moved
    listed = client.call("sharing", "GET", f"/v1/videos/{video.id}/shares", token=token)
    assert [item["slug"] for item in listed.json()["items"]] == [share["slug"]]
    session.expire_all()
    assert session.get(Video, video.id).share_count == 1
    assert session.scalar(select(VideoShare.platform).where(VideoShare.video_id == video.id)) == (
        "TikTok"
    )


def test_preset_warns_when_video_does_not_fit(session, jwt_env):
    owner = make_user(session)
    video = completed_video(session, owner, aspect_ratio="16:9", duration_seconds=200)
    response = _share(api(), video.id, token_for(owner.id), platform="X", caption="x" * 300)
    assert response.status == 201, response.body
    body = response.json()
    assert body["platform"] == "Twitter/X"
    warnings = " ".join(body["warnings"])
    assert "140 s" in warnings and "280 characters" in warnings
    response = _share(api(), video.id, token_for(owner.id), platform="Instagram")
    assert any("9:16" in w for w in response.json()["warnings"])


def test_private_video_is_not_reachable_publicly(session, jwt_env):
    owner = make_user(session)
    private = completed_video(session, owner, is_public=False)
    public = completed_video(session, owner, is_public=True, title="Public one")
    pending_public = make_video(session, owner, is_public=True, status=VideoStatus.PENDING)
    client = api()

    not_found = [
        client.call("public", "GET", f"/v1/public/videos/{private.id}"),
        client.call("public", "GET", f"/v1/public/videos/{pending_public.id}"),
        client.call("public", "GET", f"/v1/public/videos/{uuid.uuid4()}"),
        client.call("public", "GET", "/v1/public/videos/not-a-real-slug-000000"),
        client.call(
            "public", "POST", f"/v1/public/videos/{private.id}/events", {"event_type": "View"}
        ),
    ]
    assert [r.status for r in not_found] == [404] * 5
    # Identical bodies: nothing distinguishes "private" from "does not exist".
    details = {r.json()["detail"] for r in not_found}
    assert details == {"No such video."}
    assert all(private.title not in r.body for r in not_found)
    session.expire_all()
    assert session.get(Video, private.id).view_count == 0

    # A public video is reachable by its id
    ok = client.call("public", "GET", f"/v1/public/videos/{public.id}")
    assert ok.status == 200 and ok.json()["title"] == "Public one"


def test_revoked_link_stops_working_and_others_cannot_share(session, jwt_env):
    owner, stranger = make_user(session), make_user(session)
    video = completed_video(session, owner)
    client = api()
    share = _share(client, video.id, token_for(owner.id)).json()

    # A stranger can neither share nor list nor revoke the video: plain 404
    assert _share(client, video.id, token_for(stranger.id)).status == 404
    listed = client.call(
        "sharing", "GET", f"/v1/videos/{video.id}/shares", token=token_for(stranger.id)
    )
    assert listed.status == 404
    path = f"/v1/videos/{video.id}/shares/{share['id']}"
    assert client.call("sharing", "DELETE", path, token=token_for(stranger.id)).status == 404

    assert client.call("sharing", "DELETE", path, token=token_for(owner.id)).status == 204
    assert client.call("public", "GET", share["public_api_url"]).status == 404


def test_only_completed_videos_can_be_shared(session, jwt_env):
    owner = make_user(session)
    video = make_video(session, owner, status=VideoStatus.GENERATING_VIDEO)
    response = _share(api(), video.id, token_for(owner.id))
    assert response.status == 409
    bad = _share(api(), video.id, token_for(owner.id), platform="MySpace")
    assert bad.status == 422
