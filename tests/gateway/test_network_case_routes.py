"""The network paths of the API handbook beside the SACWIS upsert, through the gateway as a client calls them:
a case opened and changed on the platform outside SACWIS, and a case's lists (its people, its staff, its
network meetings), each authorized on the case, audited and paged."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import EmbeddedSystem

WORKER, STRANGER, MEMBER = "fsw.rivera", "fsw.lindqvist", "maria.lopez"
CASES = "/api/network/v1/cases"


def _problem_fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.sqlite_smoke
async def test_a_worker_opens_a_case_outside_sacwis_and_changes_it_at_the_version_read(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    worker = system.bearer(WORKER)
    bad = await system.client.post(CASES, json={"case_type": "at_home", "county": "Pulaski"}, headers=worker)
    assert bad.status_code == 422 and _problem_fields(bad) == ["case_type"]
    early = await system.client.post(
        CASES,
        json={"case_type": "in_home", "status": "closed", "opened_on": "2026-11-02", "closed_on": "2026-11-01"},
        headers=worker,
    )
    assert early.status_code == 422 and _problem_fields(early) == ["closed_on"]
    opened = await system.client.post(
        CASES, json={"case_type": "in_home", "county": "Pulaski", "opened_on": "2026-11-02"}, headers=worker
    )
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert opened.headers["Location"] == f"{CASES}/{case['id']}" and opened.headers["ETag"] == '"1"'
    assert (case["external_system"], case["external_id"]) == ("SOP", case["id"])
    assert [(a["staff_subject"], a["role"]) for a in case["assignments"]] == [(WORKER, "worker")]
    url = f"{CASES}/{case['id']}"
    assert (await system.client.get(url, headers=worker)).status_code == 200
    # only a worker on it sees it; a member of the public answer, a partner or a family may not open one
    assert (await system.client.get(url, headers=system.bearer(STRANGER))).status_code == 404
    assert (
        await system.client.post(CASES, json={"case_type": "in_home"}, headers=system.bearer(MEMBER))
    ).status_code == 403

    assert (await system.client.patch(url, json={"county": "Saline"}, headers=worker)).status_code == 428
    changed = await system.client.patch(url, json={"county": "Saline"}, headers={**worker, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["county"], changed.json()["version"], changed.headers["ETag"]) == ("Saline", 2, '"2"')
    assert changed.json()["opened_on"] == "2026-11-02"  # what the body did not name stays
    stale = await system.client.patch(url, json={"county": "Pulaski"}, headers={**worker, "If-Match": '"1"'})
    assert stale.status_code == 412
    for body, field in (({"status": "closed"}, "closed_on"), ({"case_type": None}, "case_type"), ({"x": 1}, "x")):
        refused = await system.client.patch(url, json=body, headers={**worker, "If-Match": '"2"'})
        assert refused.status_code == 422 and _problem_fields(refused) == [field], refused.text
    assert (await system.client.get(url, headers=worker)).json()["version"] == 2  # nothing written
    stranger = await system.client.patch(
        url, json={"county": "X"}, headers={**system.bearer(STRANGER), "If-Match": '"2"'}
    )
    assert stranger.status_code == 404
    # a case SACWIS keeps is changed in SACWIS
    sacwis_case = f"{CASES}/{demo_case}"
    version = (await system.client.get(sacwis_case, headers=worker)).json()["version"]
    kept = await system.client.patch(sacwis_case, json={"county": "X"}, headers={**worker, "If-Match": f'"{version}"'})
    assert kept.status_code == 409 and kept.headers["content-type"].startswith("application/problem+json")
    rows = await system.audit_rows()
    assert any(r.action == "create" and r.resource_id == "POST /v1/cases -> 201" for r in rows)  # no case yet
    on_the_case = [r for r in rows if r.case_id == uuid.UUID(case["id"])]
    assert {r.action for r in on_the_case} == {"read", "update", "denied"}  # the stranger's refusals too


async def test_a_case_lists_its_people_its_staff_and_its_network_meetings_a_page_at_a_time(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    worker = system.bearer(WORKER)
    base = f"{CASES}/{demo_case}"
    case = (await system.client.get(base, headers=worker)).json()
    members = await system.client.get(f"{base}/members", headers=worker)
    assert members.status_code == 200, members.text
    assert [(m["id"], m["role"]) for m in members.json()["items"]] == [(m["id"], m["role"]) for m in case["members"]]
    assert members.json()["next_cursor"] is None
    first = (await system.client.get(f"{base}/members", params={"limit": 1}, headers=worker)).json()
    rest = await system.client.get(
        f"{base}/members", params={"limit": 50, "cursor": first["next_cursor"]}, headers=worker
    )
    assert [m["id"] for m in first["items"] + rest.json()["items"]] == [m["id"] for m in case["members"]]
    staff = (await system.client.get(f"{base}/assignments", headers=worker)).json()
    assert [(a["staff_subject"], a["role"]) for a in staff["items"]] == [
        (a["staff_subject"], a["role"]) for a in case["assignments"]
    ]
    member_id = (await system.client.get(f"{base}/network", headers=worker)).json()["members"][0]["id"]
    held = await system.client.post(
        f"{base}/network/meetings",
        json={"held_on": "2026-11-01", "attendee_member_ids": [member_id], "decisions": ["Rosa calls nightly."]},
        headers=worker,
    )
    assert held.status_code == 201, held.text
    meetings = (await system.client.get(f"{base}/network/meetings", headers=worker)).json()
    assert [m["id"] for m in meetings["items"]][-1] == held.json()["id"]
    for path in ("members", "assignments", "network/meetings"):
        refused = await system.client.get(f"{base}/{path}", headers=system.bearer(STRANGER))
        missing = await system.client.get(f"{CASES}/{uuid.uuid4()}/{path}", headers=system.bearer(STRANGER))
        assert refused.status_code == missing.status_code == 404
        bad = await system.client.get(f"{base}/{path}", params={"cursor": "nope"}, headers=worker)
        assert bad.status_code == 422 and _problem_fields(bad) == ["cursor"]
    denied = [r for r in await system.audit_rows() if r.action == "denied" and r.case_id == demo_case]
    assert len(denied) == 3 and {r.actor_subject for r in denied} == {STRANGER}


ROSA = {"first_name": "Rosa", "last_name": "Delgado", "preferred_language": "es", "needs_interpreter": True}
ADD_MEMBER = """mutation($input: AddCaseMemberInput!) { addCaseMember(input: $input) {
  case { id version members { role relationshipToChildren person { firstName } } }
  userErrors { field message code } } }"""


async def _case_updates(system: EmbeddedSystem, case_id: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from sop_network.models import platform

    outbox = platform.outbox
    async with system.services["network"].state.database.session() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(outbox.c.subject == "sop.network.case.updated").order_by(outbox.c.id)
        )
        return [dict(p) for p in rows.scalars() if p["case_id"] == case_id]


async def test_a_worker_adds_the_family_to_a_case_they_opened_at_the_version_read(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    worker = system.bearer(WORKER)
    opened = await system.client.post(CASES, json={"case_type": "in_home", "county": "Pulaski"}, headers=worker)
    case = opened.json()
    members = f"{CASES}/{case['id']}/members"
    child = {"role": "child", "person": {"first_name": "Sofia", "last_name": "Lopez", "date_of_birth": "2018-04-02"}}

    assert (await system.client.post(members, json=child, headers=worker)).status_code == 428
    added = await system.client.post(members, json=child, headers={**worker, "If-Match": '"1"'})
    assert added.status_code == 201, added.text
    assert added.headers["ETag"] == '"2"' and added.headers["Location"] == f"{CASES}/{case['id']}"
    assert [(m["role"], m["person"]["first_name"]) for m in added.json()["members"]] == [("child", "Sofia")]
    stale = await system.client.post(members, json=child, headers={**worker, "If-Match": '"1"'})
    assert stale.status_code == 412
    for body, field in (
        ({**child, "person": {"last_name": "Lopez"}}, "person.first_name"),
        ({**child, "role": "neighbour"}, "role"),
        ({**child, "person_id": str(uuid.uuid4())}, "person_id"),
    ):
        refused = await system.client.post(members, json=body, headers={**worker, "If-Match": '"2"'})
        assert refused.status_code == 422 and _problem_fields(refused) == [field], refused.text
    assert (await system.client.get(f"{CASES}/{case['id']}", headers=worker)).json()["version"] == 2  # nothing written
    stranger = await system.client.post(members, json=child, headers={**system.bearer(STRANGER), "If-Match": '"2"'})
    assert stranger.status_code == 404
    # SACWIS lists the people of the cases it keeps
    sacwis_case = f"{CASES}/{demo_case}"
    version = (await system.client.get(sacwis_case, headers=worker)).json()["version"]
    kept = await system.client.post(
        f"{sacwis_case}/members", json=child, headers={**worker, "If-Match": f'"{version}"'}
    )
    assert kept.status_code == 409 and kept.json()["type"].endswith("kept-by-sacwis")

    # the same through GraphQL: one input, a payload with user errors
    household = {
        "caseId": case["id"],
        "expectedVersion": 2,
        "role": "CAREGIVER",
        "relationshipToChildren": "grandmother, lives in the home",
        "person": {"firstName": "Rosa", "lastName": "Delgado", "preferredLanguage": "es", "needsInterpreter": True},
    }
    body = (await system.graphql(ADD_MEMBER, {"input": household})).json()
    payload = body["data"]["addCaseMember"]
    assert payload["userErrors"] == [] and payload["case"]["version"] == 3, body
    assert [(m["role"], m["person"]["firstName"]) for m in payload["case"]["members"]] == [
        ("CHILD", "Sofia"),
        ("CAREGIVER", "Rosa"),
    ]
    again = (await system.graphql(ADD_MEMBER, {"input": household})).json()["data"]["addCaseMember"]
    assert again["case"] is None and [e["code"] for e in again["userErrors"]] == ["VERSION_CONFLICT"]
    nameless = {**household, "expectedVersion": 3, "person": {"lastName": "Delgado", "firstName": ""}}
    invalid = (await system.graphql(ADD_MEMBER, {"input": nameless})).json()["data"]["addCaseMember"]
    assert [e["field"] for e in invalid["userErrors"]] == [["input", "person", "firstName"]]
    sacwis = {**household, "caseId": str(demo_case), "expectedVersion": version}
    refused = (await system.graphql(ADD_MEMBER, {"input": sacwis})).json()["data"]["addCaseMember"]
    assert [e["code"] for e in refused["userErrors"]] == ["CONFLICT"]

    # each addition is a case change like any other: a new version, announced with who is in the case
    updates = await _case_updates(system, case["id"])
    assert [u["version"] for u in updates] == [2, 3] and all(u["changed"] == ["members"] for u in updates)
    assert len(updates[-1]["person_ids"]) == 2
    rows = [r for r in await system.audit_rows() if r.case_id == uuid.UUID(case["id"]) and r.action == "create"]
    assert len(rows) >= 2
