"""Event sources of the local stack: SQS polling and (optional) schedules.

The SQS loop behaves like Lambda's event source mapping: it receives up to ``BatchSize``
messages, invokes the consumer with a real SQS event, deletes what succeeded, and leaves
failures on the queue (visibility timeout, then redelivery, then the DLQ via the queue's
RedrivePolicy). With ``ReportBatchItemFailures`` only the listed messages are kept.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from devserver.app_model import AppModel, ScheduleSource, SqsSource
from devserver.aws import LocalResources
from devserver.events import ACCOUNT_ID, scheduled_event, sqs_event
from devserver.runner import FunctionRunner, InvocationError

log = logging.getLogger("devserver.worker")

# Schedules run locally without --schedules, every DRAIN_SECONDS: the job queue's worker.
ALWAYS_DRAINED = frozenset({"JobsWorkerFunction"})
DRAIN_SECONDS = 2.0
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs of a ``rate(...)`` expression; None for ``cron(...)``."""
    found = _RATE.match(expression.strip())
    if found is None:
        return None
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2).rstrip("s")]


def failed_message_ids(
    result: Any, report_batch_item_failures: bool, all_ids: list[str]
) -> set[str]:
    """Which messages stay on the queue after an invocation that returned ``result``."""
    if not report_batch_item_failures or not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    ids = {str(f.get("itemIdentifier")) for f in failures if isinstance(f, dict)}
    # Lambda treats an unknown or empty identifier as a failure of the whole batch.
    if any(i not in all_ids for i in ids):
        return set(all_ids)
    return ids


class EventSources:
    """Background threads feeding SQS messages and schedules to the handlers."""

    def __init__(
        self,
        model: AppModel,
        runner: FunctionRunner,
        resources: LocalResources,
        *,
        region: str,
        schedules: bool = False,
        schedule_interval: float | None = None,
        poll_wait_seconds: int = 1,
    ) -> None:
        self.model = model
        self.runner = runner
        self.resources = resources
        self.region = region
        self.schedules_enabled = schedules
        self.schedule_interval = schedule_interval
        self.poll_wait_seconds = poll_wait_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for source in self.model.sqs_sources:
            self._spawn(f"sqs-{source.function}-{source.queue}", self._poll_loop, source)
        for schedule in self.model.schedules:
            if not schedule.enabled:
                continue
            if self.schedules_enabled:
                self._spawn(f"schedule-{schedule.function}", self._schedule_loop, schedule)
            elif schedule.function in ALWAYS_DRAINED:
                # Account mails (verify, reset, unlock) leave through the job queue: the
                # local stack drains it every few seconds even without --schedules.
                self._spawn(
                    f"drain-{schedule.function}", self._schedule_loop, schedule, DRAIN_SECONDS
                )

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- SQS -------------------------------------------------------------------------------
    def poll_once(self, source: SqsSource) -> int:
        """Receive one batch and deliver it; returns how many messages were received."""
        import boto3

        sqs = boto3.client("sqs", region_name=self.region)
        url = self.resources.queue_urls[source.queue]
        arn = self.resources.attrs[(source.queue, "Arn")]
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(source.batch_size, 10),
            WaitTimeSeconds=self.poll_wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        event = sqs_event(received, arn, self.region)
        ids = [m["MessageId"] for m in received]
        try:
            result = self.runner.invoke(source.function, event)
            keep = failed_message_ids(result, source.report_batch_item_failures, ids)
        except InvocationError as exc:
            log.error(
                "%s raised on %d message(s):\n%s", source.function, len(ids), exc.traceback_text
            )
            keep = set(ids)
        done = [m for m in received if m["MessageId"] not in keep]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        log.info(
            "%s <- %s: %d ok, %d left for retry",
            source.function,
            source.queue,
            len(done),
            len(keep),
        )
        return len(received)

    def _poll_loop(self, source: SqsSource) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(source)
            except Exception:
                log.exception("polling %s failed", source.queue)
                self._stop.wait(2)

    # -- schedules -------------------------------------------------------------------------
    def _schedule_loop(self, schedule: ScheduleSource, every: float | None = None) -> None:
        interval = every or self.schedule_interval or rate_seconds(schedule.expression)
        if interval is None:
            log.warning(
                "%s: %s runs only with --schedule-interval locally",
                schedule.function,
                schedule.expression,
            )
            return
        rule_arn = f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{schedule.event_name}"
        while not self._stop.wait(interval):
            try:
                event = scheduled_event(rule_arn, self.region, schedule.input)
                self.runner.invoke(schedule.function, event)
                log.info("%s ran (%s)", schedule.function, schedule.expression)
            except InvocationError as exc:
                log.error("%s raised:\n%s", schedule.function, exc.traceback_text)
