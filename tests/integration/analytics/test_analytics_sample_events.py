"""The sample events in events/analytics/ are valid inputs for the real handlers."""

from __future__ import annotations

import json

from tests.support.lambda_handlers import ROOT, context, load_handler_module


def _sample(name: str) -> dict:
    return json.loads((ROOT / "events" / "analytics" / name).read_text())


def test_sample_http_events_reach_their_routes(db):
    # The sample ids do not exist in the test database: each route answers its own 404.
    for function, name in (
        ("public", "public_video_get.json"),
        ("public", "public_event_view.json"),
        ("sharing", "share_create.json"),
        ("analytics", "video_report.json"),
    ):
        result = load_handler_module(function).lambda_handler(_sample(name), context(function))
        assert result["statusCode"] == 404, (name, result)
        assert json.loads(result["body"])["detail"] == "No such video."


def test_sample_sqs_batch_is_consumed(db):
    ingest = load_handler_module("analytics_ingest")
    result = ingest.lambda_handler(_sample("ingest_sqs_batch.json"), context("analytics_ingest"))
    assert result == {"batchItemFailures": []}  # unknown video: skipped, not retried
