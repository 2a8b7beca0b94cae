"""The SACWIS batch: idempotent replays, per-record results, nothing half-written — SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from sop_network.models import Case, Person, PersonAlias
from sop_shared.testing import RunningService

# Runs on SQLite too by default: SQLite looks records up with an IN list where PostgreSQL unnests an array.
pytestmark = pytest.mark.sqlite_smoke

BATCH = "/v1/sacwis/batch"


def family(n: int, county: str = "Pulaski") -> dict[str, Any]:
    """A fictional family: one mother, two children, a worker and a supervisor."""
    return {
        "case_type": "in_home",
        "status": "open",
        "county": county,
        "opened_on": "2026-10-02",
        "members": [
            {
                "role": "caregiver",
                "relationship_to_children": "mother",
                "person": {
                    "external_id": f"P-{n}-1",
                    "first_name": "Ana",
                    "last_name": f"Family{n}",
                    "date_of_birth": "1990-01-01",
                    "contact_methods": [
                        {"kind": "address", "value": f"{n} Elm St", "dv_confidential": True},
                        {"kind": "phone", "value": "501-555-0100"},
                    ],
                },
            },
            {
                "role": "child",
                "relationship_to_children": "daughter",
                "person": {
                    "external_id": f"P-{n}-2",
                    "first_name": "Lia",
                    "last_name": f"Family{n}",
                    "date_of_birth": "2018-05-05",
                },
            },
            {
                "role": "child",
                "relationship_to_children": "son",
                "person": {
                    "external_id": f"P-{n}-3",
                    "first_name": "Teo",
                    "last_name": f"Family{n}",
                    "date_of_birth": "2020-07-07",
                },
            },
        ],
        "assignments": [
            {"staff_subject": "fsw.rivera", "role": "worker", "unit": "U-7", "area": "6"},
            {"staff_subject": "sup.okafor", "role": "supervisor", "unit": "U-7", "area": "6"},
        ],
    }


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"system": "CHRIS", "records": list(records)}


def case_record(n: int, **changes: Any) -> dict[str, Any]:
    return {"kind": "case", "external_id": f"C-{n}", "data": {**family(n), **changes}}


def person_record(ext: str, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "person",
        "external_id": ext,
        "data": {"first_name": "Rosa", "last_name": "Delgado", "date_of_birth": "1965-01-30", **fields},
    }


async def test_replaying_the_same_sacwis_batch_three_times_leaves_exactly_one_copy_of_everything(
    network: RunningService,
    sacwis: dict[str, str],
    row_counts: Any,
) -> None:
    body = batch(*(case_record(n) for n in range(5)), person_record("P-ROSA"))
    first = await network.client.post(BATCH, json=body, headers=sacwis)
    assert first.status_code == 200, first.text
    assert first.json()["counts"] == {"created": 6}
    after_first = await row_counts(network.database_url)
    for _ in range(2):
        again = await network.client.post(BATCH, json=body, headers=sacwis)
        assert again.json()["counts"] == {"unchanged": 6}
        assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    assert await row_counts(network.database_url) == after_first
    assert after_first["cases"] == 5 and after_first["persons"] == 16 and after_first["members"] == 15
    assert after_first["assignments"] == 10 and after_first["contacts"] == 10
    # a created case is announced with its reporting facts (5 times 2), the person once
    assert after_first["events"] == after_first["changes"] == 11


async def test_the_batch_and_the_single_upsert_agree_so_either_can_replay_the_other(
    network: RunningService,
    sacwis: dict[str, str],
    row_counts: Any,
) -> None:
    await network.client.put("/v1/cases/by-external/CHRIS/C-1", json=family(1), headers=sacwis)
    response = await network.client.post(BATCH, json=batch(case_record(1)), headers=sacwis)
    assert response.json()["counts"] == {"unchanged": 1}
    put = await network.client.put("/v1/cases/by-external/CHRIS/C-2", json=family(2), headers=sacwis)
    assert put.status_code == 201
    await network.client.post(BATCH, json=batch(case_record(3)), headers=sacwis)
    again = await network.client.put("/v1/cases/by-external/CHRIS/C-3", json=family(3), headers=sacwis)
    assert again.status_code == 200 and again.json()["version"] == 1


async def test_a_changed_case_in_a_batch_is_updated_and_its_departed_child_kept_inactive(
    network: RunningService,
    sacwis: dict[str, str],
    row_counts: Any,
) -> None:
    await network.client.post(BATCH, json=batch(case_record(1), case_record(2)), headers=sacwis)
    changed = case_record(1)
    changed["data"]["county"] = "Saline"
    changed["data"]["members"].pop()
    response = await network.client.post(BATCH, json=batch(changed, case_record(2), case_record(3)), headers=sacwis)
    assert [r["status"] for r in response.json()["results"]] == ["updated", "unchanged", "created"]
    async with network.app.state.database.session() as s:
        case = await s.get(Case, uuid.UUID(response.json()["results"][0]["id"]))
        assert case is not None and case.county == "Saline" and case.version == 2


async def test_a_bad_record_is_reported_on_its_own_and_the_rest_are_applied(
    network: RunningService,
    sacwis: dict[str, str],
    row_counts: Any,
) -> None:
    bad = case_record(2, case_type="vacation")
    bad["data"]["members"][1]["person"]["date_of_birth"] = "2999-01-01"
    closed_early = case_record(3, status="closed", closed_on="2026-01-01")
    response = await network.client.post(BATCH, json=batch(case_record(1), bad, closed_early), headers=sacwis)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "invalid", "invalid"]
    assert {"records.1.data.case_type", "records.1.data.members.1.person.date_of_birth"} <= {
        e["field"] for e in results[1]["errors"]
    }
    assert [e["field"] for e in results[2]["errors"]] == ["records.2.data.closed_on"]
    assert (await row_counts(network.database_url))["cases"] == 1


async def test_a_record_failing_half_way_is_rolled_back_whole_and_the_batch_goes_on(
    network: RunningService,
    sacwis: dict[str, str],
    row_counts: Any,
) -> None:
    await network.client.post(BATCH, json=batch(case_record(1), case_record(2)), headers=sacwis)
    # Make P-1-2 ambiguous in the crosswalk: it is one person's own id and an alias of another person.
    async with network.app.state.database.session() as s:
        stranger = Person(first_name="Other", last_name="Person")
        s.add(stranger)
        await s.flush()
        s.add(PersonAlias(external_system="CHRIS", external_id="P-1-2", person_id=stranger.id))
    before = await row_counts(network.database_url)
    changed = case_record(1)
    changed["data"]["county"] = "Saline"  # written first, then the members fail on the ambiguous child
    response = await network.client.post(BATCH, json=batch(changed, case_record(3)), headers=sacwis)
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["conflict", "created"]
    assert "more than one" in results[0]["errors"][0]["message"]
    async with network.app.state.database.session() as s:
        case = await s.get(Case, uuid.UUID(results[1]["id"]))
        assert case is not None
        from sqlalchemy import select

        c1 = (await s.execute(select(Case).where(Case.external_id == "C-1"))).scalar_one()
        assert c1.county == "Pulaski" and c1.version == 1  # nothing of the failed record stayed
    after = await row_counts(network.database_url)
    # the new case's `case.created` and its reporting facts; nothing of the failed record
    assert after["cases"] == before["cases"] + 1 and after["events"] == before["events"] + 2


async def test_a_malformed_batch_is_422_naming_each_field_and_nothing_is_written(
    network: RunningService,
    sacwis: dict[str, str],
    row_counts: Any,
) -> None:
    body = batch(case_record(1), {"kind": "spaceship", "external_id": "X", "data": {}})
    body["system"] = "bad system!"
    response = await network.client.post(BATCH, json=body, headers=sacwis)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"system", "records.1.kind"} <= {e["field"] for e in response.json()["errors"]}
    assert (await row_counts(network.database_url))["cases"] == 0


async def test_the_same_person_twice_in_a_batch_with_different_details_ends_as_the_last_one_says(
    network: RunningService,
    sacwis: dict[str, str],
    row_counts: Any,
) -> None:
    one = case_record(1)
    two = copy.deepcopy(case_record(2))
    two["data"]["members"][0]["person"] = {**one["data"]["members"][0]["person"], "last_name": "Renamed"}
    response = await network.client.post(BATCH, json=batch(one, two), headers=sacwis)
    assert [r["status"] for r in response.json()["results"]] == ["created", "created"]
    async with network.app.state.database.session() as s:
        from sqlalchemy import select

        mother = (await s.execute(select(Person).where(Person.external_id == "P-1-1"))).scalar_one()
        assert mother.last_name == "Renamed"


async def test_only_the_integration_may_send_a_batch(network: RunningService, tokens: Any) -> None:
    response = await network.client.post(BATCH, json=batch(case_record(1)), headers=tokens.headers("network"))
    assert response.status_code == 403
