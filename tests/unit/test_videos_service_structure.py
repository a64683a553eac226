"""The videos service is split by concern: small modules, public names only across modules,
and storyboards (which the pipeline uses) below it, not beside it in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.api import ROOT

SERVICES = ROOT / "layers/core/python/ecomvideo/services"
OWN = [SERVICES / "video_access.py", *sorted((SERVICES / "videos").glob("*.py"))]


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every ``from ecomvideo... import name`` in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ecomvideo"):
            found += [(node.module or "", alias.name) for alias in node.names]
    return found


def test_every_videos_module_is_under_500_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in OWN}
    assert max(sizes.values()) < 500, sizes


def test_the_videos_modules_import_no_private_name():
    private = [(p.name, m, n) for p in OWN for m, n in _imports(p) if n.startswith("_")]
    assert private == []


def test_nothing_imports_a_private_name_of_the_videos_service():
    layer = ROOT / "layers/core/python/ecomvideo"
    offenders = [
        (str(p.relative_to(layer)), module, name)
        for p in layer.rglob("*.py")
        for module, name in _imports(p)
        if module.startswith(("ecomvideo.services.videos", "ecomvideo.services.video_access"))
        and name.startswith("_")
    ]
    assert offenders == []


def test_storyboards_and_the_pipeline_do_not_import_the_videos_service():
    below = [SERVICES / "storyboards.py", SERVICES / "video_access.py"]
    below += [SERVICES / "pipeline.py"] if (SERVICES / "pipeline.py").exists() else []
    below += (
        sorted((SERVICES / "pipeline").glob("*.py")) if (SERVICES / "pipeline").is_dir() else []
    )
    for path in below:
        modules = {m for m, _ in _imports(path)}
        modules |= {f"{m}.{n}" for m, n in _imports(path) if m == "ecomvideo.services"}
        assert not any(m.startswith("ecomvideo.services.videos") for m in modules), path.name
