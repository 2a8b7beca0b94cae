"""The network's events say which language each person reads (`people`), so the other services know whether a
signer needs an interpreter without calling this one: on a case from SACWIS (one at a time and in a batch), a
person from SACWIS, and a safety-network member the worker adds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sop_network.models import platform
from sop_shared.testing import InternalTokens, RunningService

UPSERT = "/v1/cases/by-external/CHRIS/C-2026-0300"


async def events(network: RunningService, subject: str) -> list[dict[str, Any]]:
    outbox = platform.outbox
    async with network.app.state.database.session() as session:
        rows = await session.execute(select(outbox.c.payload).where(outbox.c.subject == subject).order_by(outbox.c.id))
        return [dict(payload) for payload in rows.scalars()]


def languages(event: dict[str, Any]) -> dict[str, tuple[str, bool, int]]:
    return {p["person_id"]: (p["preferred_language"], p["needs_interpreter"], p["version"]) for p in event["people"]}


async def test_a_case_from_sacwis_says_what_each_person_reads_and_a_change_says_it_again(
    network: RunningService, sacwis: dict[str, str], maria_and_the_children: dict[str, Any]
) -> None:
    case = (await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()
    maria = next(m["person"] for m in case["members"] if m["person"]["first_name"] == "Maria")
    [created] = await events(network, "sop.network.case.created")
    assert languages(created)[maria["id"]] == ("es", True, 1)
    assert set(languages(created)) == set(created["person_ids"]) == {m["person"]["id"] for m in case["members"]}

    maria_and_the_children["members"][0]["person"] |= {"preferred_language": "en", "needs_interpreter": False}
    updated = await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)
    assert updated.status_code == 200, updated.text
    [changed] = await events(network, "sop.network.case.updated")
    assert languages(changed)[maria["id"]] == ("en", False, 2)


async def test_a_sacwis_batch_says_what_each_new_person_reads(network: RunningService, sacwis: dict[str, str]) -> None:
    rosa = {"first_name": "Rosa", "last_name": "Delgado", "preferred_language": "es-US", "needs_interpreter": True}
    ana = {"external_id": "P-9-1", "first_name": "Ana", "last_name": "Family9", "preferred_language": "mh"}
    lia = {"external_id": "P-9-2", "first_name": "Lia", "last_name": "Family9", "preferred_language": "en"}
    family = {
        "case_type": "in_home",
        "members": [{"role": "caregiver", "person": ana}, {"role": "child", "person": lia}],
    }
    body = {
        "system": "CHRIS",
        "records": [
            {"kind": "person", "external_id": "P-ROSA", "data": rosa},
            {"kind": "case", "external_id": "C-9", "data": family},
        ],
    }
    answer = await network.client.post("/v1/sacwis/batch", json=body, headers=sacwis)
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["created", "created"], answer.text
    [person] = await events(network, "sop.network.person.created")
    assert list(languages(person).values()) == [("es-US", True, 1)]
    [case] = await events(network, "sop.network.case.created")
    assert list(languages(case).values()) == [("mh", False, 1), ("en", False, 1)]


async def test_a_network_member_the_worker_adds_says_what_they_read(
    network: RunningService, sacwis: dict[str, str], maria_and_the_children: dict[str, Any], tokens: InternalTokens
) -> None:
    case_id = (await network.client.put(UPSERT, json=maria_and_the_children, headers=sacwis)).json()["id"]
    pastor = {"first_name": "Samuel", "last_name": "Greene", "preferred_language": "en"}
    added = await network.client.post(
        f"/v1/cases/{case_id}/network/members",
        json={"person": pastor, "circle": "outer", "roles": ["Pastor"]},
        headers=tokens.headers("network", case_id=case_id),
    )
    assert added.status_code == 201, added.text
    [event] = await events(network, "sop.network.network_member.added")
    assert languages(event) == {added.json()["person"]["id"]: ("en", False, 1)}


async def test_a_case_from_a_sacwis_batch_is_announced_as_the_one_by_one_upsert_announces_it(
    network: RunningService, sacwis: dict[str, str], maria_and_the_children: dict[str, Any]
) -> None:
    """Who is assigned (with their unit), the county, status and opening date: the practice service's fidelity
    measures count cases by them, and the nightly batch is how most cases arrive."""
    case = {
        **maria_and_the_children,
        "county": "Benton",
        "opened_on": "2026-08-03",
        "assignments": [{"staff_subject": "fsw.hale", "role": "worker", "unit": "Benton-1"}],
    }
    await network.client.put(UPSERT, json=case, headers=sacwis)
    body = {"system": "CHRIS", "records": [{"kind": "case", "external_id": "C-2026-0301", "data": case}]}
    answer = await network.client.post("/v1/sacwis/batch", json=body, headers=sacwis)
    assert [r["status"] for r in answer.json()["results"]] == ["created"], answer.text
    one, batched = await events(network, "sop.network.case.created")
    assert set(batched) == set(one)
    for key in ("staff", "county", "status", "opened_on"):
        assert batched[key] == one[key], key
    assert batched["staff"] == [{"subject": "fsw.hale", "role": "worker", "unit": "Benton-1"}]
