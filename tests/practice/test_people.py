"""People and roles in the practice service (issue 15, part 1): the registry of coaches, trainers, the training
coordinator, practice leads and the workers they serve; a coach's caseload of workers and units; who may read
what. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from practice_steps import COORDINATOR, person, register, staff, team
from sqlalchemy import select

from sop_practice.models import platform
from sop_shared.testing import InternalTokens, RunningService


@pytest.mark.sqlite_smoke
async def test_the_coordinator_registers_people_and_a_coachs_caseload_covers_workers_and_units(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    coordinator = staff(tokens, *COORDINATOR)
    by_unit = await practice.client.post(
        "/v1/coaches/coach.tran/caseload", json={"unit": "Pulaski-3"}, headers=coordinator
    )
    assert by_unit.status_code == 201, by_unit.text
    named = await practice.client.post(
        "/v1/coaches/coach.tran/caseload", json={"worker_subject": "fsw.other"}, headers=coordinator
    )
    assert named.status_code == 201
    again = await practice.client.post(
        "/v1/coaches/coach.tran/caseload", json={"unit": "Pulaski-3"}, headers=coordinator
    )
    assert again.status_code == 409
    caseload = await practice.client.get(
        "/v1/coaches/coach.tran/caseload", headers=staff(tokens, "coach.tran", "coach")
    )
    assert caseload.status_code == 200
    assert [w["subject"] for w in caseload.json()["workers"]] == ["fsw.lindqvist", "fsw.other", "fsw.rivera"]
    # the unit's supervisor is not one of its workers; a coach reads only their own caseload
    other_coach = staff(tokens, "coach.someone", "coach")
    assert (await practice.client.get("/v1/coaches/coach.tran/caseload", headers=other_coach)).status_code == 403
    # ending an entry needs the version read
    entry = named.json()
    ended = await practice.client.post(
        f"/v1/coaches/coach.tran/caseload/{entry['id']}/end",
        json={"reason": "moved to another coach"},
        headers={**coordinator, "If-Match": '"1"'},
    )
    assert ended.status_code == 200 and ended.json()["ended_on"] is not None
    caseload = await practice.client.get(
        "/v1/coaches/coach.tran/caseload", headers=staff(tokens, "coach.tran", "coach")
    )
    assert "fsw.other" not in [w["subject"] for w in caseload.json()["workers"]]
    async with practice.app.state.database.session() as session:
        subjects = [row.subject for row in await session.execute(select(platform.outbox.c.subject))]
        audited = [(r.resource, r.action) for r in await session.execute(select(platform.audit))]
    assert subjects.count("sop.practice.practitioner.registered") == 5
    assert {"sop.practice.caseload.assigned", "sop.practice.caseload.ended"} <= set(subjects)
    assert ("coach_caseload", "create") in audited and ("practitioner", "create") in audited


async def test_who_may_read_a_person(practice: RunningService, tokens: InternalTokens) -> None:
    await team(practice, tokens)
    await practice.client.post(
        "/v1/coaches/coach.tran/caseload", json={"worker_subject": "fsw.rivera"}, headers=staff(tokens, *COORDINATOR)
    )

    async def status(*who: str) -> int:
        return (await practice.client.get("/v1/people/fsw.rivera", headers=staff(tokens, *who))).status_code

    assert await status("fsw.rivera", "worker") == 200  # themselves
    assert await status("sup.okafor", "supervisor") == 200  # their supervisor
    assert await status("coach.tran", "coach") == 200  # their coach
    assert await status("lead.park", "practice_lead") == 200  # who reads the registry
    assert await status("fsw.lindqvist", "worker") == 404  # a colleague: as if not registered
    assert await status("coach.someone", "coach") == 404  # another coach
    assert await status("trainer.moss", "trainer") == 404
    listing = await practice.client.get(
        "/v1/people?role=worker&unit=Pulaski-3", headers=staff(tokens, "lead.park", "practice_lead")
    )
    assert [p["subject"] for p in listing.json()] == ["fsw.lindqvist", "fsw.rivera"]
    assert (await practice.client.get("/v1/people", headers=staff(tokens, "fsw.rivera", "worker"))).status_code == 403


async def test_only_the_coordinator_changes_the_registry_and_bad_input_names_the_field(
    practice: RunningService, tokens: InternalTokens
) -> None:
    coordinator = staff(tokens, *COORDINATOR)
    for who in (("coach.tran", "coach"), ("lead.park", "practice_lead"), ("sup.okafor", "supervisor")):
        refused = await practice.client.post("/v1/people", json=person("x.y", "worker"), headers=staff(tokens, *who))
        assert refused.status_code == 403, who
    bad = await practice.client.post(
        "/v1/people", json=person("fsw.rivera", "worker", "juggler", unit=None), headers=coordinator
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in bad.json()["errors"]} == {"roles.1"}
    no_unit = await practice.client.post(
        "/v1/people", json=person("fsw.rivera", "worker", unit=None), headers=coordinator
    )
    assert no_unit.status_code == 422 and no_unit.json()["errors"][0]["field"] == "unit"
    self_supervised = person("sup.okafor", "supervisor", supervisor_subject="sup.okafor")
    refused = await practice.client.post("/v1/people", json=self_supervised, headers=coordinator)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "supervisor_subject"
    not_a_coach = await practice.client.post("/v1/coaches/nobody/caseload", json={"unit": "U"}, headers=coordinator)
    assert not_a_coach.status_code == 422 and not_a_coach.json()["errors"][0]["field"] == "coach_subject"
    async with practice.app.state.database.session() as session:
        assert list(await session.execute(select(platform.outbox))) == []  # nothing written
    created = await register(practice, tokens, person("fsw.rivera", "worker"))
    assert (
        await practice.client.post("/v1/people", json=person("fsw.rivera", "worker"), headers=coordinator)
    ).status_code == 409
    stale = await practice.client.patch(
        "/v1/people/fsw.rivera", json={"unit": "Pulaski-4"}, headers={**coordinator, "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    moved = await practice.client.patch(
        "/v1/people/fsw.rivera",
        json={"unit": "Pulaski-4"},
        headers={**coordinator, "If-Match": f'"{created["version"]}"'},
    )
    assert moved.status_code == 200 and moved.json()["unit"] == "Pulaski-4" and moved.headers["etag"] == '"2"'
    assert (
        await practice.client.patch("/v1/people/fsw.rivera", json={"unit": "X"}, headers=coordinator)
    ).status_code == 428


async def test_a_repeated_registration_with_the_same_key_replays(
    practice: RunningService, tokens: InternalTokens
) -> None:
    headers = {**staff(tokens, *COORDINATOR), "Idempotency-Key": "reg-1"}
    first = await practice.client.post("/v1/people", json=person("fsw.rivera", "worker"), headers=headers)
    second = await practice.client.post("/v1/people", json=person("fsw.rivera", "worker"), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true" and second.json() == first.json()
