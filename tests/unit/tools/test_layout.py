"""devserver/ is the local stack, tools/ the repository tooling; shipped code imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _imported_top_levels(directory: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(directory.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_local_stack_does_not_depend_on_repository_tooling():
    offenders = [
        p for p, names in _imported_top_levels(ROOT / "devserver").items() if "tools" in names
    ]
    assert offenders == []


def test_shipped_code_imports_neither_the_local_stack_nor_the_tools():
    for directory in (ROOT / "layers", ROOT / "functions"):
        offenders = [
            p
            for p, names in _imported_top_levels(directory).items()
            if names & {"tools", "devserver"}
        ]
        assert offenders == [], directory.name
