"""SQS consumer of public video events (``AnalyticsQueue``): records each with partial failures.

Each message is one ``tracked_events.TrackedEvent`` recorded in its own transaction, so a poison
message fails alone (and reaches the DLQ after maxReceiveCount) while the rest of the batch
commits. A malformed body is logged and dropped: retrying it can never succeed.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.services import analytics, tracked_events

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    try:
        event = tracked_events.TrackedEvent.from_message(json.loads(record.body))
    except (ValueError, KeyError, TypeError):
        logger.error("dropping malformed analytics message", extra={"id": record.message_id})
        metrics.add_metric(name="AnalyticsMalformed", unit="Count", value=1)
        return
    with transaction() as session:
        result = analytics.record(session, event)
    if result is not None and result.counted:
        metrics.add_metric(name="AnalyticsCounted", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
