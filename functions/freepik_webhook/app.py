"""POST /webhooks/freepik: Freepik task status callbacks (no authorizer).

The signature is verified on the raw body (base64-decoded when API Gateway encoded it) with
the standard library only; the ORM and the pipeline are imported after it passed, so forged
or stale requests are rejected cheaply.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from ecomvideo.clients.secrets import freepik_secrets
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.webhooks.responses import json_response, problem_response
from ecomvideo.webhooks.signature import InvalidSignature, raw_body, verify_freepik_signature


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    body = raw_body(event.get("body"), bool(event.get("isBase64Encoded")))
    try:
        webhook_id = verify_freepik_signature(headers, body, freepik_secrets()["webhook_secret"])
    except InvalidSignature as exc:
        metrics.add_metric(name="FreepikWebhooksRejected", unit="Count", value=1)
        logger.warning("Freepik webhook rejected", extra={"reason": exc.reason})
        return problem_response(401, "Invalid signature", "The webhook signature did not verify.")

    from ecomvideo.http.json_limits import violation

    hostile = violation(body)
    if hostile is not None:
        return problem_response(hostile.status, hostile.title, hostile.detail)

    from ecomvideo.errors import BadRequest
    from ecomvideo.services.freepik_webhooks import handle_delivery

    try:
        outcome = handle_delivery(webhook_id, body)
    except BadRequest as exc:
        return problem_response(400, "Bad Request", exc.detail)
    return json_response(200, {"received": True, "outcome": outcome})
