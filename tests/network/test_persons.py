"""Persons: the match helper, the reversible merge, the external-id crosswalk — SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from sop_network.models import CaseMember, ContactMethod, NetworkMember, Person
from sop_network.persons.rules import dob_similarity, match_score, name_similarity, suggest_duplicates
from sop_network.schemas import PersonIn
from sop_shared.testing import InternalTokens, RunningService

BATCH = "/v1/sacwis/batch"


def _case(ext: str, mother_ext: str, mother_last: str = "Lopez", dob: str = "1994-03-14") -> dict[str, Any]:
    return {
        "kind": "case",
        "external_id": ext,
        "data": {
            "case_type": "in_home",
            "county": "Pulaski",
            "members": [
                {
                    "role": "caregiver",
                    "relationship_to_children": "mother",
                    "person": {
                        "external_id": mother_ext,
                        "first_name": "Maria",
                        "last_name": mother_last,
                        "date_of_birth": dob,
                        "contact_methods": [{"kind": "phone", "value": f"501-555-{ext[-4:]}"}],
                    },
                },
                {"role": "child", "person": {"external_id": f"{ext}-K", "first_name": "Sofia", "last_name": "Lopez"}},
            ],
            "assignments": [{"staff_subject": "fsw.rivera", "role": "worker"}],
        },
    }


def _state(rows: list[Any]) -> list[dict[str, Any]]:
    ignore = {"version", "updated_at", "_sa_instance_state"}
    return sorted(({k: v for k, v in vars(r).items() if k not in ignore} for r in rows), key=lambda d: str(d["id"]))


async def _snapshot(network: RunningService) -> dict[str, Any]:
    async with network.app.state.database.session() as s:
        s.expire_all()
        return {
            name: _state(list((await s.execute(select(model))).scalars()))
            for name, model in (
                ("persons", Person),
                ("members", CaseMember),
                ("contacts", ContactMethod),
                ("network", NetworkMember),
            )
        }


async def _two_marias(network: RunningService, sacwis: dict[str, str]) -> tuple[str, str]:
    body = {"system": "CHRIS", "records": [_case("C-0001", "P-A"), _case("C-0002", "P-B", "López", "1994-03-14")]}
    results = (await network.client.post(BATCH, json=body, headers=sacwis)).json()["results"]
    async with network.app.state.database.session() as s:
        a = (await s.execute(select(Person.id).where(Person.external_id == "P-A"))).scalar_one()
        b = (await s.execute(select(Person.id).where(Person.external_id == "P-B"))).scalar_one()
    assert results
    return str(a), str(b)


@pytest.mark.sqlite_smoke
async def test_a_person_merge_and_its_reversal_restore_the_original_records(
    network: RunningService,
    sacwis: dict[str, str],
    tokens: InternalTokens,
) -> None:
    survivor, merged = await _two_marias(network, sacwis)
    before = await _snapshot(network)
    merge = await network.client.post(
        "/v1/person-merges", json={"survivor_id": survivor, "merged_id": merged}, headers=sacwis
    )
    assert merge.status_code == 201, merge.text
    during = await _snapshot(network)
    merged_row = next(p for p in during["persons"] if str(p["id"]) == merged)
    assert str(merged_row["merged_into_id"]) == survivor
    assert {str(m["person_id"]) for m in during["members"] if m["role"] == "caregiver"} == {survivor}
    assert {str(c["person_id"]) for c in during["contacts"]} == {survivor}
    # SACWIS sending the merged record's case again links to the survivor and duplicates nothing
    again = await network.client.post(
        BATCH, json={"system": "CHRIS", "records": [_case("C-0002", "P-B", "López")]}, headers=sacwis
    )
    assert again.json()["counts"] == {"unchanged": 1}
    reverse = await network.client.post(f"/v1/person-merges/{merge.json()['id']}/reverse", headers=sacwis)
    assert reverse.status_code == 200 and reverse.json()["reversed_by"] == "sacwis.sync"
    assert await _snapshot(network) == before
    twice = await network.client.post(f"/v1/person-merges/{merge.json()['id']}/reverse", headers=sacwis)
    assert twice.status_code == 409


async def test_merging_two_records_in_the_same_case_and_role_keeps_one_membership_and_reverses_exactly(
    network: RunningService,
    sacwis: dict[str, str],
) -> None:
    case = _case("C-0003", "P-C")
    case["data"]["members"].append(
        {
            "role": "caregiver",
            "relationship_to_children": "mother",
            "person": {
                "external_id": "P-C2",
                "first_name": "María",
                "last_name": "Lopez",
                "date_of_birth": "1994-03-14",
            },
        }
    )
    await network.client.post(BATCH, json={"system": "CHRIS", "records": [case]}, headers=sacwis)
    async with network.app.state.database.session() as s:
        a = (await s.execute(select(Person.id).where(Person.external_id == "P-C"))).scalar_one()
        b = (await s.execute(select(Person.id).where(Person.external_id == "P-C2"))).scalar_one()
    before = await _snapshot(network)
    merge = (
        await network.client.post(
            "/v1/person-merges", json={"survivor_id": str(a), "merged_id": str(b)}, headers=sacwis
        )
    ).json()
    during = await _snapshot(network)
    assert sum(1 for m in during["members"] if m["role"] == "caregiver" and m["active"]) == 1
    await network.client.post(f"/v1/person-merges/{merge['id']}/reverse", headers=sacwis)
    assert await _snapshot(network) == before


async def test_merges_are_refused_when_they_make_no_sense(
    network: RunningService, sacwis: dict[str, str], tokens: InternalTokens, row_counts: Any
) -> None:
    survivor, merged = await _two_marias(network, sacwis)
    same = await network.client.post(
        "/v1/person-merges", json={"survivor_id": survivor, "merged_id": survivor}, headers=sacwis
    )
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "merged_id"
    before = await row_counts(network.database_url)
    bad = await network.client.post("/v1/person-merges", json={"survivor_id": "nope"}, headers=sacwis)
    assert bad.status_code == 422 and {"survivor_id", "merged_id"} <= {e["field"] for e in bad.json()["errors"]}
    assert await row_counts(network.database_url) == before
    staff = await network.client.post(
        "/v1/person-merges", json={"survivor_id": survivor, "merged_id": merged}, headers=tokens.headers("network")
    )
    assert staff.status_code == 403


async def test_likely_duplicates_are_suggested_by_name_and_date_of_birth(
    network: RunningService,
    sacwis: dict[str, str],
) -> None:
    a, b = await _two_marias(network, sacwis)
    found = (await network.client.get(f"/v1/persons/{a}/likely-duplicates", headers=sacwis)).json()
    assert [d["person"]["id"] for d in found] == [b] and found[0]["score"] >= 0.8


async def test_the_crosswalk_answers_one_person_or_409_never_a_guess(
    network: RunningService,
    sacwis: dict[str, str],
) -> None:
    a, b = await _two_marias(network, sacwis)
    link = await network.client.put("/v1/crosswalk/persons/MEDICAID/M-123", json={"person_id": a}, headers=sacwis)
    assert link.status_code == 200 and link.json()["person_id"] == a
    again = await network.client.put("/v1/crosswalk/persons/MEDICAID/M-123", json={"person_id": a}, headers=sacwis)
    assert again.status_code == 200
    clash = await network.client.put("/v1/crosswalk/persons/MEDICAID/M-123", json={"person_id": b}, headers=sacwis)
    assert clash.status_code == 409 and clash.json()["slug" if "slug" in clash.json() else "type"].endswith(
        "ambiguous-match"
    )
    other_own = await network.client.put("/v1/crosswalk/persons/CHRIS/P-A", json={"person_id": b}, headers=sacwis)
    assert other_own.status_code == 409
    assert (await network.client.get("/v1/crosswalk/persons/MEDICAID/M-123", headers=sacwis)).json()["person_id"] == a
    assert (await network.client.get("/v1/crosswalk/persons/MEDICAID/M-999", headers=sacwis)).status_code == 404
    merge = (
        await network.client.post("/v1/person-merges", json={"survivor_id": b, "merged_id": a}, headers=sacwis)
    ).json()
    via_merge = (await network.client.get("/v1/crosswalk/persons/CHRIS/P-A", headers=sacwis)).json()
    assert via_merge["person_id"] == b and via_merge["record_id"] == a
    assert merge["survivor_id"] == b


def _p(first: str, last: str, dob: str | None) -> PersonIn:
    return PersonIn(
        external_id="x", first_name=first, last_name=last, date_of_birth=date.fromisoformat(dob) if dob else None
    )


def test_names_match_across_case_accents_and_spacing() -> None:
    assert name_similarity("María", "maria") == 1.0
    assert name_similarity("De La Cruz", "delacruz") == 1.0
    assert name_similarity("Greene", "Green") == 0.9
    assert name_similarity("Rosa", "Tamika") < 0.5


def test_dates_of_birth_match_exactly_or_by_a_likely_slip() -> None:
    assert dob_similarity(date(1994, 3, 14), date(1994, 3, 14)) == 1.0
    assert dob_similarity(date(1994, 3, 4), date(1994, 4, 3)) == 0.7  # day and month swapped
    assert dob_similarity(date(1994, 3, 14), date(1995, 3, 14)) == 0.7  # one digit off
    assert dob_similarity(date(1994, 3, 14), None) == 0.5
    assert dob_similarity(date(1994, 3, 14), date(1971, 8, 2)) == 0.0


def test_likely_duplicates_are_ranked_and_strangers_left_out() -> None:
    maria = _p("Maria", "Lopez", "1994-03-14")
    candidates = [
        _p("María", "López", "1994-03-14"),
        _p("Lopez", "Maria", "1994-03-14"),
        _p("Maria", "Lopez", "1961-02-02"),
        _p("Tamika", "Greene", "1994-03-14"),
    ]
    found = suggest_duplicates(maria, candidates)
    assert [c for c, _ in found] == candidates[:2]
    assert match_score(maria, candidates[0]) == 1.0
    assert match_score(maria, candidates[2]) < 0.8


@pytest.mark.sqlite_smoke
async def test_a_person_is_recorded_read_changed_and_upserted_by_external_id_by_the_steward_only(
    network: RunningService, sacwis: dict[str, str], tokens: InternalTokens
) -> None:
    worker = tokens.headers("network", subject="fsw.rivera")
    new = {"first_name": "Ana", "last_name": "Reyes", "preferred_language": "es", "date_of_birth": "1990-05-01"}
    assert (await network.client.post("/v1/persons", json=new, headers=worker)).status_code == 403
    future = await network.client.post("/v1/persons", json={**new, "date_of_birth": "2999-01-01"}, headers=sacwis)
    assert future.status_code == 422 and [e["field"] for e in future.json()["errors"]] == ["date_of_birth"]
    made = await network.client.post("/v1/persons", json=new, headers=sacwis)
    assert made.status_code == 201, made.text
    person = made.json()
    url = f"/v1/persons/{person['id']}"
    assert made.headers["Location"] == url and made.headers["ETag"] == '"1"'
    assert (person["external_system"], person["preferred_language"]) == (None, "es")
    read = await network.client.get(url, headers=sacwis)
    assert read.status_code == 200 and read.json() == person
    assert (await network.client.get(url, headers=worker)).status_code == 403

    assert (await network.client.patch(url, json={"last_name": "Ruiz"}, headers=sacwis)).status_code == 428
    changed = await network.client.patch(url, json={"last_name": "Ruiz"}, headers={**sacwis, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["last_name"], changed.json()["first_name"], changed.json()["version"]) == ("Ruiz", "Ana", 2)
    stale = await network.client.patch(url, json={"last_name": "Reyes"}, headers={**sacwis, "If-Match": '"1"'})
    assert stale.status_code == 412
    for body, field in (({"first_name": None}, "first_name"), ({"preferred_language": "xx"}, "preferred_language")):
        refused = await network.client.patch(url, json=body, headers={**sacwis, "If-Match": '"2"'})
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == [field], refused.text
    assert (await network.client.get(url, headers=sacwis)).json()["version"] == 2  # nothing written
    missing = await network.client.patch(
        f"/v1/persons/{uuid.uuid4()}", json={"last_name": "X"}, headers={**sacwis, "If-Match": '"1"'}
    )
    assert missing.status_code == 404

    upsert = "/v1/persons/by-external/CHRIS/P-777"
    created = await network.client.put(upsert, json={"first_name": "Luis", "last_name": "Reyes"}, headers=sacwis)
    assert created.status_code == 201, created.text
    assert (created.json()["external_system"], created.json()["external_id"]) == ("CHRIS", "P-777")
    same = await network.client.put(upsert, json={"first_name": "Luis", "last_name": "Reyes"}, headers=sacwis)
    assert same.status_code == 200 and same.json()["version"] == 1  # the same payload again changes nothing
    moved = await network.client.put(
        upsert, json={"first_name": "Luis", "last_name": "Reyes", "needs_interpreter": True}, headers=sacwis
    )
    assert moved.status_code == 200 and moved.json()["version"] == 2
    stale_upsert = await network.client.put(
        upsert, json={"first_name": "Luis", "last_name": "R"}, headers={**sacwis, "If-Match": '"1"'}
    )
    assert stale_upsert.status_code == 412
    kept = await network.client.patch(
        f"/v1/persons/{created.json()['id']}", json={"last_name": "X"}, headers={**sacwis, "If-Match": '"2"'}
    )
    assert kept.status_code == 409  # SACWIS keeps this one: changed there, or with the upsert
