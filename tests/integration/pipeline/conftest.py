"""Fixtures for the videos API tests: moto pipeline stack and users with credits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pipeline_stack import PipelineStack


@pytest.fixture
def stack(aws) -> Iterator[PipelineStack]:
    pipeline = PipelineStack()
    try:
        yield pipeline
    finally:
        pipeline.close()
