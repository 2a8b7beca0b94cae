"""The practice service behind the gateway (issue 15): part of the embedded system, reached through the REST
façade (`/api/practice/v1/…`) with a token the gateway mints, its audit chain verifiable like every other."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

pytestmark = pytest.mark.sqlite_smoke

CHAIN = 'query { auditChain(component: "practice") { component intact } }'


async def test_the_practice_service_answers_through_the_gateway(system: EmbeddedSystem) -> None:
    assert "practice" in system.services
    verdict = await system.client.get("/api/practice/v1/audit/verify", headers=system.bearer("audit.byrne"))
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["intact"] is True
    refused = await system.client.get("/api/practice/v1/audit/verify", headers=system.bearer("fsw.rivera"))
    assert refused.status_code == 403
    chain = (await system.graphql(CHAIN, user="audit.byrne")).json()
    assert chain["data"]["auditChain"] == {"component": "practice", "intact": True}, chain


async def test_a_coach_reads_no_case_through_the_gateway(system: EmbeddedSystem, demo_case: object) -> None:
    """The policy table gives practice roles no case scope: the demo family's case is, for the coach, the
    coordinator and the practice lead, exactly what a case that does not exist is."""
    for user in ("coach.tran", "coord.ellis", "lead.park", "trainer.moss"):
        view = (
            await system.graphql(
                "query($id: ID!) { caseView(caseId: $id) { case { recordId } } }", {"id": str(demo_case)}, user=user
            )
        ).json()
        assert view["data"] is None or view["data"]["caseView"] is None, (user, view)
        assert view["errors"][0]["extensions"]["code"] == "NOT_FOUND", (user, view)
        rest = await system.client.get(f"/api/network/v1/cases/{demo_case}", headers=system.bearer(user))
        assert rest.status_code == 404, (user, rest.text)
