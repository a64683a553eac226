"""GET /v1/health through the real handler, against a real PostgreSQL."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from ecomvideo import db
from ecomvideo.settings import reset_settings

ROOT = Path(__file__).resolve().parents[3]
EVENT = ROOT / "events/health/get_health.json"


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "health_app_under_test", ROOT / "functions/health/app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lambda_context() -> SimpleNamespace:
    return SimpleNamespace(
        function_name="HealthFunction",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:HealthFunction",
        aws_request_id="req-1",
    )


@pytest.fixture
def event() -> dict:
    return json.loads(EVENT.read_text())


@pytest.fixture
def fresh_engine(db_url: str):
    """The handler builds its own engine from DATABASE_URL, as in Lambda."""
    db.reset_engine()
    reset_settings()
    yield
    db.reset_engine()
    reset_settings()


def test_health_reports_ok_when_the_database_answers(fresh_engine, event):
    handler = load_handler()

    response = handler.lambda_handler(event, lambda_context())

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    body = json.loads(response["body"])
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"]
    assert body["stage"] == "test"


def test_health_is_503_degraded_when_the_database_is_down(fresh_engine, event, monkeypatch):
    # Port 9 (discard) on localhost: nothing listens, the connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT_S", "2")
    reset_settings()
    handler = load_handler()

    response = handler.lambda_handler(event, lambda_context())

    assert response["statusCode"] == 503
    body = json.loads(response["body"])
    assert (body["status"], body["database"]) == ("degraded", "unavailable")


def test_other_methods_on_health_are_405_problem_json(fresh_engine, event):
    event["requestContext"]["http"]["method"] = "DELETE"
    event["routeKey"] = "DELETE /v1/health"

    response = load_handler().lambda_handler(event, lambda_context())

    assert response["statusCode"] == 405
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert response["headers"]["Allow"] == "GET"
