"""Public video pages: no authorizer. ``GET /v1/public/videos/{slug}``, its media (302 to a
short-lived URL of an opaque copy) and its event beacon.

Every failed lookup is the same 404, so private videos never leak. A viewer who is signed in
may send their access token; it only attributes events (an invalid one is ignored).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo import clock
from ecomvideo.db import transaction
from ecomvideo.enums import AnalyticsEventType
from ecomvideo.http.app import create_app
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import sharing as schemas
from ecomvideo.services import public_media, sharing, tracked_events
from ecomvideo.settings import get_settings

app = create_app()


@app.get("/v1/public/videos/<slug>")
def get_public_video(slug: str) -> Response[schemas.PublicVideo]:
    with transaction() as session:
        video = sharing.public_video(session, slug)
    # Presigned URLs expire: caches must not outlive them.
    return Response(200, "application/json", video, {"Cache-Control": "private, max-age=300"})


@app.get(
    "/v1/public/videos/<slug>/media/<kind>",
    responses={302: {"description": "Redirect to a short-lived URL of the media"}},
)
def get_public_media(slug: str, kind: str) -> Response[None]:
    """The video (``video``) or thumbnail (``thumbnail``) of a public slug: 302 to a presigned
    URL of an opaque copy, valid 5 minutes. The same 404 as the page for anything else."""
    with transaction() as session:
        target = sharing.resolve_public(session, slug)
        source, key = public_media.locate(session, target.video, kind)
    location = public_media.redirect_url(source, key)
    # The target expires: a cached redirect must not outlive it.
    headers = {"Location": location, "Cache-Control": "private, max-age=240"}
    return Response(302, headers=headers)


@app.post("/v1/public/videos/<slug>/events")
def post_event(slug: str, body: schemas.PublicEventIn) -> Response[schemas.PublicEventAccepted]:
    event = app.current_event
    headers = event.headers
    queue_url = get_settings().analytics_queue_url
    with transaction() as session:
        target = sharing.resolve_public(session, slug)
        tracked = tracked_events.TrackedEvent(
            video_id=target.video.id,
            event_type=AnalyticsEventType(body.event_type),
            occurred_at=clock.utcnow(),
            ip=event.request_context.http.source_ip,
            user_agent=headers.get("user-agent"),
            referrer=body.referrer or headers.get("referer"),
            country_code=headers.get("cloudfront-viewer-country"),
            city=unquote(headers.get("cloudfront-viewer-city") or "") or None,
            session_id=body.session_id,
            platform=target.platform or body.platform,
            duration_seconds=body.duration_seconds,
            user_id=_viewer(headers.get("authorization")),
            meta={"share_id": str(target.share_id)} if target.share_id else {},
        )
        tracked_events.submit(session, tracked, queue_url=queue_url)
    metrics.add_metric(name=f"Public{body.event_type}Events", unit="Count", value=1)
    return Response(202, "application/json", schemas.PublicEventAccepted())


def _viewer(authorization: str | None) -> uuid.UUID | None:
    """The signed-in viewer, if a valid access token came along; never an error."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    from ecomvideo.security.jwt import verify_access_token

    try:
        return uuid.UUID(str(verify_access_token(token.strip()).sub))
    except Exception:  # an anonymous view is still a view
        return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
