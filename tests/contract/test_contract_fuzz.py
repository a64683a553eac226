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
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.contract.conftest import new_user_token

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
        headers["Authorization"] = f"Bearer {new_user_token(stack, admin)}"
    case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=30)
