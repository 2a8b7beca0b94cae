"""The fidelity read model in the practice service (issue 15 parts 4 and 7), on SQLite and PostgreSQL: fed by
the other services' events through the service's own consumers, idempotent by event id and content, answering
counts and rates per unit, county, worker and period with small cells suppressed, read only by whom the policy
table allows, audited, and rebuilt from the stream as a job whose progress can be read."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date
from typing import Any

import pytest
from fidelity_events import case_events
from practice_steps import COORDINATOR, person, register, staff, team
from sqlalchemy import select

from sop_practice.fidelity.service import read_model
from sop_practice.models import platform
from sop_shared.events import Event
from sop_shared.testing import InternalTokens, RunningService

SUPERVISOR = ("sup.okafor", "supervisor")
LEAD = ("lead.park", "practice_lead")


def measures(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["key"]: m for m in body["measures"]}


async def publish(practice: RunningService, events: list[Event]) -> None:
    for e in events:
        await practice.bus.publish(e)  # the in-process bus runs the service's consumers in the publish


def unit_cases(
    count: int, *, full: bool, worker: str = "fsw.rivera", unit: str | None = "Pulaski-3", seed: int = 1
) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for n in range(count):
        events += case_events(
            uuid.UUID(int=rng.getrandbits(128)),
            rng,
            county="Pulaski",
            unit=unit,
            worker=worker,
            opened_on=date(2026, 10, 1 + n),
            full=full,
        )
    return events


@pytest.mark.sqlite_smoke
async def test_the_measures_of_a_unit_from_events_applied_once_however_often_they_arrive(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    events = unit_cases(6, full=True)
    await publish(practice, events)
    supervisor = staff(tokens, *SUPERVISOR)
    answer = await practice.client.get(
        "/v1/fidelity", params={"unit": "Pulaski-3", "period": "2026-Q4"}, headers=supervisor
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["cases"] == 6 and body["network_size"] == 3.0
    found = measures(body)
    for key in ("cases_with_map", "danger_statements_on_time", "cases_with_safety_goal", "scale_two_perspectives"):
        assert (found[key]["numerator"], found[key]["denominator"], found[key]["rate"]) == (6, 6, 1.0), key
    assert (
        found["network_heard_danger_statements"]["numerator"],
        found["network_heard_danger_statements"]["denominator"],
    ) == (18, 18)
    assert found["sdm_on_time"]["rate"] == 1.0 and found["plain_language_pass"]["rate"] == 1.0
    # every event again (a redelivery, a relay re-publishing after a crash): nothing changes
    async with practice.app.state.database.session() as session:
        before = await read_model(session)
    await publish(practice, events)
    async with practice.app.state.database.session() as session:
        assert await read_model(session) == before
    again = await practice.client.get(
        "/v1/fidelity", params={"unit": "Pulaski-3", "period": "2026-Q4"}, headers=supervisor
    )
    assert again.json() == body
    # another period holds none of these cases
    empty = await practice.client.get(
        "/v1/fidelity", params={"unit": "Pulaski-3", "period": "2026-01"}, headers=supervisor
    )
    assert empty.json()["cases"] is None and all(m["suppressed"] for m in empty.json()["measures"])
    async with practice.app.state.database.session() as session:
        audited = [(r.resource, r.action) for r in await session.execute(select(platform.audit))]
    assert audited.count(("fidelity", "read")) == 3


async def test_small_cells_are_suppressed_and_the_registry_places_a_worker_sacwis_left_without_a_unit(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    # seven cases, none with a unit from SACWIS: the registry has fsw.rivera in Pulaski-3
    events = unit_cases(7, full=True, unit=None)
    case_ids = sorted({e.case_id for e in events if e.case_id is not None})
    # two of them also lose their child's voice record: 5 of 7 have it, 2 do not (a small cell)
    dropped = {case_ids[0], case_ids[1]}
    events = [e for e in events if not (e.subject.endswith("child_voice.created") and e.case_id in dropped)]
    await publish(practice, events)
    lead = staff(tokens, *LEAD)
    body = (await practice.client.get("/v1/fidelity", params={"unit": "Pulaski-3"}, headers=lead)).json()
    assert body["cases"] == 7
    found = measures(body)
    assert found["cases_with_map"]["numerator"] == 7
    voice = found["child_voice_recorded"]
    assert voice["suppressed"] and (voice["numerator"], voice["denominator"], voice["rate"]) == (None, None, None)
    # a county of seven shows; one worker of another county with two cases shows nothing at all
    await publish(practice, unit_cases(2, full=True, worker="fsw.other", unit="Benton-1", seed=2))
    other = (await practice.client.get("/v1/fidelity", params={"worker": "fsw.other"}, headers=lead)).json()
    assert other["cases"] is None and all(m["suppressed"] for m in other["measures"])
    assert other["network_size"] is None


async def test_who_may_read_which_measures(practice: RunningService, tokens: InternalTokens) -> None:
    await team(practice, tokens)
    await register(practice, tokens, person("sup.benton", "supervisor", unit="Benton-1"))
    coordinator = staff(tokens, *COORDINATOR)
    assert (
        await practice.client.post("/v1/coaches/coach.tran/caseload", json={"unit": "Pulaski-3"}, headers=coordinator)
    ).status_code == 201
    await publish(practice, unit_cases(5, full=True))

    async def status(who: tuple[str, ...], **params: str) -> int:
        return (await practice.client.get("/v1/fidelity", params=params, headers=staff(tokens, *who))).status_code

    # supervisors: their own unit and its workers, never another unit, a county or the state
    assert await status(SUPERVISOR, unit="Pulaski-3", period="2026") == 200
    assert await status(SUPERVISOR, worker="fsw.rivera") == 200
    assert await status(SUPERVISOR, unit="Benton-1") == 403
    assert await status(SUPERVISOR, worker="fsw.other") == 403
    assert await status(SUPERVISOR, county="Pulaski") == 403
    assert await status(SUPERVISOR) == 403
    assert await status(("sup.benton", "supervisor"), unit="Pulaski-3") == 403
    # a coach: the units and workers on their caseload
    assert await status(("coach.tran", "coach"), unit="Pulaski-3") == 200
    assert await status(("coach.tran", "coach"), worker="fsw.lindqvist") == 200
    assert await status(("coach.tran", "coach"), unit="Benton-1") == 403
    assert await status(("coach.other", "coach"), unit="Pulaski-3") == 403
    # practice leads and the coordinator: any scope, the state included
    assert await status(LEAD, county="Pulaski") == 200 and await status(LEAD) == 200
    assert await status(COORDINATOR, county="Pulaski", period="2026-Q4") == 200
    # a worker, a trainer: no
    assert await status(("fsw.rivera", "worker"), worker="fsw.rivera") == 403
    assert await status(("trainer.moss", "trainer"), unit="Pulaski-3") == 403
    # bad input names the field
    bad = await practice.client.get("/v1/fidelity", params={"period": "2026-Q5"}, headers=staff(tokens, *LEAD))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period"
    unknown = await practice.client.get("/v1/fidelity", params={"team": "x"}, headers=staff(tokens, *LEAD))
    assert unknown.status_code == 400  # unknown query parameters are refused (api.md)


@pytest.mark.sqlite_smoke
async def test_a_rebuild_from_the_stream_is_a_job_whose_progress_can_be_read(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    events = unit_cases(6, full=False, seed=4)
    await publish(practice, events)
    async with practice.app.state.database.session() as session:
        before = await read_model(session)
    lead = staff(tokens, *LEAD)
    assert (await practice.client.post("/v1/fidelity/rebuilds", headers=staff(tokens, *SUPERVISOR))).status_code == 403
    started = await practice.client.post("/v1/fidelity/rebuilds", headers=lead)
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    job: dict[str, Any] = started.json()
    for _ in range(200):
        job = (await practice.client.get(location, headers=lead)).json()
        if job["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "succeeded", job
    assert job["events_applied"] == len(events) and job["cases"] == 6
    assert job["events_read"] == job["events_total"] >= len(events)
    async with practice.app.state.database.session() as session:
        assert await read_model(session) == before
    missing = await practice.client.get(f"/v1/fidelity/rebuilds/{uuid.uuid4()}", headers=lead)
    assert missing.status_code == 404
