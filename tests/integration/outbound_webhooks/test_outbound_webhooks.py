"""Outbound webhooks: signed as documented, retried on 5xx, never sent to private addresses."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from ecomvideo import clock
from ecomvideo.enums import JobStatus
from ecomvideo.models import BackgroundJob, WebhookDelivery, WebhookEndpoint
from ecomvideo.services import jobs
from ecomvideo.services import outbound_webhooks as hooks
from tests.support.api import Api, as_user
from tests.support.factories import make_user

NOW = datetime(2030, 6, 15, 12, 0, 0)


class Receiver:
    """A webhook receiver on 127.0.0.1 answering with the next configured status."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ecomvideo"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class LoopbackOnly:
    """Test policy: only 127.0.0.0/8 (explicit, never the production default)."""

    def is_allowed(self, ip) -> bool:
        return ip.is_loopback


TEST_POLICY = hooks.DeliveryPolicy(address_policy=LoopbackOnly(), allowed_ports=None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([])
    yield r
    r.close()


@pytest.fixture
def permissive() -> Iterator[hooks.DeliveryPolicy]:
    with hooks.use_policy(TEST_POLICY) as policy:
        yield policy


@pytest.fixture(autouse=True)
def _clock():
    clock.freeze(NOW)
    yield
    clock.unfreeze()


def receiver_verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a customer does: the off-the-shelf Standard Webhooks library (docs/webhooks.md)."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def test_delivery_is_signed_so_a_receiver_following_the_docs_can_verify_it(
    session, receiver, permissive
):
    import time

    user = make_user(session)
    endpoint = hooks.create_endpoint(
        session, user.id, url=receiver.url, events=["video.completed"], policy=permissive
    )
    queued = hooks.emit(session, user.id, "video.completed", {"video_id": "v-1", "title": "Shoes"})
    assert queued == 1

    jobs.work(job_types=[hooks.JOB_TYPE])

    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert endpoint.secret.startswith("whsec_")
    assert receiver_verifies(endpoint.secret, headers, body)
    assert not receiver_verifies(hooks.new_secret(), headers, body)
    tampered = body.replace(b"Shoes", b"Boots")
    assert not receiver_verifies(endpoint.secret, headers, tampered)
    stale = {**headers, "webhook-timestamp": str(int(time.time()) - 301)}
    assert not receiver_verifies(endpoint.secret, stale, body)  # a replayed old delivery
    event = json.loads(body)
    assert event["type"] == "video.completed" and event["data"]["title"] == "Shoes"
    assert headers["webhook-id"] == event["id"]  # the same on every retry: receivers dedupe
    assert headers["ecomvideo-event-type"] == "video.completed"


def test_after_a_rotation_both_secrets_verify_until_the_grace_period_ends(
    session, receiver, permissive
):
    user = make_user(session)
    endpoint = hooks.create_endpoint(
        session, user.id, url=receiver.url, events=["video.completed"], policy=permissive
    )
    old = endpoint.secret
    _, new = hooks.rotate_secret(session, user.id, endpoint.id)
    assert new != old and new.startswith("whsec_")

    hooks.emit(session, user.id, "video.completed", {"video_id": "v-2"})
    jobs.work(job_types=[hooks.JOB_TYPE])
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert receiver_verifies(new, headers, body) and receiver_verifies(old, headers, body)

    clock.advance(hooks.ROTATION_GRACE + timedelta(seconds=1))
    hooks.emit(session, user.id, "video.completed", {"video_id": "v-3"})
    jobs.work(job_types=[hooks.JOB_TYPE])
    headers, body = receiver.requests[-1]
    assert receiver_verifies(new, headers, body) and not receiver_verifies(old, headers, body)


def test_receiver_returning_500_gets_retries_with_backoff_and_a_delivery_log(
    session, receiver, permissive
):
    receiver.statuses = [500, 500, 200]
    user = make_user(session)
    endpoint = hooks.create_endpoint(
        session, user.id, url=receiver.url, events=["video.failed"], policy=permissive
    )
    hooks.emit(session, user.id, "video.failed", {"video_id": "v-2"})

    jobs.work(job_types=[hooks.JOB_TYPE])
    clock.advance(timedelta(seconds=29))
    jobs.work(job_types=[hooks.JOB_TYPE])  # backoff not over: no new attempt
    assert len(receiver.requests) == 1
    clock.advance(timedelta(seconds=1))
    jobs.work(job_types=[hooks.JOB_TYPE])
    clock.advance(timedelta(seconds=60))
    jobs.work(job_types=[hooks.JOB_TYPE])

    assert len(receiver.requests) == 3
    ids = {json.loads(body)["id"] for _, body in receiver.requests}
    assert len(ids) == 1  # the same event id on every retry (receivers dedupe on it)
    log, _ = hooks.list_deliveries(session, user.id, endpoint.id)
    assert [(d.attempt, d.status_code, d.success) for d in reversed(log)] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    job = session.scalars(
        select(BackgroundJob).where(BackgroundJob.job_type == hooks.JOB_TYPE)
    ).one()
    assert (job.status, job.attempts) == (JobStatus.COMPLETED, 3)
    session.refresh(endpoint)
    assert (endpoint.failure_count, endpoint.last_status_code) == (0, 200)


def test_unsubscribed_or_inactive_endpoints_get_nothing(session, receiver, permissive):
    user = make_user(session)
    hooks.create_endpoint(
        session, user.id, url=receiver.url, events=["credits.low"], policy=permissive
    )
    assert hooks.emit(session, user.id, "video.completed", {}) == 0
    assert hooks.emit_credits_low(session, user.id, balance=50) == 0
    assert hooks.emit_credits_low(session, user.id, balance=2) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://127.0.0.1/hook",
        "http://10.0.0.5/hook",
        "https://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost/hook",
        "http://2130706433/hook",
        "ftp://example.com/hook",
    ],
)
def test_private_or_odd_endpoint_urls_are_refused_at_registration(session, url):
    user = make_user(session)
    status, body = _call(
        session, user.id, "POST", "/v1/webhooks", {"url": url, "events": ["video.completed"]}
    )
    assert status == 422, body
    assert session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.user_id == user.id)) is None


def test_delivery_to_a_private_address_is_blocked_under_the_default_policy(session, receiver):
    user = make_user(session)
    # Registered under some older rule, or DNS changed since: the check runs again on delivery.
    for url in (receiver.url, "http://127.0.0.1/hook", "http://169.254.169.254/latest"):
        session.add(
            WebhookEndpoint(user_id=user.id, url=url, events=["video.completed"], secret="whsec_x")
        )
    session.flush()
    assert hooks.emit(session, user.id, "video.completed", {"video_id": "v-3"}) == 3

    jobs.work(job_types=[hooks.JOB_TYPE])

    assert receiver.requests == []
    deliveries = session.scalars(select(WebhookDelivery)).all()
    assert len(deliveries) == 3
    assert all(not d.success and d.status_code is None for d in deliveries)
    assert all(d.error.startswith("blocked") for d in deliveries)
    errors = sorted(d.error for d in deliveries)
    assert sum("private or reserved" in e for e in errors) == 2  # address rule, not only ports


def _call(session, user_id: uuid.UUID, method: str, path: str, body=None):
    response = Api(as_user(user_id), user_agent=None).call(
        method, path, function="webhooks_out", body=body
    )
    return response.status, response.json()


def test_webhook_routes_register_list_ping_log_and_delete(session, receiver, permissive):
    owner, stranger = make_user(session), make_user(session)
    status, created = _call(
        session,
        owner.id,
        "POST",
        "/v1/webhooks",
        {"url": receiver.url, "events": ["video.completed", "credits.low"], "description": "shop"},
    )
    assert status == 201 and created["secret"].startswith("whsec_")
    hook_id = created["id"]

    status, listed = _call(session, owner.id, "GET", "/v1/webhooks")
    assert status == 200 and [h["id"] for h in listed["items"]] == [hook_id]
    assert "secret" not in listed["items"][0]

    status, ping = _call(session, owner.id, "POST", f"/v1/webhooks/{hook_id}/ping")
    assert status == 200 and ping["status_code"] == 200 and ping["event_type"] == "ping"
    headers, body = receiver.requests[-1]
    assert receiver_verifies(created["secret"], headers, body)

    status, rotated = _call(session, owner.id, "POST", f"/v1/webhooks/{hook_id}/rotate-secret")
    assert status == 200 and rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"].endswith("Z")
    assert _call(session, stranger.id, "POST", f"/v1/webhooks/{hook_id}/rotate-secret")[0] == 404

    status, log = _call(session, owner.id, "GET", f"/v1/webhooks/{hook_id}/deliveries")
    assert status == 200 and [d["status_code"] for d in log["items"]] == [200]

    assert _call(session, stranger.id, "GET", f"/v1/webhooks/{hook_id}/deliveries")[0] == 404
    assert _call(session, stranger.id, "DELETE", f"/v1/webhooks/{hook_id}")[0] == 404
    assert _call(session, owner.id, "DELETE", f"/v1/webhooks/{hook_id}")[0] == 204
    assert _call(session, owner.id, "GET", "/v1/webhooks")[1]["items"] == []


def test_unknown_event_types_are_rejected(session):
    user = make_user(session)
    status, _ = _call(
        session,
        user.id,
        "POST",
        "/v1/webhooks",
        {"url": "https://example.com/h", "events": ["video.deleted"]},
    )
    assert status == 422


def test_endpoint_limit_holds_when_two_creates_overlap(fresh_db, permissive):
    """The second create starts while the first (the 10th endpoint) is not yet committed: it
    must wait for it and then be refused, not count 9 and insert an 11th."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func

    from ecomvideo.db import transaction
    from ecomvideo.errors import ValidationFailed

    def create(session, n: int) -> None:
        hooks.create_endpoint(
            session,
            user_id,
            url=f"http://127.0.0.1:9/hook-{n}",
            events=["video.completed"],
            policy=permissive,
        )

    with transaction() as session:
        user_id = make_user(session).id
        for n in range(hooks.MAX_ENDPOINTS_PER_USER - 1):
            create(session, n)

    first_counted = threading.Event()

    def first() -> None:
        with transaction() as session:
            create(session, 100)
            first_counted.set()
            time.sleep(0.5)  # still uncommitted while the second one runs

    def second() -> str:
        first_counted.wait(5)
        try:
            with transaction() as session:
                create(session, 200)
        except ValidationFailed:
            return "refused"
        return "created"

    with ThreadPoolExecutor(max_workers=2) as pool:
        pool.submit(first)
        outcome = pool.submit(second).result(timeout=30)

    with transaction() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.user_id == user_id)
        )
    assert outcome == "refused"
    assert stored == hooks.MAX_ENDPOINTS_PER_USER
