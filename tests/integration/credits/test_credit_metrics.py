"""Credits spent and released are business metrics (EMF via the layer's Metrics)."""

from __future__ import annotations

from ecomvideo.observability import metrics
from ecomvideo.services import credits
from tests.support.factories import make_grant, make_user, make_video


def _values(name: str) -> list[float]:
    return list(metrics.metric_set.get(name, {}).get("Value", []))


def test_charge_counts_credits_spent_once(session):
    user = make_user(session)
    make_grant(session, user, 10)
    video = make_video(session, user)
    credits.hold(session, user.id, video.id, 3)
    metrics.clear_metrics()

    credits.charge(session, user.id, video.id)
    credits.charge(session, user.id, video.id)  # idempotent: nothing more is spent

    assert _values("CreditsSpent") == [3.0]
    metrics.clear_metrics()


def test_release_counts_credits_released(session):
    user = make_user(session)
    make_grant(session, user, 10)
    video = make_video(session, user)
    credits.hold(session, user.id, video.id, 2)
    metrics.clear_metrics()

    credits.release(session, user.id, video.id)

    assert _values("CreditsReleased") == [2.0]
    assert _values("CreditsSpent") == []
    metrics.clear_metrics()
