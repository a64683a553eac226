"""Parallel creates on real PostgreSQL: the ledger lets exactly as many through as it can pay."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from ecomvideo.db import transaction
from ecomvideo.models import Video
from ecomvideo.services import credits
from tests.support.factories import make_grant, make_user
from tests.support.pipeline_stack import api_event, context, load_function

BODY = {
    "input_type": "Text",
    "text_prompt": "Ceramic mug",
    "resolution": "180x320",
    "duration_seconds": 5,
}


@pytest.mark.slow
def test_twenty_parallel_creates_with_credits_for_five_accept_exactly_five(fresh_db, stack):
    with transaction() as session:
        user = make_user(session)
        make_grant(session, user, 5)
        user_id = user.id
    handlers = [load_function("videos", fresh=True) for _ in range(20)]
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def create(handler) -> None:
        event = api_event(
            "POST",
            "/v1/videos",
            user_id=user_id,
            body=BODY,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        barrier.wait()
        response = handler.lambda_handler(event, context("videos"))
        with lock:
            statuses.append(response["statusCode"])

    threads = [threading.Thread(target=create, args=(h,)) for h in handlers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(statuses) == [202] * 5 + [402] * 15
    with transaction() as session:
        assert credits.balance(session, user_id) == 0
        count = session.scalar(select(func.count()).where(Video.user_id == user_id))
        assert count == 5
        assert all(
            credits.held_amount(session, v) == 1
            for v in session.scalars(select(Video.id).where(Video.user_id == user_id))
        )
