"""Products library, corrections, deletion, admin scraping rules and the pipeline entry point."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecomvideo.enums import ScrapingStatus, VideoInputType, VideoStatus
from ecomvideo.models import ProductData, ProductImage, ScrapingRule, Video
from ecomvideo.services import products
from tests.support.factories import make_user, make_video
from tests.support.pipeline_stack import call


def _scraped(user_id: uuid.UUID, shop, path: str = "/p", host: str = "a.shop.test") -> dict:
    if path not in shop.routes:
        shop.corpus(path, "jsonld_simple.html")
    status, body, _ = call(
        "scraping",
        "POST",
        "/v1/products/scrape",
        user_id=user_id,
        body={"url": shop.url(path, host=host)},
    )
    assert status == 202 and body["status"] == "Success", body
    return body


def test_users_see_only_their_own_products_newest_first_with_filters(session, shop, scraper):
    alice, bob = make_user(session), make_user(session)
    a1 = _scraped(alice.id, shop, "/a1")
    a2 = _scraped(alice.id, shop, "/a2", host="b.shop.test")
    b1 = _scraped(bob.id, shop, "/b1")
    # One test transaction gives every row the same CURRENT_TIMESTAMP: spread them out.
    for offset, product in enumerate((a1, a2, b1)):
        row = session.get(ProductData, uuid.UUID(product["id"]))
        row.created_at = datetime(2026, 1, 1, 12, offset)
    session.flush()

    _, page1, _ = call("scraping", "GET", "/v1/products", user_id=alice.id, query="limit=1")
    _, page2, _ = call(
        "scraping",
        "GET",
        "/v1/products",
        user_id=alice.id,
        query=f"limit=1&cursor={page1['next_cursor']}",
    )
    _, by_domain, _ = call(
        "scraping", "GET", "/v1/products", user_id=alice.id, query="domain=b.shop.test"
    )
    _, failed, _ = call("scraping", "GET", "/v1/products", user_id=alice.id, query="status=Failed")
    other = call("scraping", "GET", f"/v1/products/{b1['id']}", user_id=alice.id)

    assert [p["id"] for p in page1["items"] + page2["items"]] == [a2["id"], a1["id"]]
    assert page2["next_cursor"] is None
    assert [p["id"] for p in by_domain["items"]] == [a2["id"]]
    assert failed["items"] == []
    assert other[0] == 404


def test_user_corrects_fields_and_chooses_reorders_and_removes_images(session, shop, scraper):
    user = make_user(session)
    product = _scraped(user.id, shop)
    front, side, social = (i["id"] for i in product["images"])

    status, body, _ = call(
        "scraping",
        "PATCH",
        f"/v1/products/{product['id']}",
        user_id=user.id,
        body={
            "name": "Aurora Dripper",
            "price": "29.90",
            "currency": "eur",
            "description": "Hand-glazed.",
            "images": [social, front],
            "primary_image_id": social,
        },
    )

    assert status == 200, body
    # Money is serialised as a decimal string, never a float.
    assert (body["name"], body["price"], body["currency"]) == ("Aurora Dripper", "29.90", "EUR")
    assert body["description"] == "Hand-glazed."
    assert [(i["id"], i["is_primary"], i["sort_order"]) for i in body["images"]] == [
        (social, True, 0),
        (front, False, 1),
    ]
    assert body["main_image_url"].endswith("aurora-dripper-social.jpg")
    assert session.get(ProductImage, uuid.UUID(side)) is None


def test_corrections_are_validated(session, shop, scraper):
    user = make_user(session)
    product = _scraped(user.id, shop)
    path = f"/v1/products/{product['id']}"

    unknown = call("scraping", "PATCH", path, user_id=user.id, body={"images": [str(uuid.uuid4())]})
    negative = call("scraping", "PATCH", path, user_id=user.id, body={"price": "-1"})
    empty = call("scraping", "PATCH", path, user_id=user.id, body={})
    bad_currency = call("scraping", "PATCH", path, user_id=user.id, body={"currency": "euro"})

    assert [r[0] for r in (unknown, negative, empty, bad_currency)] == [422, 422, 422, 422]


def test_a_failed_product_cannot_be_edited(session, scraper, canary):
    user = make_user(session)
    _, body, _ = call(
        "scraping", "POST", "/v1/products/scrape", user_id=user.id, body={"url": canary.url("/")}
    )

    status, problem, _ = call(
        "scraping", "PATCH", f"/v1/products/{body['id']}", user_id=user.id, body={"name": "x"}
    )

    assert body["status"] == "Failed" and status == 409, problem


def test_delete_removes_images_and_is_refused_while_a_video_uses_it(session, shop, scraper):
    user = make_user(session)
    product = _scraped(user.id, shop)
    pid = uuid.UUID(product["id"])
    video = make_video(session, user, product_data_id=pid, status=VideoStatus.GENERATING_VIDEO)

    busy = call("scraping", "DELETE", f"/v1/products/{pid}", user_id=user.id)
    video.status = VideoStatus.COMPLETED
    session.flush()
    done = call("scraping", "DELETE", f"/v1/products/{pid}", user_id=user.id)

    assert busy[0] == 409 and done[0] == 204
    session.expire_all()
    assert session.get(ProductData, pid) is None
    assert session.get(Video, video.id).product_data_id is None
    count = (
        select(func.count()).select_from(ProductImage).where(ProductImage.product_data_id == pid)
    )
    assert session.scalar(count) == 0


def test_a_malformed_url_is_rejected_before_anything_is_stored(session, scraper):
    user = make_user(session)

    status, body, _ = call(
        "scraping",
        "POST",
        "/v1/products/scrape",
        user_id=user.id,
        body={"url": "ftp://example.com/x"},
    )

    assert status == 422, body
    assert session.scalar(select(ProductData).where(ProductData.user_id == user.id)) is None


# ---------------------------------------------------------------------------- admin rules

RULE = {
    "domain": "WWW.Shop.Example.com",
    "platform": "Shopify",
    "selectors": {
        "name": "h1.product-title",
        "price": {"css": "meta[itemprop=price]", "attr": "content"},
    },
    "headers": {"Accept-Language": "de-DE"},
    "delay_ms": 2000,
}


def _admin(session):
    return make_user(session)


def test_only_admins_and_moderators_manage_scraping_rules(session):
    user = make_user(session)

    denied = call("scraping", "GET", "/v1/admin/scraping-rules", user_id=user.id)
    created = call(
        "scraping",
        "POST",
        "/v1/admin/scraping-rules",
        user_id=user.id,
        roles=("Moderator",),
        body=RULE,
    )

    assert denied[0] == 403
    assert created[0] == 201, created[1]
    assert created[1]["domain"] == "shop.example.com"


def test_scraping_rule_lifecycle(session):
    admin = _admin(session)
    kw = {"user_id": admin.id, "roles": ("Admin",)}

    status, rule, headers = call("scraping", "POST", "/v1/admin/scraping-rules", body=RULE, **kw)
    duplicate = call("scraping", "POST", "/v1/admin/scraping-rules", body=RULE, **kw)
    replaced = call(
        "scraping",
        "PUT",
        f"/v1/admin/scraping-rules/{rule['id']}",
        body={**RULE, "delay_ms": 500, "is_active": False},
        **kw,
    )
    listed = call("scraping", "GET", "/v1/admin/scraping-rules", query="domain=example", **kw)
    deleted = call("scraping", "DELETE", f"/v1/admin/scraping-rules/{rule['id']}", **kw)
    missing = call("scraping", "GET", f"/v1/admin/scraping-rules/{rule['id']}", **kw)

    assert status == 201 and headers["Location"].endswith(rule["id"])
    assert duplicate[0] == 409
    assert replaced[0] == 200 and replaced[1]["delay_ms"] == 500
    assert replaced[1]["is_active"] is False and replaced[1]["updated_by"] == str(admin.id)
    assert [r["id"] for r in listed[1]["items"]] == [rule["id"]]
    assert deleted[0] == 204 and missing[0] == 404
    assert session.get(ScrapingRule, uuid.UUID(rule["id"])) is None


def test_scraping_rule_selectors_and_headers_are_validated(session):
    admin = _admin(session)
    kw = {"user_id": admin.id, "roles": ("Admin",)}
    cases = [
        {**RULE, "selectors": {"colour": "h1"}},  # unknown field
        {**RULE, "selectors": {"name": "h1[["}},  # bad CSS
        {**RULE, "selectors": {"name": {"css": "h1", "attribute": "x"}}},
        {**RULE, "headers": {"Cookie": "session=1"}},
        {**RULE, "headers": {"X-Evil": "a\r\nHost: internal"}},
        {**RULE, "domain": "https://shop.example.com/path"},
        {**RULE, "delay_ms": -1},
    ]

    statuses = [call("scraping", "POST", "/v1/admin/scraping-rules", body=c, **kw) for c in cases]

    assert [s[0] for s in statuses] == [422] * len(cases)
    messages = " ".join(str(s[1]) for s in statuses[:2])
    assert "colour" in messages and "not a valid CSS selector" in messages


# ---------------------------------------------------------------------------- pipeline step


def _url_video(session, user, url: str) -> Video:
    return make_video(
        session,
        user,
        input_type=VideoInputType.URL,
        text_prompt="Promo",
        meta={"request": {"attempt": 1, "productUrl": url, "hasImage": False}},
    )


def test_scrape_for_video_links_a_product_whose_primary_image_feeds_the_video(
    session, shop, scraper
):
    user = make_user(session)
    shop.corpus("/p", "jsonld_simple.html")
    video = _url_video(session, user, shop.url("/p", host="a.shop.test"))

    product = products.scrape_for_video(session, video)
    session.flush()
    session.refresh(video)

    assert product.scraping_status is ScrapingStatus.SUCCESS
    assert video.product_data_id == product.id
    assert video.image_url == product.main_image_url
    assert video.image_url.endswith("aurora-dripper-front.jpg")


def test_scrape_for_video_reuses_the_users_fresh_corrected_copy(session, shop, scraper):
    user = make_user(session)
    scraped = _scraped(user.id, shop)
    call(
        "scraping",
        "PATCH",
        f"/v1/products/{scraped['id']}",
        user_id=user.id,
        body={"name": "Corrected"},
    )
    video = _url_video(session, user, shop.url("/p", host="a.shop.test"))

    product = products.scrape_for_video(session, video)

    assert str(product.id) == scraped["id"] and product.name == "Corrected"
    assert shop.hits.count("/p") == 1


def test_scrape_for_video_returns_a_failed_product_with_the_reason(session, scraper, canary):
    user = make_user(session)
    video = _url_video(session, user, canary.url("/"))

    product = products.scrape_for_video(session, video)
    session.flush()
    session.refresh(video)

    assert product.scraping_status is ScrapingStatus.FAILED
    assert "private or reserved network address" in product.error_message
    assert video.product_data_id == product.id and video.image_url is None
    assert canary.hits == []


def test_fetch_image_downloads_images_only_through_the_safe_fetcher(shop, scraper, canary):
    from ecomvideo.scraping import BlockedAddress, NotHtml

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    shop.page("/img.png", png, "image/png")
    shop.corpus("/page", "jsonld_simple.html")

    content, content_type = products.fetch_image(shop.url("/img.png", host="cdn.shop.test"))

    assert (content, content_type) == (png, "image/png")
    with pytest.raises(NotHtml):
        products.fetch_image(shop.url("/page", host="cdn.shop.test"))
    with pytest.raises(BlockedAddress):
        products.fetch_image(canary.url("/"))
    assert canary.hits == []


def test_sample_events_are_accepted_by_the_handler(session):
    from tests.support.pipeline_stack import context, load_function

    handler = load_function("scraping").lambda_handler
    events = Path(__file__).resolve().parents[3] / "events" / "scraping"

    listed = handler(json.loads((events / "list_products.json").read_text()), context("scraping"))
    queued = handler(
        json.loads((events / "scrape_queue_message.json").read_text()), context("scraping")
    )

    assert listed["statusCode"] == 200 and json.loads(listed["body"])["items"] == []
    assert queued == {"batchItemFailures": []}  # unknown product: skipped, not retried
