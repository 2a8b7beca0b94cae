"""Unknown query parameters are refused (400), never silently ignored: `?stauts=active` must not return
every plan. Every service uses it on every route that reads query parameters.

What a route accepts is what it declares (its own and its dependencies' query parameters, as its OpenAPI
document lists them) plus any names given to `known_query_params`, so the document and the refusal never
disagree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Depends, Request

from sop_shared.auth import verified_principal
from sop_shared.problems import BadQuery


def query_fields(dependant: Any) -> Iterator[Any]:
    """The query parameters a route declares (FastAPI `ModelField`s), its dependencies' included."""
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from query_fields(sub)


_DECLARED: dict[int, tuple[Any, frozenset[str]]] = {}


def declared_query_params(request: Request) -> frozenset[str]:
    """The names the request's route declares, worked out once per route (keyed by identity, the route held
    beside its answer so a reused id cannot return another route's names)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return frozenset()
    held = _DECLARED.get(id(dependant))
    if held is None or held[0] is not dependant:
        held = _DECLARED[id(dependant)] = (dependant, frozenset(field.alias for field in query_fields(dependant)))
    return held[1]


def known_query_params(*allowed: str) -> Any:
    """A route dependency allowing only the query parameters the route declares, and `allowed` besides (names
    a route reads itself). It reads the request's principal first, so that a caller without a valid token still
    gets 401 first: from `verified_principal`, not as a `CurrentPrincipal` sub-dependency, which FastAPI would
    solve again for this dependency before finding the request's cached principal."""
    extra = frozenset(allowed)

    async def _check(request: Request) -> None:
        verified_principal(request)
        names = extra | declared_query_params(request)
        unknown = sorted(set(request.query_params.keys()) - names)
        if unknown:
            accepted = ", ".join(sorted(names)) or "none"
            raise BadQuery(
                f"unknown query parameter(s): {', '.join(unknown)}; this endpoint accepts: {accepted}",
                errors=[{"field": name, "message": "unknown query parameter"} for name in unknown],
            )

    return Depends(_check)
