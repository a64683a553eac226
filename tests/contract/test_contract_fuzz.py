"""Contract fuzzing: schemathesis against the whole local stack, from docs/openapi.json.

Every operation of the committed document is called through ``devserver.gateway.Gateway``
(real routing, real Lambda authorizer, real handlers, moto, PostgreSQL with real commits) on a
127.0.0.1 port. Checks: no 5xx, the status code is documented, the body matches the documented
schema and content type. Each example runs as a brand-new user (admins on /v1/admin routes),
so destructive operations (DELETE /v1/me, logout-all) cannot spoil later examples.

Bounded for CI: a few examples per operation (``CONTRACT_MAX_EXAMPLES``, default 10), no
shrinking, no example database.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.local_stack import LocalStack, local_stack, serve

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]

schema = schemathesis.openapi.from_dict(DOCUMENT)
# CI runs a few examples per operation; a bug hunt raises it: CONTRACT_MAX_EXAMPLES=50.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "10"))


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


def _new_user_token(stack: LocalStack, admin: bool) -> str:
    """A verified user with credits, committed, and an access token for it."""
    from ecomvideo.db import transaction
    from tests.support.factories import make_grant, make_user

    with transaction() as session:
        user = make_user(session, email=f"fuzz-{uuid.uuid4().hex[:12]}@example.com")
        make_grant(session, user, 500)
        user_id = user.id
    roles = ("User", "Admin") if admin else ("User",)
    return stack.token_for(user_id, roles)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("CONTRACT_RANDOM"),  # CI: the same cases every run
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case, contract_stack):
    stack, base_url = contract_stack
    headers = {}
    if case.operation.definition.raw.get("security") != []:
        admin = case.path.startswith("/v1/admin")
        headers["Authorization"] = f"Bearer {_new_user_token(stack, admin)}"
    case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=30)
