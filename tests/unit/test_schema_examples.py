"""Request and response examples: every JSON request body documents one, and each is valid.

The examples live on the pydantic models (``json_schema_extra={"examples": [...]}``), so the
Powertools resolvers put them into the component schemas of ``docs/openapi.json``; the
contract tests send the request examples to the local stack (schemathesis' explicit phase).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import ecomvideo.schemas

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text())
METHODS = ("get", "post", "put", "patch", "delete")


def _models_with_examples() -> dict[str, type[BaseModel]]:
    """``module.Class`` -> every BaseModel of ``ecomvideo.schemas`` that declares examples."""
    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.iter_modules(ecomvideo.schemas.__path__, "ecomvideo.schemas."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if not (inspect.isclass(obj) and issubclass(obj, BaseModel)):
                continue
            if obj.__module__ != module.__name__:
                continue  # imported from elsewhere: checked in its own module
            extra = obj.model_config.get("json_schema_extra")
            if isinstance(extra, dict) and extra.get("examples"):
                found[f"{module.__name__}.{name}"] = obj
    return found


MODELS = _models_with_examples()


def _json_request_refs() -> list[tuple[str, str]]:
    """(operation, component name) of every application/json request body given by $ref."""
    refs = []
    for path, item in DOCUMENT["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            ref = schema.get("$ref")
            if ref:
                refs.append((f"{method.upper()} {path}", ref.rsplit("/", 1)[-1]))
    return refs


REQUEST_REFS = _json_request_refs()


def test_the_walk_finds_the_models() -> None:
    # 35 request bodies plus the most used responses: a broken walk must not pass vacuously.
    assert len(MODELS) >= 40, sorted(MODELS)
    assert len(REQUEST_REFS) >= 35


@pytest.mark.parametrize(("operation", "component"), REQUEST_REFS, ids=lambda v: str(v))
def test_every_json_request_body_has_an_example(operation: str, component: str) -> None:
    schema = DOCUMENT["components"]["schemas"][component]
    assert schema.get("examples"), (
        f"{operation}: add json_schema_extra={{'examples': [...]}} to {component}, then "
        "regenerate docs/openapi.json"
    )


def _examples(model: Any) -> list[Any]:
    """The examples a schema declares (``json_schema_extra`` may be a dict or a callable)."""
    extra = model.model_config["json_schema_extra"]
    assert isinstance(extra, dict), model
    return list(extra["examples"])


@pytest.mark.parametrize("qualname", sorted(MODELS))
def test_examples_validate_against_their_model(qualname: str) -> None:
    model = MODELS[qualname]
    for example in _examples(model):
        model.model_validate(example)


@pytest.mark.parametrize("qualname", sorted(MODELS))
def test_examples_survive_a_json_round_trip(qualname: str) -> None:
    """What the document carries is JSON: the examples must validate from JSON text too."""
    model = MODELS[qualname]
    for example in _examples(model):
        model.model_validate_json(json.dumps(example))


def test_video_create_has_an_example_per_input_type() -> None:
    from ecomvideo.enums import VideoInputType
    from ecomvideo.schemas.videos import VideoCreate

    examples = _examples(VideoCreate)
    assert {e["input_type"] for e in examples} == {t.value for t in VideoInputType}


def test_examples_keep_the_request_models_strict() -> None:
    """Adding ``model_config`` to a subclass must not lose the base's ``extra="forbid"``."""
    for qualname, model in MODELS.items():
        if model.__name__ in {c for _, c in REQUEST_REFS}:
            assert model.model_config.get("extra") == "forbid", qualname
