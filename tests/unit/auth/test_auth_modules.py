"""The account services stay split in modules under 500 lines that use only each other's
public names (issue 19: services/auth.py was one 599-line module)."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[3] / "layers/core/python/ecomvideo/services"
MODULES = sorted(SERVICES.glob("auth*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_the_auth_modules_are_split():
    assert {m.stem for m in MODULES} >= {"auth", "auth_sessions", "auth_throttle", "auth_mail"}
    sizes = {m.name: len(m.read_text().splitlines()) for m in MODULES}
    assert all(lines < 500 for lines in sizes.values()), sizes


def test_no_auth_module_reaches_into_another_ones_private_names():
    offenders = []
    for module in MODULES:
        tree = ast.parse(module.read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ecomvideo"):
                offenders += [f"{module.name}: {a.name}" for a in node.names if _private(a.name)]
                imported |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                imported |= {a.asname or a.name.split(".")[0] for a in node.names}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in imported
                and _private(node.attr)
            ):
                offenders.append(f"{module.name}: {node.value.id}.{node.attr}")
    assert not offenders, offenders
