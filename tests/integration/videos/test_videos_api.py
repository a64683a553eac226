"""The videos API through the real handler: creation rules, library, ownership, credits."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from ecomvideo.enums import VideoStatus
from ecomvideo.models import Video, VideoTag, VideoTemplate
from ecomvideo.services import credits
from tests.support.factories import make_grant, make_subscription, make_user, make_video, plan_named
from tests.support.pipeline_stack import call

TEXT = {
    "input_type": "Text",
    "text_prompt": "Bright sneakers on a beach",
    "title": "Sneakers",
    "duration_seconds": 5,
    "aspect_ratio": "9:16",
    "resolution": "180x320",
}


def test_text_video_is_accepted_with_its_cost_held_and_an_execution_started(session, stack):
    user = make_user(session)
    make_grant(session, user, 10)

    status, body, headers = call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT)

    assert status == 202, body
    assert body["status"] == "Pending" and body["cost"] == 1
    assert headers["Location"] == f"/v1/videos/{body['id']}"
    assert credits.balance(session, user.id) == 9
    assert stack.execution(body["id"])["status"] in {"RUNNING", "SUCCEEDED"}
    video = session.get(Video, uuid.UUID(body["id"]))
    assert (video.resolution, video.aspect_ratio, video.ai_provider) == ("180x320", "9:16", "Local")


def test_a_nul_character_in_a_title_is_422_and_nothing_is_held(session, stack):
    user = make_user(session)
    make_grant(session, user, 10)

    body = {**TEXT, "title": "Sneakers\u0000"}
    status, problem, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)

    assert status == 422, problem
    assert credits.balance(session, user.id) == 10
    assert session.scalars(select(Video).where(Video.user_id == user.id)).all() == []


def test_quote_prices_without_creating_anything(session, stack):
    user = make_user(session)
    make_subscription(session, user, subscription_plan_id=plan_named(session, "Pro").id)
    make_grant(session, user, 7)

    status, body, _ = call(
        "videos",
        "POST",
        "/v1/videos/quote",
        user_id=user.id,
        body={**TEXT, "duration_seconds": 12, "resolution": "1080p"},
    )

    assert status == 200, body
    storyboard = body.pop("storyboard")
    assert storyboard["duration_seconds"] == 12
    kinds = [scene["kind"] for scene in storyboard["scenes"]]
    assert kinds[0] == "hook" and kinds[-1] == "cta" and len(set(kinds)) >= 2
    assert body == {
        "cost": 3,
        "balance": 7,
        "duration_seconds": 12,
        "resolution": "1080x1920",
        "aspect_ratio": "9:16",
        "formats": ["9:16"],
        "provider": "Local",
    }
    assert session.scalar(select(Video).where(Video.user_id == user.id)) is None


def test_same_idempotency_key_returns_the_same_video_and_holds_once(session, stack):
    user = make_user(session)
    make_grant(session, user, 10)
    headers = {"Idempotency-Key": "abc-123"}

    first = call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT, headers=headers)
    second = call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT, headers=headers)
    other = call(
        "videos",
        "POST",
        "/v1/videos",
        user_id=user.id,
        body={**TEXT, "title": "Other"},
        headers=headers,
    )

    assert first[0] == second[0] == 202
    assert first[1]["id"] == second[1]["id"]
    assert second[2].get("Idempotent-Replayed") == "true"
    assert other[0] == 422
    assert credits.balance(session, user.id) == 9
    assert len(session.scalars(select(Video).where(Video.user_id == user.id)).all()) == 1


@pytest.mark.parametrize(
    ("overrides", "limit"),
    [
        ({"duration_seconds": 10}, "max_video_duration"),
        ({"resolution": "1080x1920"}, "max_resolution"),
    ],
)
def test_free_plan_limits_are_403_naming_the_limit(session, stack, overrides, limit):
    user = make_user(session)
    make_grant(session, user, 10)

    status, body, _ = call(
        "videos", "POST", "/v1/videos", user_id=user.id, body={**TEXT, **overrides}
    )

    assert status == 403
    assert body["limit"] == limit
    assert credits.balance(session, user.id) == 10


def test_premium_template_needs_a_plan_with_premium_templates(session, stack):
    user = make_user(session)
    make_grant(session, user, 10)
    premium = session.scalar(select(VideoTemplate).where(VideoTemplate.is_premium.is_(True)))
    body = {
        "input_type": "Text",
        "template_id": str(premium.id),
        "variables": {"product_name": "Watch"},
        "resolution": "180x320",
        "duration_seconds": 5,
    }

    status, problem, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
    assert (status, problem["limit"]) == (403, "premium_templates")

    make_subscription(session, user, subscription_plan_id=plan_named(session, "Pro").id)
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
    assert status == 202, accepted
    video = session.get(Video, uuid.UUID(accepted["id"]))
    assert "Luxury reveal of Watch" in video.text_prompt
    assert video.title == "Watch"


def test_template_variables_missing_are_listed_in_a_422(session, stack):
    user = make_user(session)
    make_grant(session, user, 10)
    template = session.scalar(select(VideoTemplate).where(VideoTemplate.name == "Flash Sale"))

    status, body, _ = call(
        "videos",
        "POST",
        "/v1/videos",
        user_id=user.id,
        body={
            "input_type": "Text",
            "template_id": str(template.id),
            "variables": {"product_name": "Mug {price}"},
            "resolution": "180x320",
        },
    )

    assert status == 422
    assert {e["pointer"] for e in body["errors"]} == {"/variables/discount", "/variables/price"}


def test_resolution_must_match_the_aspect_ratio(session, stack):
    user = make_user(session)
    make_grant(session, user, 10)

    status, body, _ = call(
        "videos",
        "POST",
        "/v1/videos",
        user_id=user.id,
        body={**TEXT, "aspect_ratio": "1:1", "resolution": "180x320"},
    )

    assert status == 422
    assert body["errors"][0]["pointer"] == "/resolution"


def test_not_enough_credits_is_402_with_balance_and_cost(session, stack):
    user = make_user(session)

    status, body, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT)

    assert status == 402
    assert (body["balance"], body["cost"]) == (0, 1)
    assert session.scalar(select(Video).where(Video.user_id == user.id)) is None


def test_failed_start_execution_marks_failed_and_releases(session, stack, monkeypatch):
    user = make_user(session)
    make_grant(session, user, 3)
    monkeypatch.setenv("STATE_MACHINE_ARN", stack.state_machine_arn + "-missing")
    from ecomvideo.settings import reset_settings

    reset_settings()
    status, body, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT)

    assert status == 202 and body["status"] == "Failed"
    video = session.get(Video, uuid.UUID(body["id"]))
    assert video.status is VideoStatus.FAILED and "could not be started" in video.error_message
    assert credits.balance(session, user.id) == 3
    assert credits.held_amount(session, video.id) == 0


def test_image_input_needs_an_upload_of_the_user(session, stack):
    user = make_user(session)
    make_grant(session, user, 10)
    status, ticket, _ = call(
        "videos",
        "POST",
        "/v1/uploads",
        user_id=user.id,
        body={"content_type": "image/png", "size_bytes": 1234},
    )
    assert status == 201, ticket
    assert ticket["upload_key"].startswith(f"users/{user.id}/")
    image = {"input_type": "Image", "resolution": "180x320", "duration_seconds": 2}

    missing = call(
        "videos",
        "POST",
        "/v1/videos",
        user_id=user.id,
        body={**image, "upload_key": ticket["upload_key"]},
    )
    foreign = call(
        "videos",
        "POST",
        "/v1/videos",
        user_id=user.id,
        body={**image, "upload_key": f"users/{uuid.uuid4()}/x.png"},
    )
    stack.s3.put_object(
        Bucket=stack.uploads_bucket,
        Key=ticket["upload_key"],
        Body=b"x" * 1234,
        ContentType="image/png",
    )
    ok = call(
        "videos",
        "POST",
        "/v1/videos",
        user_id=user.id,
        body={**image, "upload_key": ticket["upload_key"]},
    )

    assert missing[0] == 422 and foreign[0] == 422
    assert ok[0] == 202, ok[1]
    assert session.get(Video, uuid.UUID(ok[1]["id"])).image_url == (
        f"s3://{stack.uploads_bucket}/{ticket['upload_key']}"
    )


def test_upload_rejects_big_files_and_other_types(session, stack):
    user = make_user(session)
    big = call(
        "videos",
        "POST",
        "/v1/uploads",
        user_id=user.id,
        body={"content_type": "image/png", "size_bytes": 50_000_000},
    )
    gif = call(
        "videos",
        "POST",
        "/v1/uploads",
        user_id=user.id,
        body={"content_type": "image/gif", "size_bytes": 10},
    )
    assert big[0] == 422 and gif[0] == 422


def test_another_users_video_is_404_on_every_route(session, stack):
    owner, intruder = make_user(session), make_user(session)
    video = make_video(session, owner, status=VideoStatus.FAILED)
    base = f"/v1/videos/{video.id}"
    routes = [
        ("GET", base, None),
        ("PATCH", base, {"title": "Mine"}),
        ("DELETE", base, None),
        ("POST", f"{base}/cancel", None),
        ("POST", f"{base}/retry", None),
        ("GET", f"{base}/download", None),
    ]
    for method, path, body in routes:
        status, problem, _ = call("videos", method, path, user_id=intruder.id, body=body)
        assert status == 404, (method, path, problem)
    session.refresh(video)
    assert video.title == "Summer sneakers" and video.status is VideoStatus.FAILED

    admin_view = call("videos", "GET", base, user_id=intruder.id, roles=("Admin",))
    assert admin_view[0] == 200


def test_list_is_keyset_paginated_and_filtered(session, stack):
    user, other = make_user(session), make_user(session)
    for i in range(5):
        make_video(session, user, title=f"Blue mug {i}", status=VideoStatus.COMPLETED)
    make_video(session, user, title="Red shoe", status=VideoStatus.FAILED)
    make_video(session, other, title="Blue mug of someone else")

    first = call("videos", "GET", "/v1/videos", user_id=user.id, query="limit=4")
    second = call(
        "videos",
        "GET",
        "/v1/videos",
        user_id=user.id,
        query=f"limit=4&cursor={first[1]['next_cursor']}",
    )
    search = call(
        "videos", "GET", "/v1/videos", user_id=user.id, query="q=blue%20MUG&status=Completed"
    )
    failed = call("videos", "GET", "/v1/videos", user_id=user.id, query="status=Failed")

    ids = [v["id"] for v in first[1]["items"] + second[1]["items"]]
    assert len(ids) == len(set(ids)) == 6 and second[1]["next_cursor"] is None
    assert len(search[1]["items"]) == 5
    assert [v["title"] for v in failed[1]["items"]] == ["Red shoe"]


def test_tag_counts_follow_tagging_retagging_and_deletion(session, stack):
    user = make_user(session)
    video = make_video(session, user, status=VideoStatus.COMPLETED)
    video_id, user_id = video.id, user.id

    def count(name: str) -> int:
        session.expire_all()
        tag = session.scalar(select(VideoTag).where(VideoTag.name == name))
        return tag.usage_count if tag else 0

    path = f"/v1/videos/{video.id}"
    assert (
        call(
            "videos",
            "PATCH",
            path,
            user_id=user.id,
            body={"tags": ["Summer", "sale"]},
        )[0]
        == 200
    )
    assert (count("summer"), count("sale")) == (1, 1)
    patched = call("videos", "PATCH", path, user_id=user.id, body={"tags": ["sale", "new"]})
    assert sorted(patched[1]["tags"]) == ["new", "sale"]
    assert (count("summer"), count("sale"), count("new")) == (0, 1, 1)
    assert call("videos", "DELETE", path, user_id=user.id)[0] == 204
    assert (count("sale"), count("new")) == (0, 0)
    session.expunge_all()
    assert session.get(Video, video_id) is None

    tagged = call("videos", "GET", "/v1/videos", user_id=user_id, query="tag=sale")
    assert tagged[1]["items"] == []


def test_credits_show_the_balance_and_movements_and_the_grants_behind_them(session, stack):
    user = make_user(session)
    make_grant(session, user, 4)
    call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT)

    status, body, _ = call("videos", "GET", "/v1/credits", user_id=user.id)
    listed, grants, _ = call("videos", "GET", "/v1/credits/grants", user_id=user.id)

    assert status == listed == 200
    assert body["balance"] == 3
    assert [m["kind"] for m in body["movements"]] == ["Hold"]
    assert [(g["amount"], g["used_amount"], g["remaining"]) for g in grants["items"]] == [(4, 1, 3)]
    assert grants["next_cursor"] is None


def test_credit_grants_page_by_cursor_newest_first_without_gaps_or_repeats(session, stack):
    from datetime import timedelta

    from ecomvideo import clock

    user, other = make_user(session), make_user(session)
    start = clock.utcnow() - timedelta(days=10)
    made = [make_grant(session, user, n + 1, created_at=start + timedelta(n)) for n in range(5)]
    make_grant(session, other, 9)
    # Two grants in the same instant: the id breaks the tie, neither is skipped.
    made.append(make_grant(session, user, 7, created_at=made[-1].created_at))

    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, body, headers = call(
            "videos", "GET", "/v1/credits/grants", user_id=user.id, query=query
        )
        assert status == 200 and len(body["items"]) <= 2
        seen += [g["id"] for g in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert 'rel="next"' in {k.lower(): v for k, v in headers.items()}["link"]

    newest_first = sorted(made, key=lambda g: (g.created_at, str(g.id)), reverse=True)
    assert seen == [str(g.id) for g in newest_first]


def test_credit_movements_page_by_cursor_without_gaps_or_repeats(session, stack):
    user = make_user(session)
    make_grant(session, user, 6)
    for _ in range(3):
        assert call("videos", "POST", "/v1/videos", user_id=user.id, body=TEXT)[0] == 202
    everything = call("videos", "GET", "/v1/credits", user_id=user.id, query="limit=100")[1]

    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, body, headers = call("videos", "GET", "/v1/credits", user_id=user.id, query=query)
        assert status == 200 and len(body["movements"]) <= 2
        assert body["balance"] == everything["balance"]  # every page carries the summary
        seen += [m["id"] for m in body["movements"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert 'rel="next"' in {k.lower(): v for k, v in headers.items()}["link"]

    assert pages >= 2
    assert seen == [m["id"] for m in everything["movements"]] and len(set(seen)) == len(seen)


def test_unauthenticated_calls_are_401(stack):
    status, body, _ = call("videos", "GET", "/v1/videos", user_id=None)
    assert status == 401
    assert json.dumps(body)


def test_progress_follows_the_running_step_and_the_providers_progress_and_hints_when_to_poll(
    session, stack
):
    from ecomvideo.models.pipeline import PipelineStep
    from ecomvideo.services import pipeline

    user = make_user(session)
    video = make_video(session, user, status=VideoStatus.GENERATING_VIDEO)
    session.add(
        PipelineStep(
            video_id=video.id, attempt=1, step=pipeline.VIDEO, state=pipeline.StepState.STARTED
        )
    )
    session.commit()

    def read() -> tuple[int, dict, dict]:
        status, body, headers = call("videos", "GET", f"/v1/videos/{video.id}", user_id=user.id)
        assert status == 200
        return body["progress_percent"], body, headers

    before, body, headers = read()
    assert (before, body["progress_step"]) == (60, "GenerateVideo")
    assert body["poll_after_seconds"] == 10 and headers["Retry-After"] == "10"

    key = (video.id, 1, pipeline.VIDEO)
    pipeline.record_provider_progress(key, 50)
    halfway = read()[0]
    pipeline.record_provider_progress(key, 20)  # a late, lower report never moves it back
    assert before < halfway == read()[0] < 95

    video.status = VideoStatus.COMPLETED
    session.commit()
    done, body, headers = read()
    assert done == 100 and body["poll_after_seconds"] is None and "Retry-After" not in headers


def test_progress_percent_never_decreases_along_the_pipeline():
    from ecomvideo.services.pipeline import FINALIZE, IMAGE, SCRAPE, VIDEO, progress_percent

    path = [(VideoStatus.PENDING, None, None), (VideoStatus.PROCESSING, SCRAPE, None)]
    path += [(VideoStatus.GENERATING_IMAGE, IMAGE, p) for p in (None, 5, 50, 100)]
    path += [(VideoStatus.GENERATING_VIDEO, VIDEO, p) for p in (None, 5, 50, 99, 100)]
    path += [(VideoStatus.GENERATING_VIDEO, FINALIZE, None), (VideoStatus.COMPLETED, None, None)]
    values = [progress_percent(*point) for point in path]
    assert values == sorted(values) and values[0] == 0 and values[-1] == 100
    assert all(v < 100 for v in values[:-1])


def test_download_of_a_rendered_format_is_counted_and_redirects_to_that_file(session, stack):
    user = make_user(session)
    main_uri, square_uri = "s3://videos/u/v/video.mp4", "s3://videos/u/v/video-1x1.mp4"
    video = make_video(
        session,
        user,
        status=VideoStatus.COMPLETED,
        video_url=main_uri,
        meta={
            "formats": [
                {"aspectRatio": "9:16", "videoUrl": main_uri},
                {"aspectRatio": "1:1", "videoUrl": square_uri},
            ]
        },
    )
    base = f"/v1/videos/{video.id}/download"

    status, _, headers = call("videos", "GET", base, user_id=user.id, query="format=1:1")
    assert status == 302
    assert "/u/v/video-1x1.mp4" in headers["Location"]
    assert "video-1x1.mp4" not in call("videos", "GET", base, user_id=user.id)[2]["Location"]

    status, problem, _ = call("videos", "GET", base, user_id=user.id, query="format=16:9")
    assert status == 404 and "16:9" in problem["detail"]
    status, problem, _ = call("videos", "GET", base, user_id=user.id, query="format=2:1")
    assert status == 422
    session.expire_all()
    assert session.get(Video, video.id).download_count == 2  # the 404 rolled its count back
