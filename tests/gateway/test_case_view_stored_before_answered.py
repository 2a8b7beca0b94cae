"""A case view's audit record is stored while its result tree is built (issue 16), and still before anything
is answered: the view waits for it, and a record the database refuses fails the request as it did when the
record was awaited before the tree was built — on SQLite and PostgreSQL, with the gateway's executor and with
graphql-core's own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from sop_gateway.graphql.case_view import CaseView
from sop_gateway.graphql.execution import GatewayExecutionContext

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

VIEW = """query($id: ID!) { caseView(caseId: $id, audience: STAFF) {
  case { recordId } worries { danger { id text } } safetyPlan { recordId } } }"""
MASKED = "Internal error; quote the request id (X-Request-ID) to support."

EXECUTORS = {"gateway's": GatewayExecutionContext, "graphql-core's": StrawberryGraphQLCoreExecutionContext}


@contextmanager
def executed_by(system: EmbeddedSystem, executor: str) -> Iterator[None]:
    schema = system.gateway.state.graphql_schema
    schema.execution_context_class = EXECUTORS[executor]
    try:
        yield
    finally:
        schema.execution_context_class = GatewayExecutionContext


def slow_appends(system: EmbeddedSystem, monkeypatch: pytest.MonkeyPatch, began: list[str] | None = None) -> list[str]:
    """The gateway's appends, each held back a little before it is made (so an answer that did not wait for it
    would come first) and told to the returned list once it is stored (and to `began` when asked for)."""
    writer = system.gateway.state.audit
    real = writer.record_apart
    stored: list[str] = []

    async def record_apart(database: Any, entries: list[Any]) -> list[int]:
        if began is not None:
            began.append("append began")
        await asyncio.sleep(0.05)
        seqs = await real(database, entries)
        stored.extend(entry.resource for entry in entries)
        if began is not None:
            began.append("stored")
        return seqs

    monkeypatch.setattr(writer, "record_apart", record_apart)
    return stored


async def refuse_case_view_records(system: EmbeddedSystem) -> None:
    database = system.gateway.state.database
    async with database.session() as session:
        if database.dialect == "postgresql":
            await session.execute(
                text("ALTER TABLE audit_record ADD CONSTRAINT refused CHECK (resource <> 'case_view') NOT VALID")
            )
        else:
            await session.execute(
                text(
                    "CREATE TRIGGER refused BEFORE INSERT ON audit_record WHEN NEW.resource = 'case_view' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )


@pytest.mark.parametrize("executor", EXECUTORS)
async def test_a_case_view_is_answered_only_once_its_record_is_stored(
    system: EmbeddedSystem, demo_case: uuid.UUID, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    stored = slow_appends(system, monkeypatch)
    with executed_by(system, executor):
        response = await system.graphql(VIEW, {"id": str(demo_case)})
        assert stored == ["case_view"]  # stored when the answer came
    body = response.json()
    assert "errors" not in body and body["data"]["caseView"]["worries"]["danger"], body
    [row] = [r for r in await system.audit_rows() if r.resource == "case_view"]
    assert row.fields == ["case", "worries", "safetyPlan"] and row.request_id == response.headers["X-Request-ID"]
    assert (await system.verify_audit_chain()).intact


async def test_the_record_is_appended_while_the_views_fields_are_built(
    system: EmbeddedSystem, demo_case: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    slow_appends(system, monkeypatch, events)
    real = GatewayExecutionContext._execute_plan

    def execute_plan(self: GatewayExecutionContext, parent_type: Any, source: Any, *args: Any) -> Any:
        if isinstance(source, CaseView):
            events.append("fields built")
        return real(self, parent_type, source, *args)

    monkeypatch.setattr(GatewayExecutionContext, "_execute_plan", execute_plan)
    response = await system.graphql(VIEW, {"id": str(demo_case)})
    assert "errors" not in response.json()
    assert events == ["append began", "fields built", "stored"]


async def test_two_case_views_in_one_query_each_wait_for_their_own_record(
    system: EmbeddedSystem, demo_case: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = slow_appends(system, monkeypatch)
    response = await system.graphql(
        'query($id: ID!) { a: caseView(caseId: $id) { case { recordId } } b: caseView(caseId: $id, language: "es") '
        "{ worries { danger { text } } } }",
        {"id": str(demo_case)},
    )
    assert stored == ["case_view", "case_view"]
    body = response.json()
    assert "errors" not in body and body["data"]["a"]["case"]["recordId"] and body["data"]["b"]["worries"], body
    views = [r for r in await system.audit_rows() if r.resource == "case_view"]
    assert sorted(tuple(r.fields) for r in views) == [("case",), ("worries",)]


async def test_a_case_view_whose_record_is_refused_is_not_answered(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    """The request fails as when the record was awaited before the tree was built: the field's error (masked,
    the view non-null so no data at all), and none of the view in the answer."""
    seen = await system.graphql(VIEW, {"id": str(demo_case)})  # this process now knows the chain head
    danger = seen.json()["data"]["caseView"]["worries"]["danger"]
    assert danger
    await refuse_case_view_records(system)
    refused = await system.graphql(VIEW, {"id": str(demo_case)})
    assert refused.status_code == 200
    body = refused.json()
    assert body["data"] is None
    masked = f"{MASKED} Request id: {refused.headers['X-Request-ID']}."
    assert [(e["message"], e["path"]) for e in body["errors"]] == [(masked, ["caseView"])]
    assert all(d["text"] not in refused.text for d in danger)
    assert len([r for r in await system.audit_rows() if r.resource == "case_view"]) == 1
    assert (await system.verify_audit_chain()).intact


async def test_a_refused_record_fails_the_request_with_graphql_cores_executor_too(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    seen = await system.graphql(VIEW, {"id": str(demo_case)})
    danger = seen.json()["data"]["caseView"]["worries"]["danger"]
    await refuse_case_view_records(system)
    with executed_by(system, "graphql-core's"):
        refused = await system.graphql(VIEW, {"id": str(demo_case)})
    assert refused.json()["data"] is None and refused.json()["errors"], refused.text
    assert all(d["text"] not in refused.text for d in danger)
