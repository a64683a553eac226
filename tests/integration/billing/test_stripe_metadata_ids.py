"""Ids in Stripe metadata are ours but arrive from outside: absent, malformed or unknown ids
find no row, without asking the session for a NULL primary key (SQLAlchemy warns, and says a
future release may raise)."""

from __future__ import annotations

import warnings

import pytest

from ecomvideo.models import CreditPack, SubscriptionPlan
from ecomvideo.services.stripe_objects import by_metadata_id

UNKNOWN = "6b3c1c52-0d2a-4d8e-9a55-3f6f0e1c2d4b"


@pytest.mark.parametrize("value", [None, "", "not-a-uuid", 42, UNKNOWN])
def test_an_absent_malformed_or_unknown_id_finds_nothing_quietly(session, value):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert by_metadata_id(session, CreditPack, value) is None


def test_a_known_id_finds_its_row(session):
    plan = session.query(SubscriptionPlan).first()
    assert plan is not None  # seeded by the migrations
    assert by_metadata_id(session, SubscriptionPlan, str(plan.id)) is plan
