"""The authorizer's pydantic-free settings agree with ``Settings``, and stay pydantic-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ecomvideo.jwt_config import JwtConfig, jwt_config
from ecomvideo.settings import Settings, get_settings, reset_settings
from tests.support.lambda_handlers import ROOT

FIELDS = {
    "issuer": "jwt_issuer",
    "audience": "jwt_audience",
    "public_key": "jwt_public_key",
    "private_key": "jwt_private_key",
    "private_key_secret_arn": "jwt_private_key_secret_arn",
}


def test_every_config_field_maps_to_a_settings_field():
    assert set(FIELDS) == set(JwtConfig.__dataclass_fields__)
    assert set(FIELDS.values()) <= set(Settings.model_fields)


def test_defaults_agree_with_settings(monkeypatch: pytest.MonkeyPatch):
    for name in FIELDS.values():
        monkeypatch.delenv(name.upper(), raising=False)
    reset_settings()
    settings, config = get_settings(), jwt_config()
    for attr, name in FIELDS.items():
        assert getattr(config, attr) == getattr(settings, name), name
    reset_settings()


def test_environment_values_agree_with_settings(monkeypatch: pytest.MonkeyPatch):
    for attr, name in FIELDS.items():
        monkeypatch.setenv(name.upper(), f"value-of-{attr}")
    reset_settings()
    settings, config = get_settings(), jwt_config()
    for attr, name in FIELDS.items():
        assert getattr(config, attr) == getattr(settings, name) == f"value-of-{attr}"
    reset_settings()


def test_authorizer_imports_neither_pydantic_nor_the_orm_nor_boto3():
    code = (
        "import json, sys; import app; "
        "print(json.dumps(sorted(m for m in ('pydantic', 'pydantic_settings', 'sqlalchemy', "
        "'boto3', 'botocore.client') if m in sys.modules)))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "core" / "python"),
        "AWS_LAMBDA_FUNCTION_NAME": "authorizer",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "authorizer"),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "functions" / "authorizer",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
