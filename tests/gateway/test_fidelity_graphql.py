"""`practice(unit:, period:)` at the gateway (issue 15 part 4): the fidelity measures, typed from the practice
service's OpenAPI document like `trainingRecord`; who may read them is the service's decision. The demo's one
family is a small cell: everything is answered, and nothing that counts it is shown."""

from __future__ import annotations

import uuid

from tests.gateway.conftest import EmbeddedSystem

QUERY = """query($unit: String, $period: String) { practice(unit: $unit, period: $period) {
  scope { unit period openedFrom openedTo } cases networkSize smallCellMinimum
  measures { key numerator denominator rate suppressed } } }"""


async def test_a_supervisor_reads_her_units_measures_and_a_small_cell_shows_nothing(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID
) -> None:
    system = sqlite_system
    await system.events_delivered()
    answer = await system.graphql(QUERY, {"unit": "Pulaski-3", "period": "2026"}, user="sup.okafor")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    practice = body["data"]["practice"]
    assert practice["scope"] == {
        "unit": "Pulaski-3",
        "period": "2026",
        "openedFrom": "2026-01-01",
        "openedTo": "2026-12-31",
    }
    assert practice["cases"] is None and practice["networkSize"] is None and practice["smallCellMinimum"] == 5
    assert practice["measures"] and all(m["suppressed"] and m["numerator"] is None for m in practice["measures"])
    # the practice lead reads the state; the family's worker reads none of it
    lead = await system.graphql(QUERY, {}, user="lead.park")
    assert "errors" not in lead.json(), lead.text
    refused = (await system.graphql(QUERY, {"unit": "Pulaski-3"}, user="fsw.rivera")).json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = (await system.graphql(QUERY, {"period": "last year"}, user="lead.park")).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # over REST through the gateway's façade too
    rest = await system.client.get(
        "/api/practice/v1/fidelity", params={"county": "Pulaski"}, headers=system.bearer("lead.park")
    )
    assert rest.status_code == 200 and rest.json()["scope"]["county"] == "Pulaski"
