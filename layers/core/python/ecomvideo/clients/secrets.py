"""Provider secrets: Secrets Manager (cached 5 min) in AWS, environment values locally.

Import-light on purpose (no httpx, no ORM): the webhook handlers read their signing secret
before anything heavy is imported, so rejected requests stay cheap.
"""

from __future__ import annotations

import json

from ecomvideo.settings import get_settings


def _from_secret(arn: str) -> dict[str, str]:
    from aws_lambda_powertools.utilities.parameters import get_secret

    raw = get_secret(arn, max_age=300)
    data = json.loads(raw if isinstance(raw, str) else raw.decode())
    return {k: str(v) for k, v in data.items() if k in ("api_key", "webhook_secret")}


def freepik_secrets() -> dict[str, str]:
    """``{"api_key", "webhook_secret"}`` for Freepik."""
    settings = get_settings()
    if settings.freepik_secret_arn:
        return _from_secret(settings.freepik_secret_arn)
    return {
        "api_key": settings.freepik_api_key or "",
        "webhook_secret": settings.freepik_webhook_secret or "",
    }
