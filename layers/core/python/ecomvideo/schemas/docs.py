"""Examples for the OpenAPI document, declared on the models (tests/unit/test_schema_examples.py
validates every one against its model)."""

from typing import Any

from pydantic import ConfigDict


def examples_extra(*examples: dict[str, Any]) -> dict[str, Any]:
    """``json_schema_extra`` carrying ``examples`` (to combine with other ConfigDict keys)."""
    return {"examples": list(examples)}


def examples(*examples: dict[str, Any]) -> ConfigDict:
    """A ``model_config`` with only examples (the base class's config is inherited)."""
    return ConfigDict(json_schema_extra=examples_extra(*examples))
