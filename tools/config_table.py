"""Print README's configuration table from ``ecomvideo.settings.Settings``.

``python -m tools.config_table`` (with ``layers/core/python`` on PYTHONPATH) prints the
Markdown table; paste it into README.md. A unit test fails when a setting is missing there.
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo

from ecomvideo.settings import Settings


def _default(field: FieldInfo) -> str:
    value: Any = field.get_default(call_default_factory=True)
    if value is None:
        return "(unset)"
    return f"`{value}`"


def rows() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every field, in declaration order."""
    names = Settings.env_names()
    return [
        (names[name], _default(field), (field.description or "").replace("|", "\\|"))
        for name, field in Settings.model_fields.items()
    ]


def markdown() -> str:
    lines = ["| Variable | Default | Description |", "| --- | --- | --- |"]
    lines += [f"| `{var}` | {default} | {text} |" for var, default, text in rows()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
