"""Videos API (thin: parse, call a service, return a schema): videos, uploads, credits, grants."""

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
from ecomvideo.http.contract import ACCEPTED, no_location
from ecomvideo.http.contract import SPENDS_CREDITS as SPENDS
from ecomvideo.http.contract import SPENDS_CREDITS_ONCE_PER_STATE as SPENDS_ONCE
from ecomvideo.http.pagination import PageCursor, PageLimit, RenderedFormat
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import videos as schemas
from ecomvideo.services import videos

app = create_app()
TICKET = no_location("an upload ticket, not a resource to fetch")


@app.post("/v1/videos", responses=ACCEPTED, openapi_extensions=SPENDS)
def create_video(
    body: schemas.VideoCreate, idempotency_key: Annotated[str | None, Header()] = None
) -> Response[schemas.VideoAccepted]:
    """Start a video (holds credits; a retry with the same Idempotency-Key and body replays)."""
    user_id = current_principal(app).user_id
    accepted, replayed = videos.submit(user_id, body, idempotency_key=idempotency_key)
    if not replayed:
        metrics.add_metric(name="VideosRequested", unit="Count", value=1)
    headers = videos.accepted_headers(accepted, replayed=replayed)
    return Response(202, "application/json", accepted, headers)


@app.post("/v1/videos/quote")
def quote_video(body: schemas.VideoCreate) -> schemas.Quote:
    with transaction() as session:
        return videos.quote(session, current_principal(app).user_id, body)


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
    filters = videos.ListFilters(status, category, tag, created_from, created_to, q, all_users)
    with transaction() as session:
        return videos.list_videos(session, principal, filters, cursor=cursor, limit=limit)


@app.get("/v1/videos/<video_id>")
def get_video(video_id: uuid.UUID) -> Response[schemas.VideoDetail]:
    """The video; while it runs, ``Retry-After`` (= ``poll_after_seconds``) says when to poll."""
    with transaction() as session:
        video = videos.detail(session, current_principal(app), video_id)
    return Response(200, "application/json", video, videos.poll_headers(None, video.status))


@app.patch("/v1/videos/<video_id>")
def update_video(video_id: uuid.UUID, body: schemas.VideoUpdate) -> schemas.VideoDetail:
    principal = current_principal(app)
    with transaction() as session:
        videos.update_video(session, principal, video_id, body)
        return videos.detail(session, principal, video_id)


@app.delete("/v1/videos/<video_id>")
def delete_video(video_id: uuid.UUID) -> Response[None]:
    videos.delete(current_principal(app), video_id)
    return Response(status_code=204)


@app.post("/v1/videos/<video_id>/cancel")
def cancel_video(video_id: uuid.UUID) -> dict[str, Any]:
    status = videos.cancel(current_principal(app), video_id)
    return {"id": str(video_id), "status": str(status)}


@app.post("/v1/videos/<video_id>/retry", responses=ACCEPTED, openapi_extensions=SPENDS_ONCE)
def retry_video(video_id: uuid.UUID) -> Response[schemas.VideoAccepted]:
    accepted = videos.retry(current_principal(app), video_id)
    return Response(202, "application/json", accepted, videos.accepted_headers(accepted))


@app.get("/v1/videos/<video_id>/storyboard")
def get_storyboard(video_id: uuid.UUID) -> schemas.StoryboardOut:
    with transaction() as session:
        return videos.storyboard(session, current_principal(app), video_id)


@app.patch("/v1/videos/<video_id>/storyboard")
def edit_storyboard(video_id: uuid.UUID, body: schemas.StoryboardEdit) -> schemas.StoryboardOut:
    with transaction() as session:
        board = videos.edit_storyboard(session, current_principal(app), video_id, body)
        return videos.storyboard_out(board, video_id=video_id)


@app.post("/v1/videos/<video_id>/render", responses=ACCEPTED)
def render_video(video_id: uuid.UUID) -> Response[schemas.VideoAccepted]:
    accepted = videos.render(current_principal(app), video_id)
    return Response(202, "application/json", accepted, videos.accepted_headers(accepted))


@app.get("/v1/videos/<video_id>/download")
def download_video(video_id: uuid.UUID, ratio: RenderedFormat = None) -> Response[None]:
    """Count the download and redirect to the file (``format``: one of its rendered formats)."""
    with transaction() as session:
        url = videos.record_download(session, current_principal(app), video_id, ratio)
    return Response(302, headers={"Location": url, "Cache-Control": "no-store"})


@app.post("/v1/uploads", responses={201: {"description": "Created"}}, openapi_extensions=TICKET)
def create_upload(body: schemas.UploadRequest) -> Response[schemas.UploadTicket]:
    ticket = videos.create_upload(current_principal(app).user_id, body)
    return Response(201, "application/json", ticket)


@app.get("/v1/credits")
def get_credits(cursor: PageCursor = None, limit: PageLimit = None) -> schemas.CreditsOut:
    with transaction() as session:
        return videos.credits_summary(session, current_principal(app).user_id, cursor, limit)


@app.get("/v1/credits/grants")
def list_credit_grants(cursor: PageCursor = None, limit: PageLimit = None) -> schemas.GrantsPage:
    with transaction() as session:
        return videos.credit_grants(session, current_principal(app).user_id, cursor, limit)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
