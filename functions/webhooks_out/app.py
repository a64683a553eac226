"""Outbound customer webhooks: ``/v1/webhooks`` (register, list, delete), the delivery log and
a signed test ping. Delivery, signing and the SSRF guard live in
``ecomvideo.services.outbound_webhooks``; docs/webhooks.md tells receivers how to verify.
"""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal
from ecomvideo.http.pagination import BOUNDED_LIST, PageCursor, PageLimit
from ecomvideo.keyset import clamp_limit
from ecomvideo.models import WebhookDelivery, WebhookEndpoint
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import system as s
from ecomvideo.services import outbound_webhooks as hooks

app = create_app()


def _out(endpoint: WebhookEndpoint) -> s.WebhookOut:
    return s.WebhookOut.model_validate(endpoint, from_attributes=True)


def _delivery(row: WebhookDelivery) -> s.DeliveryOut:
    return s.DeliveryOut.model_validate(row, from_attributes=True)


@app.post("/v1/webhooks", responses={201: {"description": "Created"}})
def create_webhook(body: s.WebhookCreate) -> Response[s.WebhookCreated]:
    user_id = current_principal(app).user_id
    with transaction() as session:
        endpoint = hooks.create_endpoint(
            session, user_id, url=body.url, events=list(body.events), description=body.description
        )
        created = s.WebhookCreated(**_out(endpoint).model_dump(), secret=endpoint.secret)
    return Response(
        status_code=201,
        content_type="application/json",
        body=created,
        headers={"Location": f"/v1/webhooks/{created.id}"},
    )


@app.get("/v1/webhooks", openapi_extensions=BOUNDED_LIST)
def list_webhooks() -> s.WebhookList:
    user_id = current_principal(app).user_id
    with transaction() as session:
        return s.WebhookList(items=[_out(e) for e in hooks.list_endpoints(session, user_id)])


@app.delete("/v1/webhooks/<webhook_id>")
def delete_webhook(webhook_id: uuid.UUID) -> Response[None]:
    user_id = current_principal(app).user_id
    with transaction() as session:
        hooks.delete_endpoint(session, user_id, webhook_id)
    return Response(status_code=204)


@app.get("/v1/webhooks/<webhook_id>/deliveries")
def list_deliveries(
    webhook_id: uuid.UUID, limit: PageLimit = None, cursor: PageCursor = None
) -> s.DeliveryList:
    user_id = current_principal(app).user_id
    with transaction() as session:
        rows, next_cursor = hooks.list_deliveries(
            session, user_id, webhook_id, limit=clamp_limit(limit), cursor=cursor
        )
        return s.DeliveryList(items=[_delivery(r) for r in rows], next_cursor=next_cursor)


@app.post("/v1/webhooks/<webhook_id>/ping")
def ping_webhook(webhook_id: uuid.UUID) -> s.DeliveryOut:
    """Send a signed ``ping`` event now; the response is the logged attempt."""
    user_id = current_principal(app).user_id
    with transaction() as session:
        row, _event = hooks.ping(session, user_id, webhook_id)
        return _delivery(row)


@app.post("/v1/webhooks/<webhook_id>/rotate-secret")
def rotate_secret(webhook_id: uuid.UUID) -> s.WebhookSecretRotated:
    """New signing secret; the old one also signs for 24 hours (two webhook-signature entries)."""
    user_id = current_principal(app).user_id
    with transaction() as session:
        endpoint, secret = hooks.rotate_secret(session, user_id, webhook_id)
        return s.WebhookSecretRotated(
            **_out(endpoint).model_dump(),
            secret=secret,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
        )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
