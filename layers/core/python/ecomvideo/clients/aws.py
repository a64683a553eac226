"""boto3 clients for S3, Step Functions and SQS: created lazily, one of each per container.

Nothing connects at import time (cold start, SnapStart). Tests and the local stack swap a client
with ``set_client(name, client)`` or drop the cached ones with ``reset_clients()`` (e.g. after
entering ``mock_aws``).

Presigned S3 URLs are signed by a separate client whose endpoint is ``settings.s3_public_endpoint``
when set (the moto server locally), so the URL names an address a browser or curl can reach.
"""

from __future__ import annotations

import threading
from typing import Any

from ecomvideo.settings import get_settings

_clients: dict[str, Any] = {}
_lock = threading.Lock()

# Adaptive retries absorb throttling; timeouts keep a stuck call from eating the Lambda budget.
_CONFIG_KWARGS: dict[str, Any] = {
    "retries": {"max_attempts": 4, "mode": "standard"},
    "connect_timeout": 5,
    "read_timeout": 20,
}


def _build(name: str) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    if name == "s3_presign":
        config = Config(signature_version="s3v4", s3={"addressing_style": "path"}, **_CONFIG_KWARGS)
        return boto3.client(
            "s3",
            region_name=settings.aws_region,
            endpoint_url=settings.s3_public_endpoint,
            config=config,
        )
    if name == "s3":
        config = Config(signature_version="s3v4", **_CONFIG_KWARGS)
        return boto3.client("s3", region_name=settings.aws_region, config=config)
    return boto3.client(name, region_name=settings.aws_region, config=Config(**_CONFIG_KWARGS))


def client(name: str) -> Any:
    """The container's client for ``name`` (s3, s3_presign, stepfunctions, sqs)."""
    found = _clients.get(name)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(name)
        if found is None:
            found = _clients[name] = _build(name)
        return found


def s3() -> Any:
    return client("s3")


def stepfunctions() -> Any:
    return client("stepfunctions")


def sqs() -> Any:
    return client("sqs")


def presigned_get(
    bucket: str, key: str, *, expires_in: int = 3600, filename: str | None = None
) -> str:
    """A GET URL for an object, valid ``expires_in`` seconds (1 h by default)."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    return client("s3_presign").generate_presigned_url(
        "get_object", Params=params, ExpiresIn=expires_in
    )


def presigned_put(
    bucket: str, key: str, *, content_type: str, content_length: int, expires_in: int = 900
) -> str:
    """A PUT URL bound to the content type and exact length the caller declared."""
    return client("s3_presign").generate_presigned_url(
        "put_object",
        Params={
            "Bucket": bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": content_length,
        },
        ExpiresIn=expires_in,
    )


def set_client(name: str, value: Any) -> None:
    """Replace a client (tests: a stub, or a client bound to a moto server)."""
    _clients[name] = value


def reset_clients() -> None:
    """Forget every cached client; the next call builds fresh ones from settings."""
    _clients.clear()


def split_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b' -> ('bucket', 'a/b'); raises ValueError otherwise."""
    if not uri.startswith("s3://"):
        raise ValueError("not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket or not key:
        raise ValueError("not an s3:// URI")
    return bucket, key
