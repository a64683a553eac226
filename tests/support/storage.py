"""The two media buckets in moto (the settings' default names) and what they hold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

VIDEOS_BUCKET = "ecomvideo-videos-local"
UPLOADS_BUCKET = "ecomvideo-uploads-local"


@contextmanager
def media_buckets() -> Iterator[Any]:
    """Create both buckets (inside ``mock_aws``); yields an S3 client, which the layer uses
    too while the block runs (other cached clients, e.g. a Step Functions fake, stay)."""
    import boto3

    from ecomvideo.clients import aws

    s3 = boto3.client("s3", region_name="us-east-1")
    aws.set_client("s3", s3)
    for bucket in (VIDEOS_BUCKET, UPLOADS_BUCKET):
        s3.create_bucket(Bucket=bucket)
    try:
        yield s3
    finally:
        aws.set_client("s3", None)  # the next use builds a fresh one


def put(s3: Any, bucket: str, *keys: str) -> set[tuple[str, str]]:
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    return {(bucket, key) for key in keys}


def stored(s3: Any) -> set[tuple[str, str]]:
    """(bucket, key) of every object in both buckets."""
    found: set[tuple[str, str]] = set()
    for bucket in (VIDEOS_BUCKET, UPLOADS_BUCKET):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            found |= {(bucket, o["Key"]) for o in page.get("Contents", [])}
    return found
