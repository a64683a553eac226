"""Storyboards through the real handlers: plan, edit, confirm, render every scene, charge once.

moto runs the real state machine; the real worker handler renders with the real Local provider.
"""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import av
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from ecomvideo.enums import ScrapingStatus, VideoStatus
from ecomvideo.models import CreditMovement, ProductData, ProductImage, Video
from ecomvideo.services import credits
from tests.support.factories import make_grant, make_user, make_video
from tests.support.pipeline_stack import PipelineStack, call


def _video(session, video_id) -> Video:
    session.expire_all()
    return session.get(Video, uuid.UUID(str(video_id)))


def _upload(stack: PipelineStack, user_id, name: str = "bag", colour=(200, 40, 90)) -> str:
    img = Image.new("RGB", (400, 300), (235, 235, 235))
    ImageDraw.Draw(img).ellipse((120, 60, 280, 240), fill=colour)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    key = f"users/{user_id}/{name}.png"
    stack.s3.put_object(
        Bucket=stack.uploads_bucket, Key=key, Body=buffer.getvalue(), ContentType="image/png"
    )
    return key


def _draft(user_id, key: str, more: list[str] = ()) -> dict:
    body = {
        "input_type": "Image",
        "upload_key": key,
        "more_upload_keys": list(more),
        "title": "Red bag",
        "text_prompt": "Red leather bag, handmade in Italy, fits a 13 inch laptop, only $89",
        "duration_seconds": 5,
        "aspect_ratio": "9:16",
        "resolution": "180x320",
        "auto_render": False,
    }
    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user_id, body=body)
    assert status == 202, accepted
    return accepted


def test_a_draft_is_planned_edited_confirmed_rendered_scene_by_scene_and_charged_once(
    session, stack: PipelineStack
):
    user = make_user(session)
    make_grant(session, user, 10)
    more = [
        _upload(stack, user.id, f"bag-{i}", colour)
        for i, colour in enumerate([(40, 160, 60), (30, 90, 200), (230, 180, 20)])
    ]
    accepted = _draft(user.id, _upload(stack, user.id), more)
    base = f"/v1/videos/{accepted['id']}"
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
    assert stack.receive() == []  # nothing runs before the confirmation

    status, plan, _ = call("videos", "GET", f"{base}/storyboard", user_id=user.id)
    assert status == 200, plan
    kinds = [s["kind"] for s in plan["scenes"]]
    assert len(set(kinds)) >= 3 and kinds[0] == "hook" and kinds[-1] == "cta"
    assert plan["duration_seconds"] == 5 and plan["images"][0].endswith("/bag.png")
    assert [i.rsplit("/", 1)[1] for i in plan["images"][1:]] == [k.rsplit("/", 1)[1] for k in more]
    assert len({s["image"] for s in plan["scenes"] if s["image"] is not None}) >= 2
    assert any(s["kind"] == "price" and s["text"] == "$89" for s in plan["scenes"])

    # Reorder (end card stays last), rename the hook, drop nothing: durations still sum to 5.
    ids = [s["id"] for s in plan["scenes"]]
    edit = {"scenes": [{"id": ids[0], "text": "Meet the bag"}, *[{"id": i} for i in ids[1:]]]}
    edit["scenes"][1], edit["scenes"][2] = edit["scenes"][2], edit["scenes"][1]
    status, edited, _ = call("videos", "PATCH", f"{base}/storyboard", user_id=user.id, body=edit)
    assert status == 200, edited
    assert edited["edited"] is True and edited["scenes"][0]["text"] == "Meet the bag"
    order = [s["id"] for s in edited["scenes"]]
    assert order == [e["id"] for e in edit["scenes"]]

    # Listing some scenes edits them in place; the order stays.
    status, partial, _ = call(
        "videos",
        "PATCH",
        f"{base}/storyboard",
        user_id=user.id,
        body={"scenes": [{"id": ids[-1], "subtext": "Free shipping"}]},
    )
    assert status == 200, partial
    assert [s["id"] for s in partial["scenes"]] == order
    assert partial["scenes"][-1]["subtext"] == "Free shipping"
    edited = partial

    too_long = {"scenes": [{"id": ids[0], "duration": 30}, *[{"id": i} for i in ids[1:]]]}
    unknown = {"scenes": [{"id": "s99"}]}
    for bad in (too_long, unknown):
        status, problem, _ = call(
            "videos", "PATCH", f"{base}/storyboard", user_id=user.id, body=bad
        )
        assert status == 422, problem
    assert call("videos", "GET", f"{base}/storyboard", user_id=user.id)[1] == edited

    status, started, headers = call("videos", "POST", f"{base}/render", user_id=user.id)
    assert status == 202 and started["cost"] == accepted["cost"], started
    assert headers["Location"] == f"/v1/videos/{started['id']}" and "Retry-After" in headers
    assert call("videos", "POST", f"{base}/render", user_id=user.id)[0] == 409
    assert call("videos", "PATCH", f"{base}/storyboard", user_id=user.id, body=edit)[0] == 409

    stack.pump(lambda: _video(session, accepted["id"]).status.is_terminal)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    assert [s["id"] for s in video.meta["scenes"]] == order
    assert video.meta["storyboard"]["scenes"][0]["text"] == "Meet the bag"
    assert sum(s["frames"] for s in video.meta["scenes"]) == 150
    status, detail, _ = call("videos", "GET", base, user_id=user.id)
    assert [s["id"] for s in detail["metadata"]["scenes"]] == order
    data = stack.s3.get_object(Bucket=stack.videos_bucket, Key=video.video_url.split("/", 3)[3])[
        "Body"
    ].read()
    with av.open(io.BytesIO(data)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
    kinds_moved = session.scalars(
        select(CreditMovement.kind).where(CreditMovement.video_id == video.id)
    ).all()
    assert sorted(str(k) for k in kinds_moved) == ["Charge", "Hold"]
    assert video.generation_cost_credits == accepted["cost"]


def test_more_uploads_must_be_the_users_own_images(session, stack: PipelineStack):
    user, other = make_user(session), make_user(session)
    make_grant(session, user, 10)
    body = {
        "input_type": "Image",
        "upload_key": _upload(stack, user.id),
        "more_upload_keys": [_upload(stack, other.id)],
        "title": "Red bag",
    }

    status, problem, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)

    assert status == 422 and problem["errors"][0]["pointer"] == "/more_upload_keys", problem
    assert credits.balance(session, user.id) == 10


def test_cancelling_a_draft_releases_its_credits(session, stack: PipelineStack):
    user = make_user(session)
    make_grant(session, user, 10)
    accepted = _draft(user.id, _upload(stack, user.id))

    status, body, _ = call("videos", "POST", f"/v1/videos/{accepted['id']}/cancel", user_id=user.id)

    assert status == 200 and body["status"] == "Cancelled"
    assert credits.balance(session, user.id) == 10


@pytest.fixture
def product(session):
    user = make_user(session)
    row = ProductData(
        user_id=user.id,
        original_url="https://shop.example/products/aurora",
        name="Aurora Smart Lamp",
        description=(
            "Warm dimmable light\n20 hours of battery life\nUSB-C charging\nWorks with the app"
        ),
        price=Decimal("49.99"),
        original_price=Decimal("69.99"),
        currency="USD",
        brand="Lumen",
        rating=Decimal("4.60"),
        review_count=1284,
        main_image_url="https://shop.example/img/1.jpg",
        scraping_status=ScrapingStatus.SUCCESS,
    )
    session.add(row)
    session.flush()
    for i in range(1, 6):
        session.add(
            ProductImage(
                product_data_id=row.id,
                url=f"https://shop.example/img/{i}.jpg",
                is_primary=i == 1,
                sort_order=i,
            )
        )
    session.flush()
    return user, row


def test_a_scraped_product_gets_a_full_storyboard_with_its_photos_price_and_rating(
    session, stack: PipelineStack, product
):
    user, row = product
    video = make_video(
        session,
        user,
        input_type="Url",
        product_data_id=row.id,
        duration_seconds=20,
        meta={"request": {"productUrl": row.original_url}},
    )

    status, plan, _ = call("videos", "GET", f"/v1/videos/{video.id}/storyboard", user_id=user.id)

    assert status == 200, plan
    scenes = plan["scenes"]
    assert len({s["kind"] for s in scenes}) >= 5 and len(scenes) >= 5
    assert plan["images"] == [f"https://shop.example/img/{i}.jpg" for i in range(1, 6)]
    assert len({s["image"] for s in scenes if s["image"] is not None}) >= 4
    price = next(s for s in scenes if s["kind"] == "price")
    assert price["text"] == "$49.99" and price["subtext"] == "-29%  was $69.99"
    proof = next(s for s in scenes if s["kind"] == "social_proof")
    assert "4.6/5" in proof["text"] and proof["subtext"] == "1,284 reviews"
    assert scenes[-1]["layout"] == "end_card" and scenes[-1]["kind"] == "cta"
    assert sum(s["duration"] for s in scenes) == pytest.approx(20)


def test_another_users_storyboard_is_404(session, stack: PipelineStack, product):
    user, row = product
    video = make_video(session, user, product_data_id=row.id)
    intruder = make_user(session)

    status, _, _ = call("videos", "GET", f"/v1/videos/{video.id}/storyboard", user_id=intruder.id)

    assert status == 404


def _s3_bytes(stack: PipelineStack, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_one_request_renders_every_format_from_one_storyboard_and_pays_for_each(
    session, stack: PipelineStack
):
    user = make_user(session)
    make_grant(session, user, 10)
    body = {
        "input_type": "Image",
        "upload_key": _upload(stack, user.id),
        "title": "Red bag",
        "text_prompt": "Red leather bag, handmade in Italy, only $89",
        "duration_seconds": 5,
        "formats": ["9:16", "1:1", "16:9", "1:1"],
        "resolution": "180x320",
    }
    status, quoted, _ = call("videos", "POST", "/v1/videos/quote", user_id=user.id, body=body)
    assert status == 200, quoted
    assert quoted["formats"] == ["9:16", "1:1", "16:9"] and quoted["aspect_ratio"] == "9:16"
    single = call(
        "videos", "POST", "/v1/videos/quote", user_id=user.id, body={**body, "formats": None}
    )[1]
    # 180x180 and 320x180 are both 720p: each extra format costs what the main one costs.
    assert quoted["cost"] == 3 * single["cost"]

    status, accepted, _ = call("videos", "POST", "/v1/videos", user_id=user.id, body=body)
    assert status == 202 and accepted["cost"] == quoted["cost"], accepted
    stack.pump(lambda: _video(session, accepted["id"]).status.is_terminal)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    status, detail, _ = call("videos", "GET", f"/v1/videos/{video.id}", user_id=user.id)
    assert status == 200, detail
    formats = detail["metadata"]["formats"]
    assert [(f["aspectRatio"], f["width"], f["height"]) for f in formats] == [
        ("9:16", 180, 320),
        ("1:1", 180, 180),
        ("16:9", 320, 180),
    ]
    # The same storyboard in every file: same scenes, same timings.
    assert all(f["scenes"] == detail["metadata"]["scenes"] for f in formats)
    assert all(f["duration"] == pytest.approx(5, abs=0.1) for f in formats)
    assert "videoUrl" not in formats[1]  # storage locations stay internal
    assert [(f["aspect_ratio"], f["width"], f["height"]) for f in detail["formats"]] == [
        (f["aspectRatio"], f["width"], f["height"]) for f in formats
    ]
    for stored in video.meta["formats"]:
        with av.open(io.BytesIO(_s3_bytes(stack, stored["videoUrl"]))) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (stored["width"], stored["height"])
            assert [s.type for s in container.streams] == ["video", "audio"]
        thumb = Image.open(io.BytesIO(_s3_bytes(stack, stored["thumbnailUrl"])))
        assert (thumb.width > thumb.height) == (stored["width"] > stored["height"])
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
    assert video.generation_cost_credits == accepted["cost"]
    # The per-format work files and the scene segments are gone once the video is complete.
    work = stack.s3.list_objects_v2(
        Bucket=stack.videos_bucket, Prefix=f"users/{user.id}/videos/{video.id}/work/"
    )
    assert work.get("KeyCount", 0) == 0


def test_a_video_step_that_failed_mid_render_resumes_from_the_scenes_already_encoded(
    session, stack: PipelineStack, monkeypatch
):
    from ecomvideo.media import storyboard_render
    from ecomvideo.services import scene_segments

    user = make_user(session)
    make_grant(session, user, 10)
    written: list[str] = []
    real_put, real_scene = scene_segments.S3Segments.put, storyboard_render._Composer.scene

    def counting_put(self, key, data):
        written.append(key)
        real_put(self, key, data)

    failures: list[int] = []

    def failing_scene(self, index, scene, n):
        if index == 2 and not failures:  # the first try dies at the third scene
            failures.append(index)
            raise MemoryError("worker ran out of memory")
        return real_scene(self, index, scene, n)

    monkeypatch.setattr(scene_segments.S3Segments, "put", counting_put)
    monkeypatch.setattr(storyboard_render._Composer, "scene", failing_scene)
    accepted = _draft(user.id, _upload(stack, user.id))
    call("videos", "POST", f"/v1/videos/{accepted['id']}/render", user_id=user.id)

    stack.pump(lambda: _video(session, accepted["id"]).status.is_terminal)

    video = _video(session, accepted["id"])
    assert video.status is VideoStatus.COMPLETED, video.error_message
    scenes = len(video.meta["scenes"])
    # Scenes 0-1 were encoded once, by the failed try; the retry encoded the rest.
    assert failures == [2] and len(written) == len(set(written)) == scenes
    assert credits.balance(session, user.id) == 10 - accepted["cost"]
