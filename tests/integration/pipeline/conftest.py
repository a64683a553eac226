"""Fixtures for the videos API tests: moto pipeline stack and users with credits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.freepik_fake import FreepikFakeState, freepik_configured
from tests.support.pipeline_stack import PipelineStack


@pytest.fixture
def stack(aws) -> Iterator[PipelineStack]:
    pipeline = PipelineStack()
    try:
        yield pipeline
    finally:
        pipeline.close()


@pytest.fixture
def freepik(monkeypatch, stack: PipelineStack) -> Iterator[FreepikFakeState]:
    """The fake Freepik at the HTTP layer, configured as the provider (after ``stack``)."""
    with freepik_configured(monkeypatch) as state:
        yield state
