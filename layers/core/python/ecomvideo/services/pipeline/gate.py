"""The provider concurrency gate: tasks in flight per provider account, in PostgreSQL.

Steps beyond the account's limit wait as ``Queued`` (with a position) instead of earning a 429
or a failure; a freed slot goes to the oldest queued step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecomvideo.models import Video
from ecomvideo.models.pipeline import PipelineStep
from ecomvideo.services import system_settings
from ecomvideo.services.pipeline.results import provider_for
from ecomvideo.services.video_lifecycle import (
    POLLABLE_STEPS,
    TERMINAL_VALUES,
    StepState,
    queued_ahead,
)


def gate_full(session: Session, video: Video, row: PipelineStep) -> bool:
    """The provider concurrency gate (per provider account, in PostgreSQL), first come first
    served.

    Serialised by a transaction-level advisory lock per provider: count the steps of active
    videos holding a provider task (Started image/video steps) and the live queued steps that
    came before this one (``_queued_ahead``); the step may start only while both together stay
    under the account's limit (``provider_concurrency``), so a freed slot goes to the oldest
    waiting step, whichever retries first. Otherwise it waits (``Queued``) instead of earning
    a 429 or a failure. A limit of 0 disables the gate."""
    provider = provider_for(video)
    if not getattr(provider, "asynchronous", False):
        return False
    limit = provider_concurrency(session, provider)
    if limit <= 0:
        return False
    name = str(provider.name)
    row.provider = name
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"provider-gate:{name}"))))
    in_flight = session.scalar(
        select(func.count())
        .select_from(PipelineStep)
        .join(Video, Video.id == PipelineStep.video_id)
        .where(
            PipelineStep.state == StepState.STARTED,
            PipelineStep.step.in_(POLLABLE_STEPS),
            PipelineStep.provider == name,
            Video.status.not_in(TERMINAL_VALUES),
        )
    )
    return int(in_flight or 0) + queued_ahead(session, row, name) >= limit


def provider_concurrency(session: Session, provider: Any) -> int:
    """The provider account's limit of tasks in flight: the ``pipeline.provider_concurrency``
    system setting for the provider's name (admins set it to their account's plan), else what
    the provider declares for an account (``account_concurrency``; Freepik: 3), else none."""
    configured = system_settings.get(session, "pipeline.provider_concurrency", None)
    name = str(provider.name)
    if isinstance(configured, dict) and isinstance(configured.get(name), int | float):
        return int(configured[name])
    return int(getattr(provider, "account_concurrency", 0) or 0)
