"""The case-boundary mechanism (sop_shared.case_refs): finding every typed reference in a request body, and
every service declaring what each id field of its request bodies refers to — so a new endpoint with an
unclassified id field fails here before it can become a hole."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from sop_shared.case_refs import (
    CASE_REF_SCHEMA_KEY,
    NOT_CASE_SCOPED_SCHEMA_KEY,
    CaseRef,
    DangerStatementRef,
    NotCaseScoped,
    PersonRef,
    refs_in,
)
from sop_shared.component import load_components


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
