"""HTTP API route selection, as API Gateway does it.

A request path is matched against the route paths of the template; the most specific route
wins (static segments beat ``{param}``, which beats the greedy ``{proxy+}``), and a route for
the exact method beats ``ANY``. No matching path falls back to ``$default`` when declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from devserver.app_model import DEFAULT_ROUTE, Route

_PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


@dataclass(frozen=True)
class Match:
    """The route chosen for a request, with the values of its path parameters."""

    route: Route
    path_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NoRoute:
    """No route for the path (404) or for the method (405, ``allowed`` is not empty)."""

    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Compiled:
    route: Route
    regex: re.Pattern[str]
    names: tuple[str, ...]
    specificity: tuple[int, int, int]


def _compile(route: Route) -> _Compiled:
    parts = []
    names = []
    static = params = 0
    greedy = 0
    for segment in route.path.strip("/").split("/"):
        param = _PARAM.match(segment)
        if param is None:
            parts.append(re.escape(segment))
            static += 1
        elif param.group(2):  # {proxy+}: one or more segments, only last
            names.append(param.group(1))
            parts.append(f"(?P<p{len(names) - 1}>.+)")
            greedy = 1
        else:
            names.append(param.group(1))
            parts.append(f"(?P<p{len(names) - 1}>[^/]+)")
            params += 1
    regex = re.compile("^/" + "/".join(parts) + "$")
    # Higher sorts first: more static segments, fewer greedy, more segments in total.
    return _Compiled(route, regex, tuple(names), (static, -greedy, params))


class RouteTable:
    """The routes of one HTTP API, ready to match requests."""

    def __init__(self, routes: list[Route]) -> None:
        self.default = next((r for r in routes if r.path == DEFAULT_ROUTE), None)
        compiled = [_compile(r) for r in routes if r.path != DEFAULT_ROUTE]
        self._routes = sorted(compiled, key=lambda c: c.specificity, reverse=True)

    @property
    def routes(self) -> list[Route]:
        return [c.route for c in self._routes]

    def match(self, method: str, path: str) -> Match | NoRoute:
        """Pick the route for ``method path``; see the module docstring for the order."""
        method = method.upper()
        allowed: set[str] = set()
        best: tuple[_Compiled, re.Match[str]] | None = None
        for candidate in self._routes:
            found = candidate.regex.match(path)
            if found is None:
                continue
            if best is not None and best[0].specificity > candidate.specificity:
                break  # a more specific path already matched (with ANY)
            if candidate.route.method == method:
                best = (candidate, found)
                break
            if candidate.route.method == "ANY":
                best = best or (candidate, found)
                continue
            allowed.add(candidate.route.method)
        if best is not None:
            candidate, found = best
            params = {name: found.group(f"p{i}") for i, name in enumerate(candidate.names)}
            return Match(candidate.route, params)
        if allowed:
            return NoRoute(tuple(sorted(allowed)))
        if self.default is not None:
            return Match(self.default)
        return NoRoute()
