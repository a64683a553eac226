"""Videos API: create/quote, library, cancel/retry/download, uploads, credits.

Thin by design: parse, call ``ecomvideo.services.videos``, return a schema. Users only reach
their own videos (others' ids are 404); Admin/Moderator/Support may read every video.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.enums import VideoStatus
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal
from ecomvideo.http.pagination import PageCursor, PageLimit
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import videos as schemas
from ecomvideo.services import videos

app = create_app()


@app.post(
    "/v1/videos",
    responses={202: {"description": "Accepted; poll the video"}},
    openapi_extensions={"x-spends-credits": True},
)
def create_video(
    body: schemas.VideoCreate,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[schemas.VideoAccepted]:
    """Start a video (holds credits; a retry with the same Idempotency-Key and body replays)."""
    principal = current_principal(app)
    key = idempotency_key
    accepted, replayed = videos.submit(principal.user_id, body, idempotency_key=key)
    if not replayed:
        metrics.add_metric(name="VideosRequested", unit="Count", value=1)
    headers = {"Location": f"/v1/videos/{accepted.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(202, "application/json", accepted, headers)


@app.post("/v1/videos/quote")
def quote_video(body: schemas.VideoCreate) -> schemas.Quote:
    principal = current_principal(app)
    with transaction() as session:
        return videos.quote(session, principal.user_id, body)


@app.get("/v1/videos")
def list_videos(
    status: Annotated[VideoStatus | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    created_from: Annotated[datetime | None, Query(alias="from")] = None,
    created_to: Annotated[datetime | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    all_users: Annotated[bool, Query(alias="all")] = False,
    cursor: PageCursor = None,
    limit: PageLimit = None,
) -> schemas.VideoPage:
    principal = current_principal(app)
    filters = videos.ListFilters(
        status=status,
        category=category,
        tag=tag,
        created_from=_naive(created_from),
        created_to=_naive(created_to),
        q=q,
        all_users=all_users,
    )
    with transaction() as session:
        return videos.list_videos(session, principal, filters, cursor=cursor, limit=limit)


@app.get("/v1/videos/<video_id>")
def get_video(video_id: uuid.UUID) -> schemas.VideoDetail:
    with transaction() as session:
        return videos.detail(session, current_principal(app), video_id)


@app.patch("/v1/videos/<video_id>")
def update_video(video_id: uuid.UUID, body: schemas.VideoUpdate) -> schemas.VideoDetail:
    principal = current_principal(app)
    with transaction() as session:
        videos.update_video(session, principal, video_id, body)
        return videos.detail(session, principal, video_id)


@app.delete("/v1/videos/<video_id>")
def delete_video(video_id: uuid.UUID) -> Response[None]:
    videos.delete(current_principal(app), video_id)
    return Response(status_code=204, body="")


@app.post("/v1/videos/<video_id>/cancel")
def cancel_video(video_id: uuid.UUID) -> dict[str, Any]:
    status = videos.cancel(current_principal(app), video_id)
    return {"id": str(video_id), "status": str(status)}


@app.post(
    "/v1/videos/<video_id>/retry",
    responses={202: {"description": "Accepted"}},
    # A new credit hold; idempotent by state: only a Failed video retries (then 409).
    openapi_extensions={"x-spends-credits": True, "x-idempotent": "by-state"},
)
def retry_video(video_id: uuid.UUID) -> Response[schemas.VideoAccepted]:
    accepted = videos.retry(current_principal(app), video_id)
    return Response(202, "application/json", accepted, {"Location": f"/v1/videos/{accepted.id}"})


@app.get("/v1/videos/<video_id>/download")
def download_video(video_id: uuid.UUID) -> Response[None]:
    with transaction() as session:
        url = videos.record_download(session, current_principal(app), video_id)
    return Response(
        status_code=302, body="", headers={"Location": url, "Cache-Control": "no-store"}
    )


@app.post(
    "/v1/uploads",
    responses={201: {"description": "Created"}},
    openapi_extensions={"x-no-location": "an upload ticket, not a resource to fetch"},
)
def create_upload(body: schemas.UploadRequest) -> Response[schemas.UploadTicket]:
    ticket = videos.create_upload(current_principal(app).user_id, body)
    return Response(201, "application/json", ticket)


@app.get("/v1/credits")
def get_credits(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> schemas.CreditsOut:
    with transaction() as session:
        return videos.credits_summary(session, current_principal(app).user_id, limit=limit)


def _naive(value: datetime | None) -> datetime | None:
    """Timestamps are naive UTC in the database."""
    if value is None or value.tzinfo is None:
        return value
    from datetime import UTC

    return value.astimezone(UTC).replace(tzinfo=None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
