"""The SACWIS case record's reports and removals in the network service (issue 15, part 5), on SQLite and
PostgreSQL: the batch carries them (optional, idempotent, kept inactive when no longer listed, refused with their
field when wrong), and every change of a case announces its reporting facts (`sop.network.case.reporting_facts`) in
the same transaction, at the case's version: ids, dates and codes, never a name. The outcome measures and the
federal extract that read them are the practice service's (tests/practice/test_outcomes.py). Fictional families."""

from __future__ import annotations

import json
import uuid
from operator import itemgetter
from typing import Any

import pytest
from outcome_families import families, family, record
from reporting_facts_events import reporting_facts
from sqlalchemy import select

from sop_network.cli import announce_all
from sop_network.models import CaseRemoval, CaseReport, Person
from sop_shared.testing import RunningService

pytestmark = pytest.mark.sqlite_smoke

BATCH = "/v1/sacwis/batch"
FACTS = "sop.network.case.reporting_facts"


async def load(network: RunningService, sacwis: dict[str, str]) -> dict[str, uuid.UUID]:
    response = await network.client.post(BATCH, json={"system": "CHRIS", "records": families()}, headers=sacwis)
    assert response.status_code == 200, response.text
    assert response.json()["counts"] == {"created": 7}, response.json()
    return {r["external_id"]: uuid.UUID(r["id"]) for r in response.json()["results"]}


async def announced_facts(network: RunningService, sacwis: dict[str, str]) -> list[dict[str, Any]]:
    items = (await network.client.get("/v1/changes", params={"limit": 200}, headers=sacwis)).json()["items"]
    return [i["data"] for i in items if i["subject"] == FACTS]


async def person_ids(network: RunningService) -> dict[str, uuid.UUID]:
    async with network.app.state.database.session() as s:
        return {p.external_id: p.id for p in (await s.execute(select(Person))).scalars() if p.external_id}


async def test_the_batch_carries_reports_and_removals_idempotently_and_keeps_what_it_no_longer_lists(
    network: RunningService, sacwis: dict[str, str]
) -> None:
    ids = await load(network, sacwis)
    again = await network.client.post(BATCH, json={"system": "CHRIS", "records": families()}, headers=sacwis)
    assert again.json()["counts"] == {"unchanged": 7}
    # saying nothing of reports and removals keeps them; a changed list updates and keeps the unlisted, inactive
    silent = family(1)
    del silent["reports"], silent["removals"]
    changed = family(2)
    changed["removals"][0]["discharged_on"] = "2025-04-20"
    changed["reports"] = changed["reports"][:1]
    response = await network.client.post(
        BATCH, json={"system": "CHRIS", "records": [record(1, silent), record(2, changed)]}, headers=sacwis
    )
    assert [r["status"] for r in response.json()["results"]] == ["unchanged", "updated"]
    async with network.app.state.database.session() as s:
        reports = (await s.execute(select(CaseReport).where(CaseReport.case_id == ids["C-2"]))).scalars().all()
        assert sorted((r.external_id, r.active, r.version) for r in reports) == [
            ("R-2-1", True, 1),
            ("R-2-2", False, 2),
        ]
        removal = (await s.execute(select(CaseRemoval).where(CaseRemoval.case_id == ids["C-2"]))).scalar_one()
        assert (str(removal.discharged_on), removal.version, removal.person_id is not None) == ("2025-04-20", 2, True)
        assert len((await s.execute(select(CaseReport).where(CaseReport.case_id == ids["C-1"]))).scalars().all()) == 2
    # the change log says what changed
    changes = (await network.client.get("/v1/changes", params={"limit": 200}, headers=sacwis)).json()["items"]
    updated = [c for c in changes if c["subject"] == "sop.network.case.updated"]
    assert updated[-1]["data"]["changed"] == ["removals", "reports"]
    assert changes[-1]["subject"] == FACTS and changes[-1]["data"]["version"] == 2  # announced with it


async def test_a_removal_of_someone_not_a_child_of_the_case_is_refused_with_its_field(
    network: RunningService, sacwis: dict[str, str]
) -> None:
    bad = family(1)
    bad["removals"][0]["child"] = "P-1-1"  # the mother
    bad["reports"][0]["children"] = ["P-9-9"]
    response = await network.client.post(BATCH, json={"system": "CHRIS", "records": [record(1, bad)]}, headers=sacwis)
    result = response.json()["results"][0]
    assert result["status"] == "invalid"
    assert {e["field"] for e in result["errors"]} == {
        "records.0.data.removals.0.child",
        "records.0.data.reports.0.children.0",
    }
    async with network.app.state.database.session() as s:
        assert (await s.execute(select(CaseRemoval))).first() is None


async def test_every_case_change_announces_its_reporting_facts_at_its_version_with_no_names(
    network: RunningService, sacwis: dict[str, str]
) -> None:
    ids = await load(network, sacwis)
    people = await person_ids(network)
    facts = await announced_facts(network, sacwis)
    # the bulk path: one announcement per new case, as the practice service's tests expect it
    by_case = {f["external_id"]: f for f in facts}
    assert len(facts) == 7 and set(by_case) == {f"C-{n}" for n in range(1, 8)}
    for r in families():
        expected = reporting_facts(ids[r["external_id"]], r["external_id"], r["data"], person_ids=people)
        assert by_case[r["external_id"]] == expected
    # a change through the one-by-one path: the whole facts again, at the case's new version
    changed = family(2)
    changed["removals"][0]["discharged_on"] = "2025-04-20"
    response = await network.client.put("/v1/cases/by-external/CHRIS/C-2", json=changed, headers=sacwis)
    assert response.status_code == 200, response.text
    latest = (await announced_facts(network, sacwis))[-1]
    assert latest == reporting_facts(ids["C-2"], "C-2", changed, version=2, person_ids=people)
    # the same record again changes nothing and announces nothing
    again = await network.client.put("/v1/cases/by-external/CHRIS/C-2", json=changed, headers=sacwis)
    assert again.status_code == 200, again.text
    assert len(await announced_facts(network, sacwis)) == 8
    # ids, dates and codes: no one's name
    words = json.dumps(await announced_facts(network, sacwis))
    assert "Ana" not in words and "Lia" not in words and "Fam" not in words and "mother" not in words


async def test_every_cases_facts_can_be_announced_again_for_a_practice_service_that_came_later(
    network: RunningService, sacwis: dict[str, str]
) -> None:
    """`sop network announce-reporting-facts`: after an upgrade, the cases loaded before it are announced as they are
    (what a SACWIS batch of unchanged records would not do: it announces nothing)."""
    await load(network, sacwis)
    before = await announced_facts(network, sacwis)
    assert await announce_all(network.database_url, chunk=3) == 7
    after = await announced_facts(network, sacwis)
    key = itemgetter("case_id")
    assert sorted(after[len(before) :], key=key) == sorted(before, key=key)


async def test_a_childs_birth_date_sent_alone_announces_the_childs_cases_again(
    network: RunningService, sacwis: dict[str, str]
) -> None:
    """A person record changes no case's version, but the extract reads the child's birth date: the child's case
    is announced again (at its version, which a consumer takes like a newer one)."""
    ids = await load(network, sacwis)
    before = len(await announced_facts(network, sacwis))
    person = {"first_name": "Lia", "last_name": "Fam3", "date_of_birth": "2018-06-06"}
    response = await network.client.post(
        BATCH,
        json={"system": "CHRIS", "records": [{"kind": "person", "external_id": "P-3-2", "data": person}]},
        headers=sacwis,
    )
    assert response.json()["results"][0]["status"] == "updated", response.text
    facts = await announced_facts(network, sacwis)
    assert len(facts) == before + 1
    assert facts[-1]["case_id"] == str(ids["C-3"]) and facts[-1]["version"] == 1
    assert facts[-1]["children"][0]["date_of_birth"] == "2018-06-06"
