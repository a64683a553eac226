"""Packages that re-export their modules' names without importing them (PEP 562).

A service package such as ``services.videos`` offers one namespace to its handler
(``videos.submit``, ``videos.list_videos``) while each route imports only the module behind the
name it calls: listing videos does not declare the models and build the storyboards that
creating one needs. ``exports`` gives a package its module-level ``__getattr__`` and
``__dir__``; the package also imports the same names under ``if TYPE_CHECKING:`` so that type
checkers and readers see real imports (a test keeps the two in step).

SnapStart functions want the opposite: everything loaded before the snapshot is free after a
restore. ``load_primed`` (the before-snapshot hook) resolves every name of the packages
imported so far.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

# Packages whose names the before-snapshot hook resolves, in the order they were set up.
_PRIMED: dict[str, Mapping[str, str]] = {}


def exports(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``.

    ``names`` maps each exported name to the module that defines it (``"pkg.module"``), or to
    ``"pkg.module:attr"`` when the package exports it under another name. A resolved name is
    stored in the package, so the lookup runs once.
    """
    namespace = sys.modules[package].__dict__
    _PRIMED[package] = names

    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attr = target.partition(":")
        value = getattr(importlib.import_module(module), attr or name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__


def load_primed() -> None:
    """Resolve every exported name of the lazy packages imported so far."""
    for package, names in list(_PRIMED.items()):
        module = sys.modules[package]
        for name in names:
            getattr(module, name)
