"""README's configuration table documents every setting."""

from __future__ import annotations

from pathlib import Path

from ecomvideo.settings import Settings
from tools.config_table import rows

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_env_var_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in Settings.env_names().values() if f"`{name}`" not in readme]
    assert not missing, f"add to README (python -m tools.config_table): {missing}"


def test_table_has_one_row_per_field_with_alias_names():
    table = rows()
    assert len(table) == len(Settings.model_fields)
    names = [r[0] for r in table]
    assert "DATABASE_URL" in names
    assert "AWS_ENDPOINT_URL_S3" in names  # alias, not S3_PUBLIC_ENDPOINT
