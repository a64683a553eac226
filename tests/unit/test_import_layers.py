"""The import structure stays one-way and readable (plain AST, nothing is imported).

Layers: ``functions/*`` (handlers) -> ``ecomvideo.http`` (the API frame) -> ``ecomvideo.services``
-> everything below (``models``, ``clients``, ``media``, ``scraping``, ``security``, ``schemas``,
``providers``, ``webhooks`` and the top-level modules such as ``errors``, ``db``, ``keyset``).
``models``, ``clients`` and ``media`` are the floor: they import only their own package and the
top-level modules. Nothing in the layer imports a handler or the local stack. No module imports a
private name (``_x``) of another, no cycle exists at import time, and a function-level import in
a service says why it is lazy (a ``# lazy: <reason>`` comment on or right above it).

``KNOWN_VIOLATIONS`` is the allowlist a large refactor may use while it is in flight (a stale
entry fails, so it only shrinks); it is empty and a test keeps it so.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core" / "python"
FUNCTIONS = ROOT / "functions"
SERVICES = LAYER / "ecomvideo" / "services"
MAX_SERVICE_LINES = 500
FLOOR_PACKAGES = ("ecomvideo.models", "ecomvideo.clients", "ecomvideo.media")
FORBIDDEN_FOR_LAYER = ("functions", "devserver", "tests", "bench", "tools")

# In-flight splits (issue 17: auth; issue 18: pipeline; issue 21 helper: videos). Each entry is
# (rule, importer, detail). Only violations inside those three modules may be listed here.
KNOWN_VIOLATIONS: set[tuple[str, str, str]] = set()


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module the statement loads (a submodule when one is named)
    names: tuple[str, ...]  # the names a ``from`` import binds; () for ``import x``
    line: int
    top_level: bool  # runs at import time (not inside a function)
    type_only: bool  # under ``if TYPE_CHECKING:``
    reason: bool  # a ``# lazy:`` comment on the statement or the lines right above it


def _module_name(path: Path) -> str:
    if path.is_relative_to(LAYER):
        parts = list(path.relative_to(LAYER).with_suffix("").parts)
    else:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    paths = [*LAYER.joinpath("ecomvideo").rglob("*.py"), *FUNCTIONS.glob("*/*.py")]
    return {_module_name(p): p for p in paths}


MODULES = _sources()


def _resolve(base: str, name: str | None) -> str:
    """``from base import name``: the submodule when ``name`` is one, else ``base``."""
    if name and f"{base}.{name}" in MODULES:
        return f"{base}.{name}"
    return base


def _has_reason(lines: list[str], node: ast.stmt) -> bool:
    if "# lazy:" in lines[node.lineno - 1]:
        return True
    index = node.lineno - 2
    while index >= 0 and lines[index].strip().startswith(("#", "from ", "import ")):
        if lines[index].strip().startswith("# lazy:"):
            return True
        index -= 1
    return False


def _imports(module: str, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(nodes: list[ast.stmt], *, top: bool, type_only: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.body, top=top, type_only=True)
                visit(node.orelse, top=top, type_only=type_only)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(
                        Import(
                            module, alias.name, (), node.lineno, top, type_only,
                            _has_reason(lines, node),
                        )
                    )  # fmt: skip
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    found.append(
                        Import(
                            module, _resolve(base, alias.name), (alias.name,), node.lineno, top,
                            type_only, _has_reason(lines, node),
                        )
                    )  # fmt: skip
            inner_top = top and not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list) and not isinstance(node, ast.If | ast.Import):
                    visit(children, top=inner_top, type_only=type_only)
            if isinstance(node, ast.If):
                visit(node.body, top=top, type_only=type_only)
                visit(node.orelse, top=top, type_only=type_only)

    visit(ast.parse(source).body, top=True, type_only=False)
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def _is_top_level_module(module: str) -> bool:
    """``ecomvideo.errors``, ``ecomvideo.db``...: a module file right under ``ecomvideo``."""
    return module.count(".") == 1 and module in MODULES and MODULES[module].name != "__init__.py"


def _in(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _last_class_line(module: str) -> int:
    tree = ast.parse(MODULES[module].read_text())
    return max((n.lineno for n in tree.body if isinstance(n, ast.ClassDef)), default=0)


def _mapper_registration(imp: Import) -> bool:
    """A model module importing, after all its classes, the model modules its relationships
    name (``models.users`` <-> ``models.billing``): SQLAlchemy's registry needs both mappers
    before it configures either, and the import runs once both classes exist, so the mutual
    import cannot see a half-initialised module. Not a dependency cycle between layers."""
    return (
        _in(imp.importer, "ecomvideo.models")
        and _in(imp.target, "ecomvideo.models")
        and imp.line > _last_class_line(imp.importer)
    )


def _edges(*, top_level_only: bool, within: str = "ecomvideo") -> set[tuple[str, str]]:
    return {
        (imp.importer, imp.target)
        for imp in IMPORTS
        if not imp.type_only
        and not _mapper_registration(imp)
        and (imp.top_level or not top_level_only)
        and _in(imp.importer, within)
        and _in(imp.target, within)
        and imp.target in MODULES
        and imp.importer != imp.target
    }


def _check(rule: str, violations: set[tuple[str, str, str]]) -> None:
    """Compare with the allowlist: new violations fail, and so do entries that are gone."""
    known = {k for k in KNOWN_VIOLATIONS if k[0] == rule}
    new = sorted(v for v in violations if not any(_matches(v, k) for k in known))
    assert not new, f"new {rule} violations: {new}"
    stale = sorted(k for k in known if not any(_matches(v, k) for v in violations))
    assert not stale, f"fixed, remove from KNOWN_VIOLATIONS: {stale}"


def _matches(violation: tuple[str, str, str], known: tuple[str, str, str]) -> bool:
    """``known`` covers ``violation``: same rule, importer in the known module (or package, after
    a split), and the same detail (or a module inside it) or ``*`` (any)."""
    return (
        violation[0] == known[0]
        and _in(violation[1], known[1])
        and (known[2] == "*" or _in(violation[2], known[2]))
    )


def test_the_allowlist_stays_empty():
    """The splits have landed: a new violation is fixed, not listed."""
    assert not KNOWN_VIOLATIONS


def test_the_scan_sees_the_layer_and_the_handlers():
    assert "ecomvideo.services.stripe_events" in MODULES
    assert "functions.billing.app" in MODULES
    assert any(i.target == "ecomvideo.services.billing" for i in IMPORTS)


def test_no_import_cycle_at_import_time():
    assert _cycles(_edges(top_level_only=True)) == []


def test_no_service_cycle_hidden_behind_function_level_imports():
    found = set()
    for component in _cycles(_edges(top_level_only=False, within="ecomvideo.services")):
        for i, a in enumerate(component):
            for b in component[i + 1 :]:
                found.add(("cycle", a, b))
    _check("cycle", found)  # every pair of modules in one cycle must be known


def test_no_module_imports_a_private_name_of_another():
    violations = set()
    for imp in IMPORTS:
        if not _in(imp.target, "ecomvideo") or imp.target == imp.importer:
            continue
        for name in imp.names:
            if name.startswith("_") and not name.startswith("__"):
                violations.add(("private", imp.importer, f"{imp.target}.{name}"))
    for module, path in MODULES.items():
        bound = {
            (alias.asname or alias.name): _resolve(node.module or "", alias.name)
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ecomvideo")
            for alias in node.names
        }
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and bound.get(node.value.id) in MODULES
                and bound[node.value.id] != module
            ):
                violations.add(("private", module, f"{bound[node.value.id]}.{node.attr}"))
    _check("private", violations)


def _breaks_layers(source: str, target: str) -> bool:
    in_layer = _in(source, "ecomvideo")
    if in_layer and _in(target, *FORBIDDEN_FOR_LAYER):
        return True  # deployed code never reaches handlers, the local stack or tests
    if in_layer and not _in(source, "ecomvideo.http") and _in(target, "ecomvideo.http"):
        return True  # only the API frame itself (and handlers) use http/
    if _in(target, "ecomvideo.services") and not _in(
        source, "ecomvideo.services", "ecomvideo.http", "functions"
    ):
        return True  # nothing below the services calls up into them
    if any(
        _in(source, floor) and _in(target, "ecomvideo") and not _in(target, floor)
        for floor in FLOOR_PACKAGES
    ) and not _is_top_level_module(target):
        return True  # models, clients, media: their own package and the top-level modules
    # each handler is its own Lambda package
    return (
        _in(source, "functions")
        and _in(target, "functions")
        and source.split(".")[1] != target.split(".")[1]
    )


def test_layers_are_one_way():
    violations = {
        ("layers", imp.importer, imp.target)
        for imp in IMPORTS
        if _breaks_layers(imp.importer, imp.target)
    }
    _check("layers", violations)


def test_function_level_imports_in_services_say_why():
    violations = {
        ("lazy", imp.importer, imp.target)
        for imp in IMPORTS
        if _in(imp.importer, "ecomvideo.services")
        and not imp.top_level
        and not imp.type_only
        and not imp.reason
    }
    _check("lazy", violations)


@pytest.mark.parametrize(
    "path", sorted(SERVICES.rglob("*.py")), ids=lambda p: str(p.relative_to(SERVICES))
)
def test_service_modules_stay_short(path: Path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_SERVICE_LINES, f"{path.name}: {lines} lines; split it by concern"
