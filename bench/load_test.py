"""Bounded load test of the HTTP API on the local stack (127.0.0.1), with lost-write checks.

The stack runs in a child process (``--serve``): every ``HttpApi`` route of template.yaml
through ``devserver.gateway.Gateway`` with moto, on a scratch database, and only the analytics
ingest queue consumer running (the pipeline workers are off, so created videos stay Pending:
rendering has its own benchmark, and a render would hold the local runner's lock for seconds).
Rate limits are raised in the scratch database so that the numbers measure the API, not the
limiter.

Scenario, for ``--duration`` seconds with ``--users`` client threads (one account each, created
through the API: register -> verification mail -> verify -> login), each thread picking:

* 30 % ``GET /v1/videos``          * 15 % ``POST /v1/videos`` (Local provider, Idempotency-Key)
*  5 % ``POST /v1/auth/login`` (argon2id)
* 15 % ``GET /v1/videos/{id}``     * 25 % ``POST /v1/public/videos/{slug}/events`` (View)
* 10 % ``POST /webhooks/stripe`` (signed ``customer.updated`` of an unknown customer: stored
  in ``stripe_events``, no Stripe API call)

Afterwards, lost-write checks: every 202 video is listed by the API and exists in PostgreSQL
with a credit hold; every accepted view reached ``videos.view_count`` (after the ingest queue
drains); every 200 Stripe delivery is in ``stripe_events``. Exit code 1 on any error or loss.

    .venv/bin/python bench/load_test.py [--duration 30] [--users 8]

The local stack runs one invocation at a time (like one warm container for the whole API), so
throughput here is a property of one process, not of Lambda, which scales out per request.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core" / "python"
for entry in (str(ROOT), str(LAYER)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

DB_NAME = "ecomvideo_load_test"
WEBHOOK_SECRET = "whsec_load_test_secret"  # noqa: S105 (local stack only)
PASSWORD = "a long enough password"  # noqa: S105 (throwaway accounts)
MIX = [
    ("list_videos", 30),
    ("login", 5),
    ("create_video", 15),
    ("get_video", 15),
    ("public_view", 25),
    ("stripe_webhook", 10),
]
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
HIGH = 1_000_000  # rate limits high enough never to trigger


# ------------------------------------------------------------------------------ server


def serve(port: int, database_url: str) -> None:
    """The stack in this process until stdin closes (the parent's end of the pipe)."""
    from moto import mock_aws

    from devserver.app_model import build_model
    from devserver.aws import base_refs, create_resources, function_environments, plan_resources
    from devserver.cfn import Resolver
    from devserver.gateway import Gateway, make_server
    from devserver.keys import local_jwt_keys
    from devserver.runner import FunctionRunner
    from devserver.worker import EventSources

    region = "us-east-1"
    local_env = {
        "DATABASE_URL": database_url,
        "STAGE": "local",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "EcomVideoLoadTest",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        **local_jwt_keys(),
    }
    os.environ.update(local_env)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        model = build_model(ROOT / "template.yaml")
        plan = plan_resources(model, region, base_refs(model, region))
        create_resources(model, plan, region)
        environments = function_environments(model, plan, local_env)
        for env in environments.values():
            env.update(local_env)
        resolver = Resolver(model.template, plan.refs, plan.attrs)
        cors = {api: resolver.resolve(config) for api, config in model.cors.items()}
        runner = FunctionRunner(model, environments, region=region)
        server = make_server(Gateway(model, runner, cors=cors), "127.0.0.1", port)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        # Only the analytics consumer: public view events are counted through the real queue.
        ingest = [s for s in model.sqs_sources if "Analytics" in s.function]
        sources = EventSources(
            dataclasses.replace(model, sqs_sources=ingest), runner, plan, region=region
        )
        sources.start()
        print("ready", flush=True)
        # The parent reads one line only: from now on the handlers' log lines and EMF metrics
        # go to the log file (a full stdout pipe would block every invocation).
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        sys.stdin.read()  # EOF: the parent is done
        server.shutdown()


# ------------------------------------------------------------------------------ client


@dataclasses.dataclass
class User:
    email: str
    token: str
    user_id: str
    created: list[str] = dataclasses.field(default_factory=list)


class Recorder:
    """Latencies and statuses per action, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.views = 0
        self.stripe_ids: list[str] = []

    def add(self, action: str, seconds: float, ok: bool, detail: str) -> None:
        with self.lock:
            self.samples[action].append(seconds)
            if not ok:
                self.errors.append(f"{action}: {detail}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tune_database(url: str) -> None:
    """Raise the rate limits so that the limiter never answers 429 during the run."""
    from sqlalchemy.orm import Session

    from ecomvideo.db import build_engine
    from ecomvideo.services import system_settings

    limits = {"requests_per_minute": HIGH, "video_creations_per_hour": HIGH}
    engine = build_engine(url)
    with Session(engine) as session:
        for key, value, kind in [
            ("ratelimit.requests_per_minute", HIGH, "number"),
            ("ratelimit.video_creations_per_hour", HIGH, "number"),
            ("ratelimit.anonymous_requests_per_minute", HIGH, "number"),
            (
                "ratelimit.plans",
                dict.fromkeys(("Free", "Starter", "Pro", "Business"), limits),
                "json",
            ),
        ]:
            system_settings.update(session, key, value, updated_by="load-test", data_type=kind)
        session.commit()
    engine.dispose()


def _grant_credits(url: str, user_ids: list[str]) -> None:
    from sqlalchemy.orm import Session

    from ecomvideo.db import build_engine
    from ecomvideo.enums import CreditSource
    from ecomvideo.services import credits

    engine = build_engine(url)
    with Session(engine) as session:
        for user_id in user_ids:
            reference = f"load-{user_id}"
            credits.grant(
                session, uuid.UUID(user_id), 100_000, CreditSource.BONUS, reference=reference
            )
        session.commit()
    engine.dispose()


def _completed_video(url: str, user_id: str) -> str:
    """A Completed video row (the pipeline is off) for the public view events."""
    from sqlalchemy.orm import Session

    from ecomvideo.db import build_engine
    from ecomvideo.enums import VideoInputType, VideoStatus
    from ecomvideo.models import Video

    engine = build_engine(url)
    with Session(engine) as session:
        video = Video(
            user_id=uuid.UUID(user_id),
            title="Load test lamp",
            text_prompt="Aurora lamp",
            input_type=VideoInputType.TEXT,
            status=VideoStatus.COMPLETED,
            resolution="720x1280",
            aspect_ratio="9:16",
            video_url="s3://ecomvideo-videos-local/videos/load/video.mp4",
        )
        session.add(video)
        session.commit()
        video_id = str(video.id)
    engine.dispose()
    return video_id


def _sign_up(client: Any, base: str, index: int) -> User:
    email = f"load-{index}-{uuid.uuid4().hex[:8]}@example.com"
    r = client.post(f"{base}/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code in (200, 201, 202), r.text
    mails = client.get(f"{base}/v1/dev/mails").json()["items"]
    text = next(m["text"] for m in reversed(mails) if email in json.dumps(m))
    token = re.search(r"token=([\w-]+)", text).group(1)
    r = client.post(f"{base}/v1/auth/verify-email", json={"token": token})
    assert r.status_code == 200, r.text
    r = client.post(f"{base}/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    access = r.json()["access_token"]
    me = client.get(f"{base}/v1/me", headers={"authorization": f"Bearer {access}"}).json()
    return User(email=email, token=access, user_id=me["id"])


def _stripe_event() -> tuple[str, str, str]:
    import stripe

    event = json.loads((ROOT / "events/stripe/customer.updated.json").read_text())
    event["id"] = f"evt_load_{uuid.uuid4().hex}"
    event["created"] = int(time.time())
    body = json.dumps(event, separators=(",", ":"))
    signature = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    return event["id"], body, signature


def _worker(base: str, user: User, slug: str, deadline: float, rec: Recorder, seed: int) -> None:
    import httpx

    rng = random.Random(seed)
    actions = [name for name, weight in MIX for _ in range(weight)]
    auth = {"authorization": f"Bearer {user.token}"}
    # A browser's agent: the analytics service does not count bots (httpx's default agent).
    with httpx.Client(timeout=30, headers={"user-agent": BROWSER}) as client:
        while time.monotonic() < deadline:
            action = rng.choice(actions)
            if action == "get_video" and not user.created:
                action = "list_videos"
            started = time.perf_counter()
            if action == "list_videos":
                r = client.get(f"{base}/v1/videos?limit=20", headers=auth)
                ok = r.status_code == 200
            elif action == "create_video":
                body = {
                    "input_type": "Text",
                    "title": f"Lamp {rng.randrange(10**6)}",
                    "text_prompt": "Aurora Smart Lamp, warm light, only $49.99",
                }
                headers = {**auth, "idempotency-key": uuid.uuid4().hex}
                r = client.post(f"{base}/v1/videos", json=body, headers=headers)
                ok = r.status_code == 202
                if ok:
                    user.created.append(r.json()["id"])
            elif action == "login":
                r = client.post(
                    f"{base}/v1/auth/login", json={"email": user.email, "password": PASSWORD}
                )
                ok = r.status_code == 200
            elif action == "get_video":
                r = client.get(f"{base}/v1/videos/{rng.choice(user.created)}", headers=auth)
                ok = r.status_code == 200
            elif action == "public_view":
                body = {"event_type": "View", "session_id": uuid.uuid4().hex}
                r = client.post(f"{base}/v1/public/videos/{slug}/events", json=body)
                ok = r.status_code in (200, 202)
                if ok:
                    with rec.lock:
                        rec.views += 1
            else:
                event_id, body, signature = _stripe_event()
                headers = {"stripe-signature": signature, "content-type": "application/json"}
                r = client.post(f"{base}/webhooks/stripe", content=body, headers=headers)
                ok = r.status_code == 200
                if ok:
                    with rec.lock:
                        rec.stripe_ids.append(event_id)
            rec.add(action, time.perf_counter() - started, ok, f"{r.status_code} {r.text[:200]}")


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] * 1000


def _check_writes(
    url: str, base: str, users: list[User], video_id: str, rec: Recorder
) -> list[str]:
    """Lost-write checks: API listing, database rows, view counter, Stripe events."""
    import httpx
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from ecomvideo.db import build_engine
    from ecomvideo.models import CreditMovement, StripeEvent, Video, VideoAnalytics

    problems: list[str] = []
    engine = build_engine(url)
    with httpx.Client(timeout=30) as client:
        for user in users:
            listed: set[str] = set()
            cursor = None
            while True:
                query = "limit=100" + (f"&cursor={cursor}" if cursor else "")
                page = client.get(
                    f"{base}/v1/videos?{query}", headers={"authorization": f"Bearer {user.token}"}
                ).json()
                listed.update(item["id"] for item in page["items"])
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            if not set(user.created) <= listed:
                problems.append(f"{user.email}: {len(set(user.created) - listed)} videos missing")
    created = [uuid.UUID(v) for u in users for v in u.created]
    deadline = time.monotonic() + 60
    with Session(engine) as session:
        rows = session.scalar(select(func.count()).select_from(Video).where(Video.id.in_(created)))
        holds = session.scalar(
            select(func.count(func.distinct(CreditMovement.video_id))).where(
                CreditMovement.video_id.in_(created)
            )
        )
        events = session.scalar(
            select(func.count()).select_from(StripeEvent).where(StripeEvent.id.in_(rec.stripe_ids))
        )
        shared = uuid.UUID(video_id)
        while True:  # the ingest consumer drains the analytics queue asynchronously
            stored = session.scalar(
                select(func.count())
                .select_from(VideoAnalytics)
                .where(VideoAnalytics.video_id == shared)
            )
            views = session.scalar(select(Video.view_count).where(Video.id == shared))
            if stored >= rec.views or time.monotonic() > deadline:
                break
            time.sleep(1)
            session.expire_all()
    engine.dispose()
    if rows != len(created):
        problems.append(f"videos: {len(created)} accepted, {rows} in PostgreSQL")
    if holds != len(created):
        problems.append(f"credit holds: {len(created)} videos, {holds} with ledger movements")
    if events != len(rec.stripe_ids):
        problems.append(f"stripe events: {len(rec.stripe_ids)} accepted, {events} stored")
    if stored != rec.views:
        problems.append(f"view events: {rec.views} accepted, {stored} stored")
    if views != rec.views:  # unique session ids and a browser agent: every view counts
        problems.append(f"views: {rec.views} accepted, view_count {views}")
    print(
        f"writes checked: {len(created)} videos (listed, stored, held), {rec.views} views "
        f"(stored {stored}, view_count {views}), "
        f"{len(rec.stripe_ids)} Stripe events (stored {events})"
    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.database_url)
        return 0

    import httpx

    from devserver.pg import scratch_database

    url = scratch_database(DB_NAME)
    _tune_database(url)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{LAYER}{os.pathsep}{ROOT}"}
    log_path = ROOT / ".local" / "load_test_server.log"
    log_path.parent.mkdir(exist_ok=True)
    server_log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--port", str(port), "--database-url", url],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=server_log,  # the stack's own log: look here when a request fails
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=60) as client:
            signing_up = time.perf_counter()
            users = [_sign_up(client, base, i) for i in range(args.users)]
            sign_up_ms = (time.perf_counter() - signing_up) / args.users * 1000
            _grant_credits(url, [u.user_id for u in users])
            video_id = _completed_video(url, users[0].user_id)
            share = client.post(
                f"{base}/v1/videos/{video_id}/shares",
                json={"platform": "TikTok"},
                headers={"authorization": f"Bearer {users[0].token}"},
            )
            assert share.status_code == 201, share.text
            slug = share.json()["slug"]
        rec = Recorder()
        deadline = time.monotonic() + args.duration
        threads = [
            threading.Thread(target=_worker, args=(base, u, slug, deadline, rec, args.seed + i))
            for i, u in enumerate(users)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        problems = _check_writes(url, base, users, video_id, rec)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()

    total = sum(len(v) for v in rec.samples.values())
    print(
        f"\n{args.users} users, {elapsed:.1f} s: {total} requests, {total / elapsed:.1f} req/s, "
        f"{len(rec.errors)} errors ({100 * len(rec.errors) / max(total, 1):.2f} %)\n"
    )
    print(
        f"sign-up (register, verification mail, verify, login, /v1/me; sequential, before the "
        f"timed run): {sign_up_ms:.0f} ms per user\n"
    )
    print("| action | requests | req/s | p50 ms | p95 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    everything: list[float] = []
    for action, _ in [*MIX, ("all", 0)]:
        values = everything if action == "all" else rec.samples.get(action, [])
        if action != "all":
            everything.extend(values)
        if not values:
            continue
        print(
            f"| {action} | {len(values)} | {len(values) / elapsed:.1f} | "
            f"{statistics.median(values) * 1000:.0f} | {_percentile(values, 95):.0f} | "
            f"{_percentile(values, 99):.0f} |"
        )
    for error in rec.errors[:10]:
        print("error:", error)
    for problem in problems:
        print("LOST WRITE:", problem)
    return 1 if rec.errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
