"""GET /v1/health: liveness plus database reachability, public (no authorizer).

The status code follows the database (503 when it does not answer) so that load balancers,
uptime checks and the local stack's smoke test see an outage without parsing the body.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging.correlation_paths import API_GATEWAY_HTTP
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo import db
from ecomvideo.http.app import create_app, json_response
from ecomvideo.observability import logger, tracer
from ecomvideo.settings import get_settings

app = create_app()


@app.get("/v1/health")
@tracer.capture_method
def health() -> Any:
    """Report the version, the stage and whether PostgreSQL answers ``SELECT 1``."""
    settings = get_settings()
    database_ok = db.ping()
    if not database_ok:
        logger.warning("health check: database unavailable")
    payload = {
        "status": "ok" if database_ok else "degraded",
        "database": "ok" if database_ok else "unavailable",
        "version": settings.app_version,
        "stage": settings.stage,
    }
    # no-store: a cached "ok" would hide an outage from the next check.
    return json_response(200 if database_ok else 503, payload, {"Cache-Control": "no-store"})


@logger.inject_lambda_context(correlation_id_path=API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
