"""The case-boundary mechanism (sop_shared.case_refs): finding every typed reference in a request body, and
every service declaring what each id field of its request bodies refers to — so a new endpoint with an
unclassified id field fails here before it can become a hole."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.requests import Request

from sop_shared.case_refs import (
    CASE_REF_SCHEMA_KEY,
    NOT_CASE_SCOPED_SCHEMA_KEY,
    CaseRef,
    DangerStatementRef,
    FoundRef,
    NotCaseScoped,
    PersonRef,
    _query_fields_with_refs,
    _query_refs,
    _walk,
    may_hold_refs,
    refs_in,
)
from sop_shared.component import load_components
from sop_shared.query_params import query_fields


class Child(BaseModel):
    name: str
    person_id: PersonRef | None = None


class Rule(BaseModel):
    monitors: list[Child] = []


class PlanBody(BaseModel):
    danger_statement_ids: list[DangerStatementRef] = []
    goal_id: Annotated[uuid.UUID, CaseRef("safety_goal")] | None = None
    rules: list[Rule] = []
    merged_id: Annotated[uuid.UUID, NotCaseScoped("a SACWIS person merge")] | None = None
    note: str = ""


def test_every_reference_is_found_with_its_path_at_any_depth() -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    body = PlanBody(
        danger_statement_ids=[a, b],
        goal_id=c,
        merged_id=uuid.uuid4(),
        rules=[Rule(), Rule(monitors=[Child(name="Rosa"), Child(name="Pastor Greene", person_id=d)])],
    )
    found = [(r.field, r.kind, r.id) for r in refs_in(body)]
    assert found == [
        ("danger_statement_ids.0", "danger_statement", a),
        ("danger_statement_ids.1", "danger_statement", b),
        ("goal_id", "safety_goal", c),
        ("rules.1.monitors.1.person_id", "person", d),
    ]


def test_the_openapi_document_says_what_each_id_refers_to() -> None:
    schema = PlanBody.model_json_schema()
    items = schema["properties"]["danger_statement_ids"]["items"]
    assert items[CASE_REF_SCHEMA_KEY] == "danger_statement"
    merged = schema["properties"]["merged_id"]["anyOf"][0]
    assert merged[NOT_CASE_SCOPED_SCHEMA_KEY] == "a SACWIS person merge"


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def unclassified_ids(document: dict[str, Any], schema: dict[str, Any], path: str, seen: set[str]) -> list[str]:
    """Every `format: uuid` in a request schema that says neither what case record it names nor why not."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen = seen | {name}
    marked = CASE_REF_SCHEMA_KEY in schema or NOT_CASE_SCOPED_SCHEMA_KEY in schema
    schema = _resolve(document, schema)
    if schema.get("format") == "uuid":
        return [] if marked or CASE_REF_SCHEMA_KEY in schema or NOT_CASE_SCOPED_SCHEMA_KEY in schema else [path]
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += unclassified_ids(document, option, path, seen)
    if "items" in schema:
        found += unclassified_ids(document, schema["items"], f"{path}[]", seen)
    for name, prop in schema.get("properties", {}).items():
        found += unclassified_ids(document, prop, f"{path}.{name}", seen)
    return found


SERVICES = [name for name, c in load_components().items() if c.kind == "service"]


@pytest.mark.parametrize("name", SERVICES)
def test_every_id_in_every_request_body_and_query_is_held_to_the_case_or_says_why_not(
    name: str, tmp_path: Path
) -> None:
    component = load_components()[name]
    app = component.create_app(component.settings_class(data_dir=tmp_path, environment="test"))
    document = app.openapi()
    holes, checked = [], 0
    for route, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    holes += [
                        f"{method.upper()} {route} {field}"
                        for field in unclassified_ids(document, parameter["schema"], f"?{parameter['name']}", set())
                    ]
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if method not in {"post", "put", "patch", "delete"} or content is None:
                continue
            checked += 1
            holes += [
                f"{method.upper()} {route} {field}"
                for field in unclassified_ids(document, content["schema"], "body", set())
            ]
    assert checked > 5
    assert holes == [], (
        "id fields and query parameters that neither name a case record (CaseRef) nor say why not (NotCaseScoped)"
    )


class Note(BaseModel):
    text: str
    merged_id: Annotated[uuid.UUID, NotCaseScoped("a SACWIS person merge")] | None = None
    replies: list[Note] = []


class Thread(BaseModel):
    notes: list[Note] = []
    about: Annotated[Child | Note, "a union of a model with a reference and one without"] | None = None


def test_a_type_may_hold_references_where_refs_in_would_find_them() -> None:
    assert may_hold_refs(PlanBody) and may_hold_refs(Child) and may_hold_refs(Rule)  # a list of a model of one
    assert may_hold_refs(list[PersonRef]) and may_hold_refs(Thread)  # through a union member
    assert not may_hold_refs(Note)  # a model that refers to itself, with only an id not held to a case
    assert not may_hold_refs(list[Note]) and not may_hold_refs(uuid.UUID) and not may_hold_refs(dict[str, Any])


def _has_case_ref(document: dict[str, Any], schema: dict[str, Any], seen: set[str]) -> bool:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return False
        seen = seen | {name}
    if CASE_REF_SCHEMA_KEY in schema:
        return True
    schema = _resolve(document, schema)
    if CASE_REF_SCHEMA_KEY in schema:
        return True
    options = [o for key in ("anyOf", "oneOf", "allOf") for o in schema.get(key, [])]
    options += [schema["items"]] if "items" in schema else []
    options += list(schema.get("properties", {}).values())
    return any(_has_case_ref(document, option, seen) for option in options)


@pytest.mark.parametrize("name", SERVICES)
def test_a_body_the_boundary_check_skips_has_no_reference_in_the_openapi_document(name: str, tmp_path: Path) -> None:
    """`enforce_case_refs` reads and validates a body again only when its type may hold a reference: the type's
    answer must agree with the OpenAPI document's `x-sop-case-ref` markers (what the boundary test reads)."""
    component = load_components()[name]
    app = component.create_app(component.settings_class(data_dir=tmp_path, environment="test"))
    document = app.openapi()
    compared, skipped = 0, 0
    for route in iter_route_contexts(app.routes):  # the routes as served (included routers' too)
        body_type = getattr(getattr(getattr(route, "body_field", None), "field_info", None), "annotation", None)
        if body_type is None:
            continue
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            content = (operation or {}).get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                continue
            compared += 1
            marked = _has_case_ref(document, content["schema"], set())
            assert may_hold_refs(body_type) == marked, f"{method} {route.path_format}"
            skipped += not marked
    assert compared > 5 and skipped > 0


def _every_query_ref(request: Request) -> list[FoundRef]:
    """What `_query_refs` found before issue 16's change: every query parameter of the route (its dependencies'
    included) read and tried as a UUID on every request."""
    found: list[FoundRef] = []
    for field in query_fields(request.scope["route"].dependant):
        for raw in request.query_params.getlist(field.alias):
            try:
                value = uuid.UUID(raw)
            except ValueError:
                continue
            found += _walk(value, field.field_info.annotation, field.field_info.metadata, field.alias)
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_the_query_references_are_those_every_query_parameter_read_finds(name: str, tmp_path: Path) -> None:
    """`enforce_case_refs` reads only the query parameters whose type may hold a case reference (worked out once per
    route): for every route of every service, a query giving every parameter a UUID, two UUIDs, a value that is no
    UUID, nothing, finds the same references as reading every parameter; and the case views read none."""
    component = load_components()[name]
    app = component.create_app(component.settings_class(data_dir=tmp_path, environment="test"))
    routes = [r for r in iter_route_contexts(app.routes) if isinstance(getattr(r, "dependant", None), Dependant)]
    found_some = 0
    for route in routes:
        aliases = sorted({field.alias for field in query_fields(route.dependant)})
        a, b = uuid.uuid4(), uuid.uuid4()
        for pairs in (
            [(alias, str(a)) for alias in aliases],
            [(alias, value) for alias in aliases for value in (str(a), "not-a-uuid", str(b).upper())],
            [(alias, "en") for alias in aliases] + [("unknown", str(b))],
            [],
        ):
            request = Request({"type": "http", "query_string": urlencode(pairs).encode(), "route": route})
            refs = list(_query_refs(request))
            assert refs == _every_query_ref(request), route.path_format
            found_some += bool(refs)
        if route.path_format.endswith("/case-view"):
            assert _query_fields_with_refs(route.dependant) == (), route.path_format  # no value read per request
    assert len(routes) > 10
    if any(_query_fields_with_refs(route.dependant) for route in routes):
        assert found_some > 0  # the parameters that hold references were read
