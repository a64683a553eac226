"""The pipeline package's shape: small modules, public seams only, no cycle with the API side.

Read from the source with ``ast`` (every import counts, also those inside functions), so the
rules hold for code paths no test happens to run.
"""

from __future__ import annotations

import ast
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers/core/python"
PACKAGE = LAYER / "ecomvideo/services/pipeline"
MAX_LINES = 500


def _module_path(name: str) -> Path | None:
    base = LAYER / name.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import statement in the file."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [alias.name for alias in node.names]
            found.append((node.module, names))
            # ``from package import module`` imports the module too
            found += [
                (f"{node.module}.{n}", []) for n in names if _module_path(f"{node.module}.{n}")
            ]
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return [(m, n) for m, n in found if m.startswith("ecomvideo")]


def _reaches(start: str, target_prefix: str) -> list[str] | None:
    """An import path from module ``start`` to a module under ``target_prefix``, or None."""
    seen: set[str] = set()
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        name, path = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        file = _module_path(name)
        if file is None:
            continue
        for module, _ in _imports(file):
            if module == target_prefix or module.startswith(target_prefix + "."):
                return [*path, module]
            stack.append((module, [*path, module]))
    return None


def test_every_pipeline_module_is_under_500_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert sizes and all(n < MAX_LINES for n in sizes.values()), sizes


def test_no_pipeline_module_imports_a_private_name_of_another():
    offenders = [
        f"{path.name}: {module}.{name}"
        for path in PACKAGE.glob("*.py")
        for module, names in _imports(path)
        for name in names
        if name.startswith("_")
    ]
    assert offenders == []


def test_the_api_side_never_imports_the_pipeline():
    # The lifecycle both need lives below them (services.video_lifecycle), so the worker's
    # package can import what it needs without a cycle through services.videos.
    assert _reaches("ecomvideo.services.videos", "ecomvideo.services.pipeline") is None
    assert _reaches("ecomvideo.services.video_lifecycle", "ecomvideo.services") is None
