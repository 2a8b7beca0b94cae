"""Outcomes and the federal extract in the practice service (issue 15, part 5), on SQLite and PostgreSQL: the
network's `case.reporting_facts` (the case's reports, removals and children, replaced whole by version) and the safety
plans in force learnt from the plans service's events (twice or out of order: the same), the outcome measures with
small cells hidden, and the NCANDS/AFCARS extract as a job with progress whose CSV and Parquet agree, with its
data-quality failures and unfilled elements. Every family is fictional."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq
import pytest
from outcome_families import families, family
from reporting_facts_events import announced
from sqlalchemy import select

from sop_practice.fidelity.service import read_model
from sop_practice.models import platform
from sop_practice.outcomes.elements import element_map
from sop_practice.outcomes.extract import RULES
from sop_practice.outcomes.models import OutcomeCaseUnit
from sop_practice.outcomes.service import outcome_model
from sop_shared.clock import FixedClock
from sop_shared.events import Event
from sop_shared.testing import InternalTokens, RunningService

pytestmark = pytest.mark.sqlite_smoke


def lead(tokens: InternalTokens, role: str = "practice_lead") -> dict[str, str]:
    return tokens.headers("practice", subject=f"{role}.kim", roles=(role,))


async def load(practice: RunningService) -> dict[str, uuid.UUID]:
    """The seven families as the network announces them (their cases' creation and reporting facts)."""
    ids: dict[str, uuid.UUID] = {}
    for r in families():
        ids[r["external_id"]] = uuid.uuid5(uuid.NAMESPACE_URL, f"case:{r['external_id']}")
        for event in announced(ids[r["external_id"]], r["external_id"], r["data"]):
            await practice.bus.publish(event)  # the in-process bus runs the service's consumers in the publish
    return ids


def plan_event(subject: str, case_id: uuid.UUID, plan_id: uuid.UUID, on: str, **data: Any) -> Event:
    at = datetime.fromisoformat(on).replace(hour=15, tzinfo=UTC)
    payload = {"plan_id": str(plan_id), "case_id": str(case_id), "plan_type": "immediate", **data}
    return Event(uuid.uuid4(), f"sop.plans.safety_plan.{subject}", at, payload, case_id)


async def test_plans_in_force_are_learnt_from_events_twice_or_out_of_order_alike(practice: RunningService) -> None:
    ids = await load(practice)
    plan = uuid.uuid4()
    ended = plan_event("terminated", ids["C-1"], plan, "2025-01-20")
    started = plan_event("activated", ids["C-1"], plan, "2025-01-05")
    for event in (ended, started, started, ended, plan_event("activated", ids["C-1"], plan, "2025-01-12")):
        await practice.bus.publish(event)
    async with practice.app.state.database.session() as s:
        spans = [found["history"].plans for found in (await outcome_model(s)).values() if found["history"].plans]
    assert [(str(p.started_on), str(p.ended_on), p.plan_type) for ps in spans for p in ps] == [
        ("2025-01-05", "2025-01-20", "immediate")
    ]


async def _with_plans(practice: RunningService, ids: dict[str, uuid.UUID]) -> None:
    for n in range(1, 7):
        plan = uuid.uuid4()
        await practice.bus.publish(plan_event("activated", ids[f"C-{n}"], plan, "2025-01-05"))
        await practice.bus.publish(plan_event("terminated", ids[f"C-{n}"], plan, "2025-01-20"))


async def test_outcome_measures_for_a_unit_county_and_period_with_small_cells_hidden(
    practice: RunningService, tokens: InternalTokens
) -> None:
    ids = await load(practice)
    await _with_plans(practice, ids)
    practice.app.state.clock = FixedClock(datetime(2027, 6, 1, tzinfo=UTC))
    response = await practice.client.get(
        "/v1/outcomes", params={"unit": "Pulaski-3", "county": "Pulaski", "period": "2025"}, headers=lead(tokens)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cases"] == 6 and body["scope"]["as_of"] == "2027-06-01"
    by_key = {m["key"]: m for m in body["measures"]}
    for key in ("repeat_report_6m_after_closing", "repeat_report_12m_after_closing"):
        assert (by_key[key]["numerator"], by_key[key]["denominator"], by_key[key]["rate"]) == (6, 6, 1.0)
    # five removed while the plan was in force, the sixth 12 days after it ended: six of six within 30 days...
    after_plan = by_key["removal_after_safety_plan"]
    assert (after_plan["numerator"], after_plan["denominator"], after_plan["suppressed"]) == (6, 6, False)
    # ...five of six within 5 days: the one left could point at a family, so nothing is shown
    within_5 = await practice.client.get(
        "/v1/outcomes", params={"unit": "Pulaski-3", "period": "2025", "after_days": 5}, headers=lead(tokens)
    )
    after_plan = {m["key"]: m for m in within_5.json()["measures"]}["removal_after_safety_plan"]
    assert after_plan["suppressed"] and after_plan["rate"] is None and after_plan["numerator"] is None
    # the first reports came in 2024: no case is in 2025's cohort
    assert by_key["repeat_report_6m_after_first_report"]["suppressed"]
    # five reunified after 90 days (the sixth's discharge precedes its removal: not a stay)
    assert body["reunification"] == {"discharges": 5, "median_days": 90.0, "still_removed": 0, "suppressed": False}
    # a month with too few: nothing shown
    month = await practice.client.get(
        "/v1/outcomes", params={"county": "Pulasky", "period": "2025-04"}, headers=lead(tokens)
    )
    assert month.json()["cases"] is None and month.json()["reunification"]["median_days"] is None
    assert month.json()["reunification"]["still_removed"] is None  # one child still removed: hidden


async def test_outcomes_need_a_reporting_role_and_a_period(practice: RunningService, tokens: InternalTokens) -> None:
    for role in ("worker", "supervisor", "coach"):
        refused = await practice.client.get("/v1/outcomes", params={"period": "2025"}, headers=lead(tokens, role))
        assert refused.status_code == 403, role
    for role in ("practice_lead", "auditor", "admin", "training_coordinator"):
        allowed = await practice.client.get("/v1/outcomes", params={"period": "2025"}, headers=lead(tokens, role))
        assert allowed.status_code == 200, role
    bad = await practice.client.get("/v1/outcomes", params={"period": "2025-13"}, headers=lead(tokens))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period"


async def _finished(practice: RunningService, href: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(200):
        job = (await practice.client.get(href, headers=headers)).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the extract did not finish")


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


async def test_the_federal_extract_is_a_job_whose_csv_and_parquet_agree_with_its_failures_and_unfilled_elements(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await load(practice)
    headers = lead(tokens)
    started = await practice.client.post("/v1/extracts", json={"period": "2025"}, headers=headers)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/v1/extracts/{started.json()['id']}"
    job = await _finished(practice, started.headers["location"], headers)
    assert job["status"] == "succeeded", job
    assert (job["records_done"], job["records_total"]) == (7, 7)
    assert job["element_map"] == "federal@1"
    files = {f["name"]: f for f in job["files"]}
    assert set(files) == {
        "ncands_child.csv",
        "ncands_child.parquet",
        "afcars_foster_care.csv",
        "afcars_foster_care.parquet",
        "unfilled_elements.csv",
        "data_quality.csv",
        "report.json",
    }

    async def download(name: str) -> bytes:
        response = await practice.client.get(files[name]["href"], headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(files[name]["media_type"])
        return response.content

    for name in ("ncands_child", "afcars_foster_care"):
        rows = _csv(await download(f"{name}.csv"))
        table = pq.read_table(io.BytesIO(await download(f"{name}.parquet")))
        spec = next(f for f in element_map().files if f.name == name)
        assert table.column_names == [e.element for e in spec.elements] == list(rows[0])
        assert [{k: ("" if v is None else v) for k, v in r.items()} for r in table.to_pylist()] == rows
    ncands = _csv(await download("ncands_child.csv"))
    # one row per child of each report disposed of in 2025: R-n-1 (Jan) and R-n-2 (Jul), seven cases
    assert len(ncands) == 14
    first = next(r for r in ncands if r["RPTID"] == "R-1-1")
    assert first == first | {
        "SUBYR": "2025",
        "CHID": "P-1-2",
        "RPTCNTY": "05119",
        "RPTDT": "2024-12-01",
        "INVDATE": "2024-12-02",
        "RPTDISP": "01",
        "RPTDISDT": "2025-01-10",
        "CHAGE": "6",
        "FOSTERCR": "1",
        "RMVDATE": "2025-01-15",
        "WRKRID": "fsw.rivera",
        "SUPRVID": "sup.okafor",
        "CHSEX": "",
    }
    afcars = {r["RECNUMBR"]: r for r in _csv(await download("afcars_foster_care.csv"))}
    assert set(afcars) == {f"P-{n}-2" for n in range(1, 8)}
    assert afcars["P-1-2"] | {} == afcars["P-1-2"] | {
        "STATE": "05",
        "FIPSCODE": "05119",
        "DOB": "2018-05-05",
        "TOTALREM": "1",
        "LATREMDT": "2025-01-15",
        "DODFCDT": "2025-04-15",
        "DISREASN": "1",
    }
    assert afcars["P-7-2"]["FIPSCODE"] == ""  # a county SACWIS misspelt has no code

    failures = {(f["rule"], f["case"], f["field"]) for f in _csv(await download("data_quality.csv"))}
    assert failures == {
        ("DQ01", "C-6", "date_of_birth"),  # no birth date
        ("DQ03", "C-6", "discharged_on"),  # discharged before removed
        ("DQ02", "C-7", "removed_on"),  # removed before born
        ("DQ04", "C-7", "county"),  # unknown county
    }
    # every element the map cannot fill is listed, with why; and nothing else
    unfilled = _csv(await download("unfilled_elements.csv"))
    expected = {(f.name, e.element) for f in element_map().files for e in f.elements if e.source is None}
    assert {(u["file"], u["element"]) for u in unfilled} == expected and all(u["reason"] for u in unfilled)
    assert len(expected) >= 20
    report = json.loads(await download("report.json"))
    assert report["failures_by_rule"] == {"DQ01": 2, "DQ02": 1, "DQ03": 1, "DQ04": 2}  # C-6, C-7 in both files
    assert set(report["data_quality_rules"]) == set(RULES)


async def test_only_reporting_roles_start_read_and_download_an_extract_and_every_access_is_audited(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await load(practice)
    for role in ("worker", "supervisor", "coach", "training_coordinator"):
        refused = await practice.client.post("/v1/extracts", json={"period": "2025"}, headers=lead(tokens, role))
        assert refused.status_code == 403, role
    bad = await practice.client.post("/v1/extracts", json={"period": "FY25"}, headers=lead(tokens))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period"
    started = await practice.client.post(
        "/v1/extracts", json={"period": "2025", "county": "Pulaski"}, headers=lead(tokens, "auditor")
    )
    job = await _finished(practice, started.headers["location"], lead(tokens, "auditor"))
    assert job["status"] == "succeeded" and job["records_total"] == 6
    href = job["files"][0]["href"]
    assert (await practice.client.get(href, headers=lead(tokens, "worker"))).status_code == 403
    assert (await practice.client.get(started.headers["location"], headers=lead(tokens, "worker"))).status_code == 403
    assert (await practice.client.get(href, headers=lead(tokens, "admin"))).status_code == 200
    missing = await practice.client.get(f"{started.headers['location']}/files/other.csv", headers=lead(tokens))
    assert missing.status_code == 404
    async with practice.app.state.database.session() as s:
        audited = (
            await s.execute(
                select(platform.audit.c.action, platform.audit.c.actor_subject).where(
                    platform.audit.c.resource == "federal_extract"
                )
            )
        ).all()
    assert ("create", "auditor.kim") in audited and ("download", "admin.kim") in audited


async def test_reporting_facts_applied_twice_or_an_older_version_late_change_nothing(practice: RunningService) -> None:
    ids = await load(practice)
    newer = family(2)
    newer["removals"][0]["discharged_on"] = "2025-04-20"
    newer["assignments"].append({"staff_subject": "fsw.lindqvist", "role": "worker", "unit": "Pulaski-4"})
    for event in announced(ids["C-2"], "C-2", newer, version=2):
        await practice.bus.publish(event)

    async def stored() -> tuple[dict[uuid.UUID, Any], dict[uuid.UUID, Any], list[tuple[uuid.UUID, str]]]:
        async with practice.app.state.database.session() as s:
            units = [(u.case_id, u.unit) for u in (await s.execute(select(OutcomeCaseUnit))).scalars()]
            return await outcome_model(s), await read_model(s), sorted(units)

    before = await stored()
    assert before[0][ids["C-2"]]["history"].removals[0].discharged_on.isoformat() == "2025-04-20"
    assert (ids["C-2"], "Pulaski-4") in before[2]
    # the same facts again (a redelivery under a new event id), and the case's first version arriving late
    for event in [*announced(ids["C-2"], "C-2", newer, version=2), *announced(ids["C-2"], "C-2", family(2))]:
        await practice.bus.publish(event)
    assert await stored() == before
