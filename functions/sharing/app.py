"""Share links of a user's videos: ``POST/GET /v1/videos/{id}/shares``, revoke one."""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal
from ecomvideo.http.pagination import PageCursor, PageLimit
from ecomvideo.keyset import clamp_limit
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import sharing as schemas
from ecomvideo.services import sharing

app = create_app()


@app.post("/v1/videos/<video_id>/shares", responses={201: {"description": "Created"}})
def create_share(video_id: uuid.UUID, body: schemas.ShareCreate) -> Response[schemas.ShareOut]:
    principal = current_principal(app)
    with transaction() as session:
        share = sharing.create_share(session, principal, video_id, body)
    metrics.add_metric(name="VideoShares", unit="Count", value=1)
    headers = {"Location": share.public_api_url}
    return Response(201, "application/json", share, headers)


@app.get("/v1/videos/<video_id>/shares")
def list_shares(
    video_id: uuid.UUID, limit: PageLimit = None, cursor: PageCursor = None
) -> schemas.ShareList:
    with transaction() as session:
        return sharing.list_shares(
            session, current_principal(app), video_id, limit=clamp_limit(limit), cursor=cursor
        )


@app.delete("/v1/videos/<video_id>/shares/<share_id>")
def revoke_share(video_id: uuid.UUID, share_id: uuid.UUID) -> Response[None]:
    with transaction() as session:
        sharing.revoke_share(session, current_principal(app), video_id, share_id)
    return Response(status_code=204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
