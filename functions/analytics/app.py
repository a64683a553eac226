"""Analytics reports and the caller's API usage.

``GET /v1/analytics/videos/{id}`` (owner, or staff), ``GET /v1/analytics/overview`` (own videos),
``GET /v1/admin/analytics/overview`` (Admin/Support, every user), ``?format=csv`` on each, and
``GET /v1/me/usage``. Reports aggregate in SQL over the daily rollup (services/reports.py).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.enums import UserRole
from ecomvideo.http import ratelimit
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal, require_roles
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import analytics as schemas
from ecomvideo.services import reports, video_access

app = create_app()

DateFrom = Annotated[date | None, Query(alias="from")]
DateTo = Annotated[date | None, Query(alias="to")]
IntervalQ = Annotated[Literal["day", "week"], Query()]
FormatQ = Annotated[Literal["json", "csv"], Query()]
TopQ = Annotated[int, Query(ge=1, le=50)]


def _respond(result: schemas.Report, fmt: str, name: str) -> Response[schemas.Report | str]:
    if fmt == "csv":
        filename = f"{name}-{result.date_from}-{result.date_to}.csv"
        return Response(
            200,
            "text/csv; charset=utf-8",
            reports.to_csv(result),
            {"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return Response(200, "application/json", result)


@app.get("/v1/analytics/videos/<video_id>")
def video_report(
    video_id: uuid.UUID,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    interval: IntervalQ = "day",
    top: TopQ = 10,
    format: FormatQ = "json",
) -> Response[schemas.Report | str]:
    principal = current_principal(app)
    rng = reports.make_range(date_from, date_to, interval, top)
    with transaction() as session:
        video_access.owned_video(session, principal, video_id)
        result = reports.report(session, "video", video_id, rng)
    return _respond(result, format, f"video-{video_id}")


@app.get("/v1/analytics/overview")
def overview(
    date_from: DateFrom = None,
    date_to: DateTo = None,
    interval: IntervalQ = "day",
    top: TopQ = 10,
    format: FormatQ = "json",
) -> Response[schemas.Report | str]:
    principal = current_principal(app)
    rng = reports.make_range(date_from, date_to, interval, top)
    with transaction() as session:
        result = reports.report(session, "own", principal.user_id, rng)
    return _respond(result, format, "overview")


@app.get("/v1/admin/analytics/overview")
def admin_overview(
    date_from: DateFrom = None,
    date_to: DateTo = None,
    interval: IntervalQ = "day",
    top: TopQ = 10,
    format: FormatQ = "json",
) -> Response[schemas.Report | str]:
    require_roles(current_principal(app), UserRole.ADMIN, UserRole.SUPPORT)
    rng = reports.make_range(date_from, date_to, interval, top)
    with transaction() as session:
        result = reports.report(session, "all", None, rng)
    return _respond(result, format, "all-users")


@app.get("/v1/me/usage")
def my_usage(days: Annotated[int, Query(ge=1, le=90)] = 30) -> schemas.UsageOut:
    principal = current_principal(app)
    with transaction() as session:
        return ratelimit.usage_summary(session, principal.user_id, days=days)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
