"""Public media behind opaque URLs: no public response names the owner or a storage key."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import boto3
import pytest

from tests.support.engagement import api, completed_video, token_for
from tests.support.factories import make_user
from tests.support.scheduled import invoke_scheduled

BUCKET = "ecomvideo-videos-local"  # the settings' default videos bucket


@pytest.fixture
def shared(session, jwt_env, aws):
    """A completed video of an owner whose media sit under ``users/<owner>/``, shared once."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    owner = make_user(session)
    video_id = uuid.uuid4()
    base = f"users/{owner.id}/videos/{video_id}"
    s3.put_object(
        Bucket=BUCKET, Key=f"{base}/video.mp4", Body=b"mp4-bytes", ContentType="video/mp4"
    )
    s3.put_object(Bucket=BUCKET, Key=f"{base}/thumb.jpg", Body=b"jpg-bytes")
    video = completed_video(
        session,
        owner,
        id=video_id,
        video_url=f"s3://{BUCKET}/{base}/video.mp4",
        thumbnail_url=f"s3://{BUCKET}/{base}/thumb.jpg",
    )
    client = api()
    token = token_for(owner.id)
    created = client.call(
        "sharing", "POST", f"/v1/videos/{video.id}/shares", {"platform": "TikTok"}, token=token
    )
    assert created.status == 201, created.body
    return {"s3": s3, "owner": owner, "video": video, "client": client, "token": token,
            "slug": created.json()["slug"]}  # fmt: skip


def _object_key(location: str) -> str:
    return urlsplit(location).path.split(f"/{BUCKET}/", 1)[-1].lstrip("/")


def test_public_responses_never_name_the_owner_or_the_storage_key(shared):
    client, slug, owner = shared["client"], shared["slug"], shared["owner"]
    page = client.call("public", "GET", f"/v1/public/videos/{slug}")
    assert page.status == 200, page.body
    body = page.json()
    assert body["stream_url"] == f"/v1/public/videos/{slug}/media/video"
    assert body["thumbnail_url"] == f"/v1/public/videos/{slug}/media/thumbnail"

    responses = [page]
    for kind, content in (("video", b"mp4-bytes"), ("thumbnail", b"jpg-bytes")):
        media = client.call("public", "GET", f"/v1/public/videos/{slug}/media/{kind}")
        assert media.status == 302, media.body
        key = _object_key(media.headers["Location"])
        assert key.startswith("public/") and key.endswith(".mp4" if kind == "video" else ".jpg")
        assert "X-Amz-Expires=300" in media.headers["Location"]
        # The redirect leads to a copy of the real media
        assert shared["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read() == content
        responses.append(media)
    event = {"event_type": "View", "session_id": "session-0001"}
    responses.append(client.call("public", "POST", f"/v1/public/videos/{slug}/events", event))
    responses.append(client.call("public", "GET", f"/v1/public/videos/{slug}/media/original"))
    assert responses[-1].status == 404

    for response in responses:
        text = response.body + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        assert str(owner.id) not in text and owner.id.hex not in text
        assert "users/" not in text


def test_the_copy_is_made_once_and_the_same_key_serves_every_view(shared):
    client, slug = shared["client"], shared["slug"]
    first = client.call("public", "GET", f"/v1/public/videos/{slug}/media/video")
    second = client.call("public", "GET", f"/v1/public/videos/{slug}/media/video")
    assert _object_key(first.headers["Location"]) == _object_key(second.headers["Location"])
    listed = shared["s3"].list_objects_v2(Bucket=BUCKET, Prefix="public/")
    assert [o["Key"] for o in listed["Contents"]] == [_object_key(first.headers["Location"])]


def test_a_revoked_link_answers_the_media_route_404(shared):
    client, slug, video = shared["client"], shared["slug"], shared["video"]
    listed = client.call("sharing", "GET", f"/v1/videos/{video.id}/shares", token=shared["token"])
    share_id = listed.json()["items"][0]["id"]
    revoked = client.call(
        "sharing", "DELETE", f"/v1/videos/{video.id}/shares/{share_id}", token=shared["token"]
    )
    assert revoked.status == 204, revoked.body
    gone = client.call("public", "GET", f"/v1/public/videos/{slug}/media/video")
    assert gone.status == 404 and gone.content_type == "application/problem+json"


def test_deleting_the_video_deletes_its_files_and_public_copies(shared):
    client, slug, video, s3 = shared["client"], shared["slug"], shared["video"], shared["s3"]
    client.call("public", "GET", f"/v1/public/videos/{slug}/media/video")
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="public/")["KeyCount"] == 1
    deleted = client.call("videos", "DELETE", f"/v1/videos/{video.id}", token=shared["token"])
    assert deleted.status == 204, deleted.body

    # Queued with the deletion (media.purge); the files go when the jobs worker runs.
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 3
    run = invoke_scheduled("jobs_worker", {"batch_size": 10, "max_jobs": 10}, timeout_s=120)
    assert run["failed"] == 0
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
