"""`outcomes(unit:, county:, period:)` at the gateway (issue 15 part 5): the outcome measures of the practice
service (from the network's and the plans service's events), typed from its OpenAPI document like `practice(...)`;
who may read them is the service's decision (the policy table's reporting actions). The demo's one family (Pulaski
county) is a small cell: answered, and nothing that counts it shown."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime

from tests.gateway.conftest import EmbeddedSystem
from tests.gateway.test_practice_dashboards import history

QUERY = """query($unit: String, $county: String, $period: String) {
  outcomes(unit: $unit, county: $county, period: $period) {
    scope { unit county period periodFrom periodTo asOf } cases afterPlanDays smallCellMinimum
    measures { key label numerator denominator rate suppressed }
    reunification { discharges medianDays stillRemoved suppressed } } }"""


async def test_a_practice_lead_reads_outcomes_and_a_small_cell_shows_nothing(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID
) -> None:
    system = sqlite_system
    await system.events_delivered()
    answer = await system.graphql(QUERY, {"county": "Pulaski", "period": "2026-Q4"}, user="lead.park")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    outcomes = body["data"]["outcomes"]
    assert outcomes["scope"] | {"asOf": None} == {
        "unit": None,
        "county": "Pulaski",
        "period": "2026-Q4",
        "periodFrom": "2026-10-01",
        "periodTo": "2026-12-31",
        "asOf": None,
    }
    assert outcomes["cases"] is None and outcomes["smallCellMinimum"] == 5 and outcomes["afterPlanDays"] == 30
    assert {m["key"] for m in outcomes["measures"]} >= {
        "repeat_report_6m_after_closing",
        "repeat_report_12m_after_closing",
        "removal_after_safety_plan",
    }
    assert all(m["suppressed"] and m["rate"] is None for m in outcomes["measures"])
    assert outcomes["reunification"]["suppressed"] and outcomes["reunification"]["medianDays"] is None
    # the family's worker reads none of it; a period that is not one is the caller's mistake
    refused = (await system.graphql(QUERY, {"period": "2026"}, user="fsw.rivera")).json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for bad_period in ("last year", None):
        bad = (await system.graphql(QUERY, {"period": bad_period}, user="lead.park")).json()
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad


async def test_the_federal_extract_through_the_gateways_facade(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID
) -> None:
    """As an integrator calls it: 202 with the job, its progress, then its files (Parquet bytes unaltered)."""
    system = sqlite_system
    lead = system.bearer("lead.park")
    started = await system.client.post("/api/practice/v1/extracts", json={"period": "2026"}, headers=lead)
    assert started.status_code == 202, started.text
    job = started.json()
    for _ in range(100):
        job = (await system.client.get(f"/api/practice/v1/extracts/{job['id']}", headers=lead)).json()
        if job["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "succeeded" and job["records_done"] == job["records_total"] >= 1, job
    parquet = next(f for f in job["files"] if f["name"] == "afcars_foster_care.parquet")
    download = await system.client.get(f"/api/practice{parquet['href']}", headers=lead)
    assert download.status_code == 200, download.text
    assert hashlib.sha256(download.content).hexdigest() == parquet["sha256"] and download.content[:4] == b"PAR1"
    refused = await system.client.get(f"/api/practice{parquet['href']}", headers=system.bearer("fsw.rivera"))
    assert refused.status_code == 403


async def test_the_dev_demos_year_of_history_gives_the_demo_county_outcomes_with_numbers(
    sqlite_system: EmbeddedSystem, sqlite_demo_case: uuid.UUID
) -> None:
    """`sop dev`'s history: Pulaski-3's cases carry fictional reports and removals, enough that this year's outcomes
    for the demo county show (the repeat reports, the reunifications), while safety plans, which the history has
    none of, stay a small cell."""
    system = sqlite_system
    await history(system)
    year = str(datetime.now(UTC).year)
    answer = (await system.graphql(QUERY, {"county": "Pulaski", "period": year}, user="lead.park")).json()
    assert "errors" not in answer, answer
    outcomes = answer["data"]["outcomes"]
    assert outcomes["cases"] is not None and outcomes["cases"] >= 56
    shown = {m["key"] for m in outcomes["measures"] if not m["suppressed"]}
    assert "repeat_report_6m_after_first_report" in shown and "removal_after_safety_plan" not in shown
    assert not outcomes["reunification"]["suppressed"] and outcomes["reunification"]["medianDays"] >= 42
