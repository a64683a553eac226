"""The real template.yaml, read the way the local stack reads it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from devserver.app_model import build_model
from devserver.aws import base_refs, function_environments, plan_resources
from devserver.routing import Match, RouteTable

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def model():
    return build_model(ROOT / "template.yaml")


def test_health_route_is_public_and_served_by_the_health_function(model):
    table = RouteTable(model.routes)

    found = table.match("GET", "/v1/health")

    assert isinstance(found, Match)
    assert found.route.function == "HealthFunction"
    assert found.route.authorizer is None
    assert found.route.route_key == "GET /v1/health"


def test_every_function_points_at_an_existing_handler(model):
    assert model.functions, "template declares no functions"
    for spec in model.functions.values():
        assert spec.module_file.is_file(), spec.module_file
        tree = ast.parse(spec.module_file.read_text())
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert spec.handler_name in names, f"{spec.logical_id}: no {spec.handler_name}()"


def test_every_route_is_unique(model):
    keys = [r.route_key for r in model.routes]
    assert len(keys) == len(set(keys)), keys


def test_every_function_names_its_powertools_service(model):
    for spec in model.functions.values():
        assert spec.environment.get("POWERTOOLS_SERVICE_NAME"), spec.logical_id
        assert spec.environment.get("POWERTOOLS_METRICS_NAMESPACE") == "EcomVideo"


def test_environments_resolve_with_local_values(model):
    plan = plan_resources(model, "us-east-1", base_refs(model, "us-east-1"))

    envs = function_environments(model, plan, {"DATABASE_URL": "postgresql://x/y"})

    health = envs["HealthFunction"]
    assert health["STAGE"] == "local"
    assert health["POWERTOOLS_SERVICE_NAME"] == "health"
    assert health["DB_SECRET_ARN"] == ""
    assert health["DATABASE_URL"] == "postgresql://x/y"
    assert all(isinstance(v, str) for v in health.values())


def test_core_layer_python_dir_is_on_the_local_path(model):
    assert ROOT / "layers/core/python" in model.layer_python_dirs()


def test_layer_requirements_match_the_layer_lock():
    # SAM builds the layer from layers/core/ alone; `make layer-requirements` keeps the copy.
    lock = (ROOT / "requirements/layer.txt").read_text()
    assert (ROOT / "layers/core/requirements.txt").read_text() == lock


def test_an_exported_variable_beats_an_unset_parameters_empty_default(model):
    plan = plan_resources(model, "us-east-1", base_refs(model, "us-east-1"))
    exported = {"PUBLIC_API_URL": "https://tunnel.example.test", "DB_SECRET_ARN": "arn:x"}

    envs = function_environments(model, plan, {}, process_env=exported)

    assert envs["FreepikWebhookFunction"]["PUBLIC_API_URL"] == "https://tunnel.example.test"
    # A parameter with a local value (DatabaseSecretArn -> "") keeps it.
    assert envs["FreepikWebhookFunction"]["DB_SECRET_ARN"] == ""


def test_an_explicit_parameter_beats_the_environment(model):
    refs = base_refs(model, "us-east-1", {"PublicApiUrl": "https://given.example.test"})
    plan = plan_resources(model, "us-east-1", refs)

    envs = function_environments(
        model, plan, {}, process_env={"PUBLIC_API_URL": "https://tunnel.example.test"}
    )

    assert envs["FreepikWebhookFunction"]["PUBLIC_API_URL"] == "https://given.example.test"
