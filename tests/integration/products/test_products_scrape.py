"""Scraping through the real scraping function: queue, outcome rows, failures, SSRF, politeness."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from decimal import Decimal

import boto3
import pytest
from sqlalchemy import func, select

from devserver.events import sqs_event
from ecomvideo import clock
from ecomvideo.enums import ScrapingStatus
from ecomvideo.models import ProductCategory, ProductData, ProductImage, ScrapingRule
from ecomvideo.scraping import PUBLIC_ONLY, FetchConfig, SafeFetcher
from ecomvideo.services import product_categories, product_scraper
from tests.support.factories import make_user
from tests.support.pipeline_stack import call, context, load_function

DRIPPER = "Aurora Ceramic Pour-Over Coffee Dripper"
PRIVATE_MESSAGE = "private or reserved network address"


def _scrape(user_id: uuid.UUID, url: str, **extra: object) -> tuple[int, dict, dict]:
    return call(
        "scraping", "POST", "/v1/products/scrape", user_id=user_id, body={"url": url, **extra}
    )


def _row(session, product_id: str) -> ProductData:
    session.expire_all()
    product = session.get(ProductData, uuid.UUID(product_id))
    assert product is not None
    return product


def _image_count(session, product_id: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(ProductImage)
        .where(ProductImage.product_data_id == uuid.UUID(product_id))
    )


# ---------------------------------------------------------------------------- the async path


@pytest.fixture
def queue(aws, scraper):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"scrape-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    from ecomvideo.clients import aws as aws_clients

    aws_clients.reset_clients()
    product_scraper.set_options(product_scraper.ScrapeOptions(queue_url=url, default_delay_ms=0))
    yield sqs, url, arn
    aws_clients.reset_clients()


def _deliver(sqs, url: str, arn: str) -> dict:
    """What the SQS event source mapping does: receive, invoke the function, delete."""
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert messages, "nothing was queued"
    result = load_function("scraping").lambda_handler(
        sqs_event(messages, arn, "us-east-1"), context("scraping")
    )
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return result


def test_scrape_is_accepted_pending_then_the_queue_consumer_saves_product_images_and_category(
    session, shop, queue
):
    sqs, queue_url, arn = queue
    user = make_user(session)
    shop.corpus("/products/aurora-dripper", "jsonld_simple.html")
    url = shop.url("/products/aurora-dripper", host="northwind.shop.test")

    status, body, headers = _scrape(user.id, url)

    assert status == 202, body
    assert body["status"] == "Pending" and body["images"] == []
    assert headers["Location"] == f"/v1/products/{body['id']}"
    assert _row(session, body["id"]).scraping_status is ScrapingStatus.PENDING
    assert _image_count(session, body["id"]) == 0

    result = _deliver(sqs, queue_url, arn)

    assert result == {"batchItemFailures": []}
    product = _row(session, body["id"])
    assert product.scraping_status is ScrapingStatus.SUCCESS
    assert (product.name, product.price, product.currency) == (DRIPPER, Decimal("34.00"), "USD")
    assert (product.brand, product.sku, product.availability) == (
        "Northwind",
        "NW-AUR-001",
        "InStock",
    )
    assert product.rating == Decimal("4.70") and product.review_count == 128
    assert product.domain == "northwind.shop.test" and product.platform == "Generic"
    assert product.error_message is None and product.scraped_at is not None
    assert set(product.meta) >= {"variants", "specifications", "shipping", "seo"}

    status, detail, _ = call("scraping", "GET", f"/v1/products/{body['id']}", user_id=user.id)
    assert status == 200
    assert [i["url"] for i in detail["images"]] == [
        "https://northwindgoods.com/media/aurora-dripper-front.jpg",
        "https://northwindgoods.com/media/aurora-dripper-side.jpg",
        "https://northwindgoods.com/media/aurora-dripper-social.jpg",
    ]
    assert [i["is_primary"] for i in detail["images"]] == [True, False, False]
    assert [i["sort_order"] for i in detail["images"]] == [0, 1, 2]
    assert detail["main_image_url"] == detail["images"][0]["url"]
    assert detail["categories"] == ["Coffee", "Pour-Over"]
    assert detail["category"]["name"] == "Pour-Over" and detail["category"]["level"] == 1


def test_a_redelivered_message_does_not_scrape_twice(session, shop, queue):
    sqs, queue_url, arn = queue
    user = make_user(session)
    shop.corpus("/p", "jsonld_simple.html")
    _, body, _ = _scrape(user.id, shop.url("/p", host="a.shop.test"))
    messages = sqs.receive_message(QueueUrl=queue_url).get("Messages", [])
    event = sqs_event(messages, arn, "us-east-1")
    handler = load_function("scraping").lambda_handler

    handler(event, context("scraping"))
    handler(event, context("scraping"))

    assert shop.hits.count("/p") == 1
    assert _image_count(session, body["id"]) == 3


def test_a_malformed_queue_message_is_dropped(session, queue):
    _, _, arn = queue
    message = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "not json"}

    result = load_function("scraping").lambda_handler(
        sqs_event([message], arn, "us-east-1"), context("scraping")
    )

    assert result == {"batchItemFailures": []}


# ---------------------------------------------------------------------------- fresh copies


def test_a_fresh_copy_is_returned_with_200_and_force_scrapes_again(session, shop, scraper):
    user = make_user(session)
    shop.corpus("/p", "jsonld_simple.html")
    url = shop.url("/p", host="a.shop.test")

    first = _scrape(user.id, url)
    second = _scrape(user.id, url + "#reviews")
    forced = _scrape(user.id, url, force=True)

    assert first[0] == 202 and first[1]["status"] == "Success"  # no queue: scraped inline
    assert second[0] == 200 and second[1]["id"] == first[1]["id"]
    assert forced[0] == 202 and forced[1]["id"] != first[1]["id"]
    assert shop.hits.count("/p") == 2


def test_a_copy_older_than_the_max_age_is_not_reused(session, shop, scraper):
    user = make_user(session)
    shop.corpus("/p", "jsonld_simple.html")
    url = shop.url("/p", host="a.shop.test")
    try:
        clock.freeze(datetime(2026, 1, 1, 12, 0))
        first = _scrape(user.id, url)
        clock.freeze(datetime(2026, 1, 2, 12, 1))
        second = _scrape(user.id, url)
    finally:
        clock.unfreeze()

    assert second[0] == 202 and second[1]["id"] != first[1]["id"]


def test_another_users_copy_is_not_shared(session, shop, scraper):
    alice, bob = make_user(session), make_user(session)
    shop.corpus("/p", "jsonld_simple.html")
    url = shop.url("/p", host="a.shop.test")

    first = _scrape(alice.id, url)
    second = _scrape(bob.id, url)

    assert second[0] == 202 and second[1]["id"] != first[1]["id"]


# ---------------------------------------------------------------------------- clean failures


def _slow(handler) -> None:
    time.sleep(1.5)
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    handler.wfile.write(b"<html></html>")


FAILURES = [
    # (name, setup(shop), expected message fragment)
    ("oversized", lambda s: s.page("/p", b"<html>" + b"x" * 300_000 + b"</html>"), "larger than"),
    ("not-html", lambda s: s.page("/p", b"%PDF-1.7", "application/pdf"), "not a web page"),
    ("slow", lambda s: s.routes.__setitem__("/p", _slow), "too long to respond"),
    (
        "malformed",
        lambda s: s.page("/p", b"<html><body><div><<<>>><p>broken <b>tags</i></table>"),
        "could not find a product",
    ),
    (
        "non-utf8-garbage",
        lambda s: s.page("/p", bytes(range(256)) * 40, "text/html; charset=utf-8"),
        "could not find a product",
    ),
    ("captcha", lambda s: s.corpus("/p", "captcha.html"), "robot check"),
    ("http-404", lambda s: s.page("/p", b"<html>gone</html>", status=404), "does not exist"),
]


@pytest.mark.parametrize(("case", "setup", "message"), FAILURES, ids=[f[0] for f in FAILURES])
def test_bad_pages_end_failed_with_a_message_and_nothing_half_saved(
    session, shop, scraper, case, setup, message
):
    user = make_user(session)
    setup(shop)

    status, body, _ = _scrape(user.id, shop.url("/p", host="bad.shop.test"))

    assert status == 202, body
    product = _row(session, body["id"])
    assert product.scraping_status is ScrapingStatus.FAILED
    assert message in product.error_message
    assert body["error_message"] == product.error_message
    assert _image_count(session, body["id"]) == 0
    assert product.category_id is None and product.price is None and product.meta is None


def test_a_parser_crash_ends_failed_with_a_generic_message(session, shop, scraper, monkeypatch):
    import ecomvideo.scraping as scraping

    def explode(*args: object, **kwargs: object) -> None:
        raise RecursionError("deeply nested hostile markup")

    monkeypatch.setattr(scraping, "extract_product", explode)
    user = make_user(session)
    shop.corpus("/p", "jsonld_simple.html")

    _, body, _ = _scrape(user.id, shop.url("/p", host="a.shop.test"))

    product = _row(session, body["id"])
    assert product.scraping_status is ScrapingStatus.FAILED
    assert product.error_message == "We could not read this product page."
    assert "hostile" not in body["error_message"]


def test_non_utf8_pages_are_decoded_by_their_declared_charset(session, shop, scraper):
    user = make_user(session)
    shop.corpus("/item", "shift_jis.html", "text/html; charset=shift_jis")

    _, body, _ = _scrape(user.id, shop.url("/item", host="tekki.shop.test"))

    assert body["status"] == "Success", body
    assert body["name"] == "南部鉄器 急須 0.6L"
    assert (body["price"], body["currency"]) == ("8800.00", "JPY")  # DECIMAL(10,2) column


# ---------------------------------------------------------------------------- SSRF


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/",
        "http://2130706433:{port}/",  # 127.0.0.1 spelled as a decimal
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://evil.test:{port}/",  # a name that resolves to 127.0.0.1
        "http://metadata.test/latest/meta-data/",  # a name that resolves to 169.254.169.254
    ],
)
def test_urls_pointing_at_private_addresses_end_failed_and_the_canary_is_never_hit(
    session, scraper, canary, target
):
    user = make_user(session)

    status, body, _ = _scrape(user.id, target.format(port=canary.port))

    assert status == 202
    product = _row(session, body["id"])
    assert product.scraping_status is ScrapingStatus.FAILED
    assert PRIVATE_MESSAGE in product.error_message
    assert _image_count(session, body["id"]) == 0
    assert canary.hits == []


def test_a_redirect_to_a_private_address_is_refused(session, shop, scraper, canary):
    user = make_user(session)
    shop.page("/p", b"", status=302, headers={"Location": canary.url("/")})

    _, body, _ = _scrape(user.id, shop.url("/p", host="a.shop.test"))

    assert PRIVATE_MESSAGE in _row(session, body["id"]).error_message
    assert shop.hits == ["/robots.txt", "/p"] and canary.hits == []


def test_the_production_policy_refuses_loopback_too(session, canary):
    config = FetchConfig(allowed_ports=frozenset({80, 443, canary.port}))
    product_scraper.set_fetcher(
        SafeFetcher(config, policy=PUBLIC_ONLY, resolver=lambda h, p: ["1.1.1.1"])
    )
    product_scraper.set_options(product_scraper.ScrapeOptions(default_delay_ms=0))
    try:
        user = make_user(session)
        _, body, _ = _scrape(user.id, canary.url("/"))
    finally:
        product_scraper.set_fetcher(None)
        product_scraper.set_options(None)

    assert PRIVATE_MESSAGE in _row(session, body["id"]).error_message
    assert canary.hits == []


# ---------------------------------------------------------------------------- robots, rules


def test_robots_txt_is_respected_by_default(session, shop, scraper):
    user = make_user(session)
    shop.page("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    shop.corpus("/private/p", "jsonld_simple.html")
    url = shop.url("/private/p", host="a.shop.test")

    _, refused, _ = _scrape(user.id, url)
    product_scraper.set_options(
        product_scraper.ScrapeOptions(default_delay_ms=0, respect_robots=False)
    )
    _, allowed, _ = _scrape(user.id, url, force=True)

    assert refused["status"] == "Failed" and "robots.txt" in refused["error_message"]
    assert allowed["status"] == "Success"
    assert shop.hits.count("/private/p") == 1


def test_domain_rule_headers_selectors_and_delay_are_used(session, shop, scraper, waits):
    user = make_user(session)
    session.add(
        ScrapingRule(
            domain="shop.test",
            platform="Generic",
            selectors={"brand": {"css": "meta[property='og:site_name']", "attr": "content"}},
            headers={"Accept-Language": "de-DE", "X-Partner": "ecomvideo"},
            delay_ms=1500,
        )
    )
    session.flush()
    shop.corpus("/p", "jsonld_simple.html")
    shop.corpus("/q", "jsonld_simple.html")
    try:
        clock.freeze(datetime(2026, 3, 1, 9, 0))
        _, first, _ = _scrape(user.id, shop.url("/p", host="www.shop.test"))
        _, second, _ = _scrape(user.id, shop.url("/q", host="www.shop.test"))
    finally:
        clock.unfreeze()

    sent = shop.request_headers[shop.hits.index("/p")]
    assert sent["accept-language"] == "de-DE" and sent["x-partner"] == "ecomvideo"
    assert first["status"] == second["status"] == "Success"
    assert waits == [1.5]  # the second request waited for the domain's slot


def test_the_politeness_gate_spaces_claims_and_refuses_slots_too_far_away(session):
    try:
        clock.freeze(datetime(2026, 3, 1, 9, 0))
        waits = [
            product_scraper.claim_slot(session, "gate.test", 1000, max_wait_s=2.5) for _ in range(3)
        ]
        with pytest.raises(product_scraper.DomainBusy) as busy:
            product_scraper.claim_slot(session, "gate.test", 1000, max_wait_s=2.5)
        other = product_scraper.claim_slot(session, "other.test", 1000, max_wait_s=2.5)
    finally:
        clock.unfreeze()

    assert waits == [0.0, 1.0, 2.0]
    assert busy.value.retry_after == 3.0
    assert other == 0.0


def test_a_busy_domain_requeues_with_a_delay_instead_of_waiting(session, shop, queue):
    sqs, queue_url, arn = queue
    product_scraper.set_options(
        product_scraper.ScrapeOptions(
            queue_url=queue_url, default_delay_ms=60_000, max_gate_wait_s=5
        )
    )
    user = make_user(session)
    shop.corpus("/p", "jsonld_simple.html")
    shop.corpus("/q", "jsonld_simple.html")
    _scrape(user.id, shop.url("/p", host="a.shop.test"))
    _, second, _ = _scrape(user.id, shop.url("/q", host="a.shop.test"))

    _deliver(sqs, queue_url, arn)  # first scrapes; second finds the domain busy

    assert _row(session, second["id"]).scraping_status is ScrapingStatus.PENDING
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"
    assert shop.hits.count("/q") == 0


# ---------------------------------------------------------------------------- categories


def test_breadcrumbs_reuse_the_tree_and_qualify_names_taken_in_other_branches(session):
    fashion_accessories = session.scalar(
        select(ProductCategory).where(ProductCategory.name == "Accessories")
    )

    same = product_categories.map_categories(session, ["Fashion", "Accessories"])
    men = product_categories.map_categories(session, ["Men", "Accessories"])
    again = product_categories.map_categories(session, ["men", "ACCESSORIES"])
    kitchen = product_categories.map_categories(session, ["Kitchen", "Coffee Makers"])

    assert same == fashion_accessories.id
    men_node = session.get(ProductCategory, men)
    assert men_node.name == "Accessories (Men)" and men_node.level == 1
    assert session.get(ProductCategory, men_node.parent_id).level == 0
    assert again == men
    makers = session.get(ProductCategory, kitchen)
    assert makers.name == "Coffee Makers" and makers.level == 2
    assert session.get(ProductCategory, makers.parent_id).name == "Kitchen"
    assert product_categories.map_categories(session, []) is None
