"""Map (method, path) to handlers; `{name}` segments capture one path segment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, TypeVar

H = TypeVar("H")

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route(Generic[H]):
    """One endpoint; `name` identifies it for per-endpoint rate limits."""

    method: str
    template: str
    handler: H

    @property
    def name(self) -> str:
        """Return e.g. `GET /v1/customers/{id}`."""
        return f"{self.method} {self.template}"


@dataclass
class Match(Generic[H]):
    """A route and the values of its path parameters."""

    route: Route[H]
    path_params: dict[str, str]


@dataclass
class Router(Generic[H]):
    """Static paths in a dict, templated paths tried in registration order."""

    _static: dict[tuple[str, str], Route[H]] = field(default_factory=dict)
    _dynamic: list[tuple[str, re.Pattern[str], Route[H]]] = field(default_factory=list)

    def add(self, method: str, template: str, handler: H) -> None:
        """Register a handler for a method and path template."""
        method = method.upper()
        route = Route(method, template, handler)
        if "{" not in template:
            if (method, template) in self._static:
                raise ValueError(f"duplicate route {route.name}")
            self._static[(method, template)] = route
            return
        pattern = re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", template) + "$")
        self._dynamic.append((method, pattern, route))

    def match(self, method: str, path: str) -> Match[H] | None:
        """Return the route for a request, or None (Stripe answers 404 either way)."""
        route = self._static.get((method, path))
        if route is not None:
            return Match(route, {})
        for route_method, pattern, candidate in self._dynamic:
            if route_method != method:
                continue
            found = pattern.match(path)
            if found is not None:
                return Match(candidate, found.groupdict())
        return None
