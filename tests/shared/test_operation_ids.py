"""Every operation of every published document has a short, readable operationId (`<tag>_<route name>`, from
`sop_shared.openapi.operation_id`), unique in its document, so a generated client's functions are named like
the practice and two operations never share a name."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

from sop_shared.openapi import operation_id

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract"
DOCUMENTS = sorted(CONTRACT.glob("*.openapi.json"))
READABLE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _operation_ids(document: Path) -> list[str]:
    paths = json.loads(document.read_text())["paths"]
    return [op["operationId"] for methods in paths.values() for op in methods.values() if isinstance(op, dict)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_operation_id_is_short_readable_and_unique_in_its_document(document: Path) -> None:
    ids = _operation_ids(document)
    assert ids, document
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert [i for i in ids if not READABLE.match(i)] == []
    # Not FastAPI's default (`<name>_<path>_<method>`): no path or method in the name.
    assert [i for i in ids if "_v1_" in i or re.search(r"_(get|post|put|patch|delete)$", i)] == []
    assert max(len(i) for i in ids) <= 80


def test_a_record_served_at_its_short_form_and_under_its_case_is_named_apart() -> None:
    router = APIRouter(tags=["Safety plans"])

    @router.get("/cases/{case_id}/safety-plans/{plan_id}")
    @router.get("/safety-plans/{plan_id}")
    async def get_safety_plan(plan_id: str, case_id: str | None = None) -> None: ...

    @router.get("/cases/{case_id}/safety-plans")
    async def list_safety_plans(case_id: str) -> None: ...

    app = FastAPI(generate_unique_id_function=operation_id)
    app.include_router(router, prefix="/v1")
    paths = app.openapi()["paths"]
    assert paths["/v1/safety-plans/{plan_id}"]["get"]["operationId"] == "safety_plans_get_safety_plan"
    assert paths["/v1/cases/{case_id}/safety-plans/{plan_id}"]["get"]["operationId"] == (
        "safety_plans_get_safety_plan_in_case"
    )
    assert paths["/v1/cases/{case_id}/safety-plans"]["get"]["operationId"] == "safety_plans_list_safety_plans"
