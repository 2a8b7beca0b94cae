"""Every SQL statement a warm read sends is compiled once and then taken from SQLAlchemy's compiled cache.

A statement SQLAlchemy cannot key (a multi-row VALUES, literal SQL built per request, a construct that is not
cacheable) is compiled anew on every request: about 1.5 ms of CPU for the audit's one-record append, which was so
on every read of every component until this test. Through the gateway, a case view that reads every service and a
caseload page, with a cold access cache (so the decision's reads too), in every component: after two warm-up
rounds, the third round's statements are all cache hits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine.default import DefaultExecutionContext

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

CASE_VIEW = """query($id: ID!) { caseView(caseId: $id) {
  case { recordId county status } children { firstName } network { members { recordId } }
  worries { harm { recordId } danger { recordId text plainLanguage { readingGrade } } }
  needsToHappen { __typename } safetyScale { __typename } sdm { __typename } childVoice { __typename }
  safetyPlan { recordId status rules { text } } alerts { __typename } } }"""
CASELOAD = """{ cases(first: 50) { edges { node { id externalId county status
  assessmentSummary { activeDangerStatements latestOverallRating { score } safetyDecision riskLevel }
  planSummary { planInForce { status versionNumber } openAlerts overdueNextSteps } } } } }"""


@contextmanager
def compiled_anew(system: EmbeddedSystem) -> Iterator[list[str]]:
    """The statements, of every component, that were not taken from the compiled cache meanwhile."""
    misses: list[str] = []
    apps = {"gateway": system.gateway, **system.services}

    def listener(name: str) -> Any:
        def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
            if isinstance(context, DefaultExecutionContext) and context.compiled is not None:
                if context.cache_hit is not context.dialect.CACHE_HIT:
                    misses.append(f"{name} ({context.cache_hit.name}): {' '.join(statement.split())[:160]}")

        return record

    listeners = [(app.state.database.engine.sync_engine, listener(name)) for name, app in apps.items()]
    for engine, fn in listeners:
        event.listen(engine, "before_cursor_execute", fn)
    try:
        yield misses
    finally:
        for engine, fn in listeners:
            event.remove(engine, "before_cursor_execute", fn)


async def test_a_warm_case_view_and_caseload_page_compile_no_statement(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    async def round_of_reads() -> None:
        system.forget_access_decisions()
        for query, variables in ((CASE_VIEW, {"id": str(demo_case)}), (CASELOAD, {})):
            response = await system.graphql(query, variables)
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), response.text[:2000]

    await round_of_reads()
    await round_of_reads()
    with compiled_anew(system) as misses:
        await round_of_reads()
    assert misses == []
