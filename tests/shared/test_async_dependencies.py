"""Every dependency of every route is a coroutine function.

FastAPI runs a plain `def` dependency in the thread pool: a hand-off to a worker thread and back on every
request that uses it, 8 to 16 % of the services' request samples under load (issue 16's profile) for
dependencies that only read a header or the app's state. A dependency that truly blocks belongs in
`run_in_threadpool` inside an `async def`, where the cost is visible."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from sop_shared.component import load_components

COMPONENTS = sorted(load_components())


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def _is_async(call: Any) -> bool:
    if inspect.isclass(call):
        return False  # a class as a dependency is constructed in the thread pool too
    dunder_call = getattr(call, "__call__", None)  # noqa: B004  (an instance with an async __call__)
    return any(
        check(f) for f in (call, dunder_call) for check in (inspect.iscoroutinefunction, inspect.isasyncgenfunction)
    )


@pytest.mark.parametrize("name", COMPONENTS)
def test_no_route_hands_a_dependency_to_the_thread_pool(name: str, tmp_path: Path) -> None:
    component = load_components()[name]
    app = component.create_app(component.settings_class(data_dir=tmp_path, environment="test"))
    sync = sorted(
        {
            f"{getattr(sub.call, '__module__', '?')}.{getattr(sub.call, '__qualname__', sub.call)}"
            for route in iter_route_contexts(app.routes)  # routes of included routers with their dependencies
            if isinstance(getattr(route, "dependant", None), Dependant)
            for sub in _dependants(route.dependant)
            if sub.call is not None and not _is_async(sub.call)
        }
    )
    assert not sync, f"plain `def` dependencies (run in the thread pool on every request): {sync}"
