"""Several practice fields in one GraphQL document on the embedded SQLite system (`make run`'s default): aliased
`practice` twice, `practice` beside `trainingRecord`, a dashboard's reads in one document; such documents sent at
once while the practice service writes; and the same documents read the way the server-rendered pages read. Each
field is its own call to the practice service and its own audit row at the gateway. (A failure once seen with two
practice fields in one document on SQLite: not reproduced by any of these.)"""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from sop_gateway.pages.reading import run_as

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

pytestmark = pytest.mark.sqlite_smoke

MEASURES = "scope { unit period } cases smallCellMinimum measures { key rate suppressed }"
TWO_PERIODS = f"""query {{
  year: practice(unit: "Pulaski-3", period: "2026") {{ {MEASURES} }}
  quarter: practice(unit: "Pulaski-3", period: "2026-Q4") {{ {MEASURES} }} }}"""
WITH_TRAINING = f"""query {{
  practice(unit: "Pulaski-3", period: "2026") {{ {MEASURES} }}
  trainingRecord(worker: "fsw.rivera") {{ subject unit courses {{ courseCode status }} }} }}"""
DASHBOARD_IN_ONE = """query {
  practiceTrend(unit: "Pulaski-3", quarters: 4) { unit periods { period measures { key rate suppressed } } }
  unitTrainingDue(unit: "Pulaski-3") { unit items { subject status } }
  a: practice(unit: "Pulaski-3", period: "2026-Q3") { cases }
  b: practice(unit: "Pulaski-3", period: "2026-Q4") { cases } }"""
DOCUMENTS = (TWO_PERIODS, WITH_TRAINING, DASHBOARD_IN_ONE)


def answered(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def test_practice_fields_side_by_side_in_one_document_and_at_once(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID
) -> None:
    system = sqlite_system
    await system.events_delivered()
    data = answered(await system.graphql(TWO_PERIODS, user="sup.okafor"))
    assert data["year"]["scope"]["period"] == "2026" and data["quarter"]["scope"]["period"] == "2026-Q4"
    data = answered(await system.graphql(WITH_TRAINING, user="sup.okafor"))
    assert data["trainingRecord"]["subject"] == "fsw.rivera" and data["practice"]["scope"]["unit"] == "Pulaski-3"
    data = answered(await system.graphql(DASHBOARD_IN_ONE, user="sup.okafor"))
    assert data["practiceTrend"]["unit"] == data["unitTrainingDue"]["unit"] == "Pulaski-3"

    # The way the server-rendered pages read (in-process, as the reader): the same document, the same answers.
    state = system.gateway.state
    supervisor = await state.authenticator.authenticate(system.token("sup.okafor"))
    page_request: Any = SimpleNamespace(app=system.gateway)
    for document in DOCUMENTS:
        result = await run_as(page_request, supervisor, document, {})
        assert not result.errors and result.data, result.errors

    # At once, and while the practice service writes (people registered: its one SQLite writer busy).
    coordinator = system.bearer("coord.ellis")

    async def register(n: int) -> Any:
        body = {"subject": f"fsw.extra{n}", "name": f"Extra Worker {n}", "agency": "DCFS", "roles": ["worker"]}
        return await system.client.post(
            "/api/practice/v1/people", json={**body, "unit": "Pulaski-3"}, headers=coordinator
        )

    answers = await asyncio.gather(
        *(system.graphql(document, user=reader) for document in DOCUMENTS for reader in ("sup.okafor", "lead.park")),
        *(register(n) for n in range(4)),
        *(system.graphql(document, user="lead.park") for document in DOCUMENTS),
    )
    for answer in answers:
        if answer.request.url.path == "/graphql":
            answered(answer)
        else:
            assert answer.status_code == 201, answer.text
