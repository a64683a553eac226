"""Invoke scheduled (EventBridge) handlers the way Lambda does: the schedule's constant input
as the event, and a context with a realistic timeout (the handlers budget their time on it)."""

from __future__ import annotations

import json
from typing import Any

from devserver.events import LambdaContext, scheduled_event
from tests.support.lambda_handlers import load_handler_module

REGION = "us-east-1"


def invoke_scheduled(
    function: str, payload: dict[str, Any] | None = None, *, timeout_s: int = 300
) -> Any:
    """Call ``functions/<function>/app.py``'s handler with an EventBridge schedule event."""
    rule_arn = f"arn:aws:events:{REGION}:123456789012:rule/{function}-schedule"
    event = scheduled_event(rule_arn, REGION, json.dumps(payload) if payload is not None else None)
    context = LambdaContext(function, memory_mb=512, timeout_s=timeout_s, region=REGION)
    return load_handler_module(function).lambda_handler(event, context)


def run_task(task: str, **kw: Any) -> dict[str, Any]:
    """One run of the cleanup function for ``task``."""
    return invoke_scheduled("cleanup", {"task": task}, **kw)
