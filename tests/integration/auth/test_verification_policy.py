"""Unverified accounts can sign in and look around, but cannot spend credits, register
webhooks or share; the Free-plan credits arrive with the verification."""

from __future__ import annotations

from sqlalchemy import select

from ecomvideo.models import User
from ecomvideo.services import credits
from tests.support.accounts import link_token, login, register
from tests.support.engagement import completed_video

HOOK = {"url": "https://example.com/h", "events": ["video.completed"]}
TEXT_VIDEO = {"input_type": "Text", "title": "Lamp", "text_prompt": "A lamp on a desk"}


def _unverified(api, session, email):
    register(api, email)
    user = session.scalars(select(User).where(User.email == email)).one()
    return user, login(api, email).json()["access_token"]


def _refused(response) -> bool:
    return response.status == 403 and "email-not-verified" in response.json()["type"]


def test_unverified_account_can_look_around_but_not_spend_webhook_or_share(api, session):
    user, token = _unverified(api, session, "fresh@example.com")

    assert api.call("account", "GET", "/v1/me", token=token).status == 200
    assert api.call("videos", "GET", "/v1/credits", token=token).status == 200
    assert credits.balance(session, user.id) == 0  # nothing to farm before verification

    user_for_share = completed_video(session, user)
    session.flush()
    for function, path, body in (
        ("videos", "/v1/videos", TEXT_VIDEO),
        ("webhooks_out", "/v1/webhooks", HOOK),
        ("sharing", f"/v1/videos/{user_for_share.id}/shares", {"platform": "TikTok"}),
    ):
        response = api.call(function, "POST", path, body, token=token)
        assert _refused(response), (path, response.status, response.body)


def test_verification_grants_the_free_credits_once(api, mailbox, session):
    from ecomvideo.seed import PLANS

    free = next(p for p in PLANS if p["name"] == "Free")["video_credits_monthly"]
    user, _ = _unverified(api, session, "verifies@example.com")
    assert credits.balance(session, user.id) == 0

    token = link_token(mailbox()[-1])
    assert api.call("auth", "POST", "/v1/auth/verify-email", {"token": token}).status in (200, 204)
    session.refresh(user)
    assert user.email_verified is True
    assert credits.balance(session, user.id) == free

    # A second link (resend is refused once verified; the grant is keyed by the user anyway)
    assert api.call("auth", "POST", "/v1/auth/verify-email", {"token": token}).status == 400
    assert credits.balance(session, user.id) == free
