"""The route index (sop_shared.route_index): FastAPI chooses the same route as its scan of every route would —
the first full match, else the first route matching the path but not the method (405), a 404 or a trailing-slash
redirect where nothing matches — while the routes that cannot match a path are never tried."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, Match

from sop_shared.component import load_components
from sop_shared.route_index import RouteIndex, install_route_index

SERVICES = [name for name, component in load_components().items() if component.kind == "service"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SAMPLE = {"uuid": str(uuid.UUID(int=7)), "int": "12", "float": "1.5", "path": "a/b"}


def chosen(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[Match, int | None]:
    """What FastAPI's router loop chooses among `routes`: the first full match, else the first partial one."""
    partial = None
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match == Match.FULL:
            return Match.FULL, id(route)
        if match == Match.PARTIAL and partial is None:
            partial = id(route)
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


def paths_of(app: FastAPI) -> Iterator[str]:
    """Every route's path with sample parameters, and near misses of each (a trailing slash, one more segment,
    a parameter that is not a UUID, one segment fewer)."""
    for route in iter_route_contexts(app.routes):
        path_format = getattr(route, "path_format", None) or getattr(route, "path", None)
        if not isinstance(path_format, str):
            continue
        convertors = getattr(route, "param_convertors", {})
        path = re.sub(r"{(\w+)}", lambda found, c=convertors: sample(c.get(found.group(1))), path_format)
        yield path
        yield path.rstrip("/") + "/"
        yield path + "/extra"
        yield path.replace(SAMPLE["uuid"], "not-a-uuid")
        yield path.rsplit("/", 1)[0] or "/"


def sample(convertor: Any) -> str:
    """A value the parameter's convertor accepts (a name for plain text)."""
    return SAMPLE.get(type(convertor).__name__.removesuffix("Convertor").lower(), "maria")


def http_scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_path_reaches_the_route_the_full_scan_chooses(name: str, tmp_path: Path) -> None:
    component = load_components()[name]
    app = component.create_app(component.settings_class(data_dir=tmp_path, environment="test"))
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    checked = 0
    for path in set(paths_of(app)):
        for method in METHODS:
            scope = http_scope(method, path)
            everything = chosen(app.router.routes, scope)
            subset = index.routes_for(scope)
            if subset is None:
                assert everything == (Match.NONE, None), (method, path)
            else:
                assert chosen(subset.routes, scope) == everything, (method, path)
                assert everything[0] != Match.NONE
            checked += 1
    assert checked > 100


def overlapping_app(indexed: bool) -> FastAPI:
    """Routes whose order decides: a parameter before a literal, the same path in two routers with different
    methods, a route at the top level, a path with and without its trailing slash."""
    app = FastAPI()
    first, second, later = APIRouter(prefix="/v1"), APIRouter(prefix="/v1"), APIRouter(prefix="/v1")

    @first.get("/cases/{case_id}/notes")
    async def notes(case_id: uuid.UUID) -> dict[str, str]:
        return {"route": "notes", "case": str(case_id)}

    @first.get("/items/{name}")
    async def item(name: str) -> dict[str, str]:
        return {"route": "item", "name": name}

    @second.get("/items/special")
    async def special() -> dict[str, str]:
        return {"route": "special"}  # never reached: /items/{name} comes first

    @second.post("/cases/{case_id}/notes")
    async def add_note(case_id: uuid.UUID) -> dict[str, str]:
        return {"route": "add_note"}

    @second.get("/folders/")
    async def folders(request: Request) -> dict[str, str]:
        return {"route": "folders", "url": str(request.url_for("item", name="x"))}

    @later.get("/files/{rest:path}")
    async def files(rest: str) -> dict[str, str]:
        return {"route": "files", "rest": rest}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"route": "healthz"}

    app.include_router(first)
    app.include_router(second)
    app.include_router(later)
    if indexed:
        install_route_index(app)
    return app


REQUESTS = [
    ("GET", f"/v1/cases/{uuid.UUID(int=1)}/notes"),
    ("POST", f"/v1/cases/{uuid.UUID(int=1)}/notes"),
    ("DELETE", f"/v1/cases/{uuid.UUID(int=1)}/notes"),  # 405, Allow from the first route matching the path
    ("GET", "/v1/cases/not-a-uuid/notes"),  # 422 from the parameter, as before
    ("GET", "/v1/items/special"),
    ("PUT", "/v1/items/special"),
    ("GET", "/v1/folders"),  # redirected to /v1/folders/
    ("GET", "/v1/folders/"),
    ("GET", "/v1/items/special/"),  # redirected to /v1/items/special
    ("GET", "/v1/files/a/b/c.txt"),
    ("GET", "/v1/nothing/here"),  # 404
    ("GET", "/healthz"),
    ("POST", "/healthz"),
    ("HEAD", "/healthz"),
]


async def answers(app: FastAPI) -> list[tuple[int, str, dict[str, str]]]:
    found = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for method, path in REQUESTS:
            answer = await client.request(method, path, follow_redirects=False)
            found.append((answer.status_code, answer.text, dict(answer.headers)))
    return found


async def test_answers_are_those_of_fastapis_own_routing() -> None:
    assert await answers(overlapping_app(indexed=True)) == await answers(overlapping_app(indexed=False))


async def test_a_route_that_cannot_match_the_path_is_not_tried() -> None:
    app = overlapping_app(indexed=True)
    tried: list[str] = []
    for route in app.router.routes:
        if hasattr(route, "original_router"):  # an included router: count FastAPI's calls

            def spy(scope: Any, route: Any = route, matches: Any = route.matches) -> Any:
                tried.append(route.original_router.routes[0].path)
                return matches(scope)

            route.matches = spy
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/v1/files/notes.txt")).json() == {"route": "files", "rest": "notes.txt"}
    assert tried == ["/v1/files/{rest:path}"]  # without the index, the two routers before it too


async def test_routes_added_or_replaced_after_the_first_request_are_found_in_their_order() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/things/{name}")
    async def thing(name: str) -> dict[str, str]:
        return {"route": "thing"}

    app.include_router(router)
    install_route_index(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/things/new")).json() == {"route": "thing"}
        assert (await client.get("/other")).status_code == 404

        @app.get("/other")
        async def other() -> dict[str, str]:
            return {"route": "other"}

        @router.get("/things/{name}/parts")  # to a router already included
        async def parts(name: str) -> dict[str, str]:
            return {"route": "parts"}

        later = APIRouter()

        @later.get("/things/new")  # after /things/{name}: never reached, as without the index
        async def new() -> dict[str, str]:
            return {"route": "new"}

        app.include_router(later)
        assert (await client.get("/other")).json() == {"route": "other"}
        assert (await client.get("/things/x/parts")).json() == {"route": "parts"}
        assert (await client.get("/things/new")).json() == {"route": "thing"}

        async def replaced() -> dict[str, str]:
            return {"route": "replaced"}

        place = next(i for i, r in enumerate(app.router.routes) if getattr(r, "path", None) == "/other")
        app.router.routes[place] = APIRoute("/other", replaced, methods=["GET"])  # FastAPI counts no change
        assert (await client.get("/other")).json() == {"route": "replaced"}


async def test_a_request_under_a_root_path_is_routed_by_the_full_scan() -> None:
    app = overlapping_app(indexed=True)
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/api/healthz")).json() == {"route": "healthz"}
