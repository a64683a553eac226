"""The base of every API schema: built on first use, not at import (``defer_build``).

A function imports the schemas of all its routes, but a cold start should not compile the
validators of routes it is not serving: pydantic builds a model's core schema the first time
it validates, serialises or describes it (cold start: docs/benchmarks.md).
"""

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(defer_build=True)
