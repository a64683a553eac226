"""The whole local stack on its own database, shared by the contract and hostile-JSON tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.local_stack import LocalStack, local_stack, serve


@pytest.fixture(scope="module")
def contract_stack(
    db_url: str, server_url: str, worker_id: str
) -> Iterator[tuple[LocalStack, str]]:
    """The local stack on its own database (real commits), served on an ephemeral port.

    ``db_url`` first: it builds the migrated template database this one is cloned from.
    """
    from tests.conftest import clone_database
    from tests.fakes.stripe_fake import API_KEY, WEBHOOK_SECRET, StripeFake

    url = clone_database(server_url, f"ecomvideo_test_{worker_id}_contract")
    # Billing routes talk to the fake Stripe (respx on api.stripe.com), never the internet.
    stripe_env = {
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_SECRET_ARN": "",
    }
    with (
        local_stack(url, stripe_env) as stack,
        StripeFake().running(),
        serve(stack.gateway) as base_url,
    ):
        yield stack, base_url


def new_user_token(stack: LocalStack, admin: bool) -> str:
    """A verified user with credits, committed, and an access token for it."""
    from ecomvideo.db import transaction
    from tests.support.factories import make_grant, make_user

    with transaction() as session:
        user = make_user(session, email=f"fuzz-{uuid.uuid4().hex[:12]}@example.com")
        make_grant(session, user, 500)
        user_id = user.id
    roles = ("User", "Admin") if admin else ("User",)
    return stack.token_for(user_id, roles)
