"""The whole local stack in-process: every template route through ``devserver.gateway.Gateway``.

Like ``python -m devserver`` but inside a test: the caller's database (``fresh_db``: handlers
commit on their own connections), moto's in-process ``mock_aws`` for the template's queues,
buckets, secrets and state machines, and a fresh Ed25519 key pair so the auth function and the
Lambda authorizer agree. ``serve`` puts the gateway behind ``http.server`` on 127.0.0.1 (port 0)
for HTTP clients such as schemathesis.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devserver.app_model import AppModel, build_model
from devserver.aws import base_refs, create_resources, function_environments, plan_resources
from devserver.cfn import Resolver
from devserver.gateway import Gateway, make_server
from devserver.runner import FunctionRunner

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}


@dataclass
class LocalStack:
    """The gateway over the real template plus what tests need to act as users."""

    model: AppModel
    gateway: Gateway

    def token_for(self, user_id: uuid.UUID, roles: tuple[str, ...] = ("User",)) -> str:
        """An access token the stack's authorizer accepts (signed with the stack's key); the
        roles are given in the database too (the authorizer reads them there)."""
        from ecomvideo.security.jwt import issue_access_token, reset_key_cache
        from tests.support.factories import assign_roles

        assign_roles(user_id, roles)
        reset_key_cache()
        return issue_access_token(user_id, list(roles)).token


@contextmanager
def local_stack(db_url: str, extra_env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    """The template's HTTP API over ``db_url`` and moto; restores ``os.environ`` afterwards.

    ``extra_env`` goes to every function after the template's values (e.g. Stripe test keys).
    """
    from moto import mock_aws

    from ecomvideo import db
    from ecomvideo.security.jwt import generate_keypair, reset_key_cache
    from ecomvideo.settings import reset_settings

    saved = dict(os.environ)
    private, public = generate_keypair()
    local_env = {
        "DATABASE_URL": db_url,
        "STAGE": "local",
        **DUMMY_AWS,
        "JWT_PRIVATE_KEY": private,
        "JWT_PUBLIC_KEY": public,
        **(extra_env or {}),
    }
    os.environ.pop("AWS_ENDPOINT_URL_S3", None)
    os.environ.update(local_env)
    reset_settings()
    reset_key_cache()
    db.reset_engine()
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            model = build_model(ROOT / "template.yaml")
            plan = plan_resources(model, REGION, base_refs(model, REGION))
            create_resources(model, plan, REGION)
            environments = function_environments(model, plan, local_env)
            for env in environments.values():
                env.update(local_env)  # the local values win over the template's
            resolver = Resolver(model.template, plan.refs, plan.attrs)
            cors = {api: resolver.resolve(config) for api, config in model.cors.items()}
            runner = FunctionRunner(model, environments, region=REGION)
            yield LocalStack(model=model, gateway=Gateway(model, runner, cors=cors))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        reset_key_cache()
        db.reset_engine()


@contextmanager
def serve(gateway: Gateway) -> Iterator[str]:
    """``gateway`` on an ephemeral 127.0.0.1 port; yields the base URL."""
    server = make_server(gateway, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="local-stack", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
