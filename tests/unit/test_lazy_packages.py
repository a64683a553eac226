"""Lazy service packages (``ecomvideo.lazy``): what they export, what a route imports, and the
SnapStart hook that loads them all.

A package built with ``lazy.exports`` names its modules twice: in the table of names (what runs)
and under ``if TYPE_CHECKING:`` (what mypy, readers and the import-layer test see). These tests
keep the two the same, resolve every name, and check in fresh interpreters that serving one
route does not load another route's modules.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from ecomvideo import lazy

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core" / "python"
PACKAGES = ["ecomvideo.services.videos", "ecomvideo.services.pipeline"]


def _table(package: str) -> dict[str, str]:
    module = importlib.import_module(package)
    return dict(lazy._PRIMED[module.__name__])


def _type_checking_imports(package: str) -> dict[str, str]:
    """``name -> "module"`` (or ``"module:attr"`` for ``as`` imports) of the package's
    ``if TYPE_CHECKING:`` block."""
    path = LAYER / (package.replace(".", "/") + "/__init__.py")
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                for alias in stmt.names:
                    target = stmt.module if alias.asname is None else f"{stmt.module}:{alias.name}"
                    found[alias.asname or alias.name] = target
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_the_lazy_table_is_what_type_checkers_see(package: str):
    assert _table(package) == _type_checking_imports(package)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_and_is_in_all(package: str):
    module = importlib.import_module(package)
    table = _table(package)
    for name in table:
        assert getattr(module, name) is not None
    assert sorted(module.__all__) == sorted(table)
    assert set(table) <= set(dir(module))


def test_an_unknown_name_is_an_attribute_error():
    from ecomvideo.services import videos

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = videos.nope


def _modules_after(code: str) -> set[str]:
    script = f"import sys\nsys.path[:0] = [{str(LAYER)!r}]\n{code}\nprint(' '.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(out.stdout.split())


def test_importing_a_lazy_package_loads_none_of_its_modules():
    loaded = _modules_after("from ecomvideo.services import pipeline, videos")
    assert not {m for m in loaded if m.startswith("ecomvideo.services.videos.")}
    assert not {m for m in loaded if m.startswith("ecomvideo.services.pipeline.")}
    assert "ecomvideo.models.videos" not in loaded


def test_polling_a_video_does_not_load_what_creating_one_needs():
    loaded = _modules_after(
        "from ecomvideo.services import videos\nvideos.detail, videos.poll_headers"
    )
    assert "ecomvideo.services.videos.queries" in loaded
    assert not loaded & {
        "ecomvideo.services.videos.creation",
        "ecomvideo.services.storyboards",
        "ecomvideo.services.credits",
        "ecomvideo.models.ledger",
        "ecomvideo.models.preferences",
    }


def test_a_poll_message_does_not_load_finalize():
    loaded = _modules_after("from ecomvideo.services import pipeline\npipeline.handle")
    assert "ecomvideo.services.pipeline.runner" in loaded
    assert "ecomvideo.services.pipeline.finalize" not in loaded
    assert "ecomvideo.services.notifications" not in loaded


def test_load_primed_loads_every_module_behind_the_imported_packages():
    loaded = _modules_after(
        "from ecomvideo.services import videos\nfrom ecomvideo import lazy\nlazy.load_primed()"
    )
    assert {
        "ecomvideo.services.videos.creation",
        "ecomvideo.services.videos.lifecycle",
        "ecomvideo.services.videos.balance",
        "ecomvideo.services.storyboards",
    } <= loaded
    # Only the packages the function imported: the pipeline's stay out of the videos function.
    assert "ecomvideo.services.pipeline.runner" not in loaded


def test_the_snapstart_hook_loads_the_lazy_services():
    loaded = _modules_after(
        "from ecomvideo.services import videos\nfrom ecomvideo import snapstart\n"
        "snapstart.build_deferred()"
    )
    assert "ecomvideo.services.videos.creation" in loaded


def test_the_pipeline_worker_never_imports_the_api_schemas():
    loaded = _modules_after(
        "from ecomvideo.services import pipeline\nfrom ecomvideo import lazy\nlazy.load_primed()"
    )
    assert "ecomvideo.services.pipeline.finalize" in loaded
    assert not {m for m in loaded if m.startswith("ecomvideo.schemas")}


def test_enqueuing_a_viewer_event_does_not_load_the_analytics_tables():
    """The public function only enqueues events in production (analytics_ingest records them):
    the event and its hand-off map no analytics table."""
    loaded = _modules_after(
        "from ecomvideo.services import sharing, tracked_events\n"
        "tracked_events.TrackedEvent, tracked_events.submit"
    )
    assert "ecomvideo.models.engagement" in loaded  # the share links it resolves
    assert not loaded & {
        "ecomvideo.services.analytics",
        "ecomvideo.models.analytics",
        "ecomvideo.models.rollups",
        "ecomvideo.models.activity",
    }
