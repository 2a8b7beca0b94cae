"""A request's route found without asking every router: FastAPI tries an app's routes (and each included
router's routes) in order, a regular expression each, on every request; the assessment service's case view
was behind some 80 of them (about 0.15 ms of CPU per request). `RouteIndex` knows, from each route's path,
which of the app's routes can match a path at all, and lets FastAPI choose among those alone.

What FastAPI chooses is unchanged: it still runs its own loop (the first full match, else the first route
matching the path but not the method: 405), over the app's routes in their order, skipping only routes whose
path patterns cannot match the path (those FastAPI would have passed over as no match). A path no route's
pattern matches — a 404, a redirect to the path with or without its trailing slash — goes through FastAPI's
whole scan as before, as do websockets, requests under a `root_path` and routes of kinds the index does not
read (those are always tried). Routes added later, to the app or to a router already included, are seen: the
index is rebuilt when FastAPI's count of route changes moves."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from starlette.convertors import FloatConvertor, IntegerConvertor, StringConvertor, UUIDConvertor
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

# Parameters whose pattern never matches a "/": a path segment holding one is still one segment of the path.
_WITHIN_A_SEGMENT = (StringConvertor, IntegerConvertor, FloatConvertor, UUIDConvertor)
_MAX_SUBSETS = 512  # distinct sets of candidate routes kept (a service has far fewer)

Pattern = tuple[str, re.Pattern[str], dict[str, Any]]  # a route's path format, its regular expression, convertors


@dataclass
class _Table:
    """Where a path can go: by its number of segments, then by its literal segments, the patterns to check."""

    # segments in the path -> places of the literal segments -> those segments' text -> (pattern, route's place)
    by_length: dict[int, dict[tuple[int, ...], dict[tuple[str, ...], list[tuple[re.Pattern[str], int]]]]] = field(
        default_factory=dict
    )
    always_checked: list[tuple[re.Pattern[str], int]] = field(default_factory=list)
    always_tried: frozenset[int] = frozenset()  # routes the index does not read: in every subset

    def add(self, pattern: Pattern, index: int) -> None:
        path_format, regex, convertors = pattern
        segments = path_format.split("/")
        literal: list[int] = []
        for position, segment in enumerate(segments):
            if "{" not in segment:
                literal.append(position)
            elif not all(isinstance(c, _WITHIN_A_SEGMENT) for n, c in convertors.items() if "{" + n + "}" in segment):
                self.always_checked.append((regex, index))  # a parameter that may span segments ({x:path})
                return
        by_literals = self.by_length.setdefault(len(segments), {}).setdefault(tuple(literal), {})
        by_literals.setdefault(tuple(segments[p] for p in literal), []).append((regex, index))

    def matching(self, path: str) -> set[int]:
        """The routes (by their place in the app) with a pattern matching `path`: each such route is a match or a
        partial one (the path, not the method) for FastAPI, and every other route of the table is not."""
        found: set[int] = set()
        segments = path.split("/")
        for positions, by_literals in self.by_length.get(len(segments), {}).items():
            for regex, index in by_literals.get(tuple(segments[p] for p in positions), ()):
                if index not in found and regex.match(path):
                    found.add(index)
        for regex, index in self.always_checked:
            if index not in found and regex.match(path):
                found.add(index)
        return found


def route_patterns(route: BaseRoute) -> list[Pattern] | None:
    """The path patterns that decide whether FastAPI's `route.matches` is a match (full or partial) for an HTTP
    request: the route's own, or every route's of an included router. None for a route whose answer depends on
    more than its path patterns (a host, a frontend group, anything else), which is then always tried."""
    included = getattr(fastapi_routing, "_IncludedRouter", None)
    if included is not None and isinstance(route, included):
        patterns: list[Pattern] = []
        for context in route.effective_route_contexts():
            own = context.starlette_route
            if own is None and isinstance(context.original_route, fastapi_routing.APIRoute):
                if context.path_regex is None:
                    return None
                patterns.append((context.path_format, context.path_regex, context.param_convertors))
            elif isinstance(own, (Route, Mount)):
                patterns.append((own.path_format, own.path_regex, own.param_convertors))
            else:
                return None
        return patterns
    if isinstance(route, (Route, Mount)):  # APIRoute is a Route
        return [(route.path_format, route.path_regex, route.param_convertors)]
    return None


class RouteIndex:
    """The app router's innermost ASGI app (`router.middleware_stack`, which is its `app` until installed):
    FastAPI's own routing over the routes that can match the request's path."""

    def __init__(self, router: fastapi_routing.APIRouter, full: ASGIApp) -> None:
        self.router, self.full = router, full
        self._built_from: list[BaseRoute] = []  # the app's routes the table was built from, and FastAPI's count
        self._built_at: int | None = None  # of route changes then
        self._table = _Table()
        self._subsets: dict[frozenset[int], fastapi_routing.APIRouter] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subset = self.routes_for(scope) if scope["type"] == "http" and not scope.get("root_path") else None
        if subset is None:
            await self.full(scope, receive, send)
            return
        scope.setdefault("router", self.router)  # as the app's router sets it: `url_for` asks it
        await subset.app(scope, receive, send)

    def routes_for(self, scope: Scope) -> fastapi_routing.APIRouter | None:
        """A router like the app's holding only the routes that can match the request's path, in the app's
        order; None when no route's pattern matches it (FastAPI's whole scan then answers: 404, a redirect)."""
        table = self._current()
        found = table.matching(scope["path"])
        if not found:
            return None
        key = frozenset(found)
        subset = self._subsets.get(key)
        if subset is None:
            subset = copy.copy(self.router)  # its settings (form limits, default, lifespan) are the app router's
            subset.routes = [r for i, r in enumerate(self.router.routes) if i in found or i in table.always_tried]
            if len(self._subsets) < _MAX_SUBSETS:
                self._subsets[key] = subset
        return subset

    def _current(self) -> _Table:
        """The table of the app's routes as they are: rebuilt when a route was added, removed or replaced at the
        top (by identity) or FastAPI counted a change in an included router."""
        routes, version = self.router.routes, self.router._get_routes_version()
        held = self._built_from
        changed = len(routes) != len(held) or any(a is not b for a, b in zip(routes, held, strict=True))
        if changed or version != self._built_at:
            self._table = _table_of(routes)
            self._subsets = {}
            self._built_from, self._built_at = list(routes), version
        return self._table


def _table_of(routes: list[BaseRoute]) -> _Table:
    table = _Table()
    tried: set[int] = set()
    for index, route in enumerate(routes):
        patterns = route_patterns(route)
        if patterns is None:
            tried.add(index)
            continue
        for pattern in patterns:
            table.add(pattern, index)
    table.always_tried = frozenset(tried)
    return table


def _has_what_the_index_reads() -> bool:
    return all(
        hasattr(fastapi_routing, name) for name in ("_IncludedRouter", "_EffectiveRouteContext", "APIRouter")
    ) and hasattr(fastapi_routing.APIRouter, "_get_routes_version")


def install_route_index(app: FastAPI) -> None:
    """Route `app`'s requests through a `RouteIndex`. Left out (FastAPI's scan as it is) when the app router has
    middleware of its own, or FastAPI lacks what the index reads."""
    router = app.router
    if router.middleware_stack != router.app or not _has_what_the_index_reads():
        return
    router.middleware_stack = RouteIndex(router, router.app)
