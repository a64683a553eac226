"""Parallel creates on real PostgreSQL: the ledger lets exactly as many through as it can pay."""

from __future__ import annotations

import multiprocessing
import uuid

import pytest
from sqlalchemy import func, select

from ecomvideo.db import transaction
from ecomvideo.enums import SettingDataType
from ecomvideo.models import SystemSetting, Video
from ecomvideo.services import credits, system_settings
from tests.support.factories import make_grant, make_user
from tests.support.pipeline_stack import api_event, context, load_function

BODY = {
    "input_type": "Text",
    "text_prompt": "Ceramic mug",
    "resolution": "180x320",
    "duration_seconds": 5,
}


def _create_in_child(user_id: uuid.UUID, barrier, results) -> None:
    """In a forked child (one request per process, like one Lambda container)."""
    from ecomvideo import db

    db.reset_engine()  # never share the parent's pooled connections
    system_settings.clear_cache()
    handler = load_function("videos", fresh=True)
    event = api_event(
        "POST",
        "/v1/videos",
        user_id=user_id,
        body=BODY,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    barrier.wait()
    response = handler.lambda_handler(event, context("videos"))
    results.put(response["statusCode"])


@pytest.mark.slow
def test_twenty_parallel_creates_with_credits_for_five_accept_exactly_five(fresh_db, stack):
    # Processes, not threads: Powertools keeps the current event on the resolver class, so
    # threads in one interpreter would see each other's requests (Lambda never does that).
    with transaction() as session:
        user = make_user(session)
        make_grant(session, user, 5)
        user_id = user.id
        # This test is about credits: lift the Free plan's hourly creation limit (10) above 20.
        session.add(
            SystemSetting(key="ratelimit.plans", value="{}", data_type=SettingDataType.JSON)
        )
    fork = multiprocessing.get_context("fork")
    barrier = fork.Barrier(20)
    results = fork.Queue()
    children = [
        fork.Process(target=_create_in_child, args=(user_id, barrier, results)) for _ in range(20)
    ]
    for child in children:
        child.start()
    statuses = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(30)

    assert sorted(statuses) == [202] * 5 + [402] * 15
    with transaction() as session:
        assert credits.balance(session, user_id) == 0
        count = session.scalar(select(func.count()).where(Video.user_id == user_id))
        assert count == 5
        assert all(
            credits.held_amount(session, v) == 1
            for v in session.scalars(select(Video.id).where(Video.user_id == user_id))
        )
