"""Training in the practice service (issue 15, part 2), on SQLite and PostgreSQL: the course catalogue as data,
sessions with rosters and attendance, completions and certifications with expiry, a worker's record, a unit's
due and overdue list, and the batch roster load (idempotent; a wrong line names its field, nothing written)."""

from __future__ import annotations

from typing import Any

import pytest
from practice_steps import COORDINATOR, staff, team
from sqlalchemy import func, select

from sop_practice.models import platform
from sop_practice.training.models import Completion, RosterEntry, TrainingSession
from sop_shared.policy import ActorType
from sop_shared.testing import InternalTokens, RunningService

TOPICS = {
    "sop_foundations",
    "mapping",
    "harm_and_danger_statements",
    "safety_networks",
    "child_voice_tools",
    "sdm_instruments",
    "supervision",
}


def lms(tokens: InternalTokens) -> dict[str, str]:
    return tokens.headers(
        "practice",
        subject="lms.sync",
        actor_type=ActorType.integration,
        roles=(),
        scopes=("training:sync",),
        agency=None,
    )


def batch(**changes: Any) -> dict[str, Any]:
    session = {
        "external_id": "LMS-2026-114",
        "course_code": "SDM-301",
        "starts_at": "2026-03-02T14:00:00Z",
        "ends_at": "2026-03-02T22:00:00Z",
        "location": "Little Rock, MidSOUTH training room 2",
        "roster": [
            {"subject": "fsw.rivera", "attended": True, "completed": True},
            {"subject": "fsw.lindqvist", "attended": False},
        ],
    }
    return {"source": "state-lms", "sessions": [{**session, **changes}]}


async def count(practice: RunningService, table: Any) -> int:
    async with practice.app.state.database.session() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


@pytest.mark.sqlite_smoke
async def test_the_catalogue_holds_the_sop_courses(practice: RunningService, tokens: InternalTokens) -> None:
    courses = (await practice.client.get("/v1/courses", headers=staff(tokens, "fsw.rivera", "worker"))).json()
    assert {c["topic"] for c in courses} == TOPICS
    sdm = next(c for c in courses if c["topic"] == "sdm_instruments")
    assert sdm["certification_months"] == 24 and "worker" in sdm["required_for"]
    added = await practice.client.post(
        "/v1/courses",
        json={
            "code": "SOP-310",
            "title": "Appreciative inquiry",
            "topic": "supervision",
            "required_for": ["supervisor"],
            "due_within_days": 180,
        },
        headers=staff(tokens, *COORDINATOR),
    )
    assert added.status_code == 201, added.text
    unsaid = await practice.client.post(
        "/v1/courses",
        json={"code": "SOP-311", "title": "X", "topic": "mapping", "required_for": ["worker"]},
        headers=staff(tokens, *COORDINATOR),
    )
    assert unsaid.status_code == 422 and unsaid.json()["errors"][0]["field"] == "due_within_days"
    refused = await practice.client.post(
        "/v1/courses",
        json={"code": "SOP-312", "title": "X", "topic": "mapping"},
        headers=staff(tokens, "lead.park", "practice_lead"),
    )
    assert refused.status_code == 403


@pytest.mark.sqlite_smoke
async def test_a_session_roster_attendance_and_a_certification_make_the_workers_record(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens, fsw_rivera="2026-01-05", fsw_lindqvist="2026-11-01")
    await practice.client.post(
        "/v1/people",
        json={"subject": "trainer.moss", "name": "Avery Moss", "agency": "MidSOUTH", "roles": ["trainer"]},
        headers=staff(tokens, *COORDINATOR),
    )
    coordinator = staff(tokens, *COORDINATOR)
    scheduled = await practice.client.post(
        "/v1/training-sessions",
        json={
            "course_code": "SDM-301",
            "starts_at": "2026-03-02T14:00:00Z",
            "ends_at": "2026-03-02T22:00:00Z",
            "trainer_subject": "trainer.moss",
            "capacity": 20,
        },
        headers=coordinator,
    )
    assert scheduled.status_code == 201, scheduled.text
    session_id = scheduled.json()["id"]
    enrolled = await practice.client.post(
        f"/v1/training-sessions/{session_id}/roster",
        json={"subjects": ["fsw.rivera", "fsw.lindqvist"]},
        headers=coordinator,
    )
    assert [e["status"] for e in enrolled.json()["roster"]] == ["enrolled", "enrolled"]
    # another trainer may not record attendance; the session's trainer may
    sheet = {
        "entries": [
            {"subject": "fsw.rivera", "attended": True, "completed": True},
            {"subject": "fsw.lindqvist", "attended": False},
        ]
    }
    other = await practice.client.post(
        f"/v1/training-sessions/{session_id}/attendance", json=sheet, headers=staff(tokens, "trainer.other", "trainer")
    )
    assert other.status_code == 403
    recorded = await practice.client.post(
        f"/v1/training-sessions/{session_id}/attendance", json=sheet, headers=staff(tokens, "trainer.moss", "trainer")
    )
    assert recorded.status_code == 200, recorded.text
    assert {e["person_subject"]: (e["status"], e["completed"]) for e in recorded.json()["roster"]} == {
        "fsw.lindqvist": ("absent", False),
        "fsw.rivera": ("attended", True),
    }
    record = await practice.client.get(
        "/v1/people/fsw.rivera/training-record?as_of=2026-12-06", headers=staff(tokens, "fsw.rivera", "worker")
    )
    assert record.status_code == 200, record.text
    standings = {c["course_code"]: c for c in record.json()["courses"]}
    assert standings["SDM-301"]["status"] == "current" and standings["SDM-301"]["certified_until"] == "2028-03-02"
    assert standings["SOP-101"]["status"] == "overdue" and standings["SOP-101"]["due_on"] == "2026-04-05"
    assert "SUP-401" not in standings  # a supervisor's course, not required of a worker
    # the unit's due list, for its supervisor: Rivera overdue on the rest, Lindqvist due on everything
    due = await practice.client.get(
        "/v1/units/Pulaski-3/training-due?as_of=2026-12-06", headers=staff(tokens, "sup.okafor", "supervisor")
    )
    assert due.status_code == 200, due.text
    items = due.json()["items"]
    assert ("fsw.rivera", "SDM-301") not in {(i["subject"], i["course_code"]) for i in items}
    assert {i["status"] for i in items if i["subject"] == "fsw.lindqvist"} == {"due"}
    assert {i["status"] for i in items if i["subject"] == "fsw.rivera"} == {"overdue"}
    dated = [i["due_on"] for i in items if i["due_on"]]
    assert [i["due_on"] for i in items][: len(dated)] == sorted(dated)  # soonest first, undated last
    # ... and not for a worker, nor a supervisor of another unit
    assert (
        await practice.client.get("/v1/units/Pulaski-3/training-due", headers=staff(tokens, "fsw.rivera", "worker"))
    ).status_code == 403
    assert (
        await practice.client.get("/v1/units/Benton-1/training-due", headers=staff(tokens, "sup.okafor", "supervisor"))
    ).status_code == 403
    # a colleague reads nothing of Rivera's record
    assert (
        await practice.client.get(
            "/v1/people/fsw.rivera/training-record", headers=staff(tokens, "fsw.lindqvist", "worker")
        )
    ).status_code == 404
    async with practice.app.state.database.session() as session:
        subjects = [row.subject for row in await session.execute(select(platform.outbox.c.subject))]
        audited = {(r.resource, r.action) for r in await session.execute(select(platform.audit))}
    assert subjects.count("sop.practice.completion.recorded") == 1
    assert {"sop.practice.training_session.scheduled", "sop.practice.attendance.recorded"} <= set(subjects)
    assert {("roster_entry", "update"), ("training_record", "read"), ("unit_training", "read")} <= audited


async def test_the_batch_roster_load_is_idempotent(practice: RunningService, tokens: InternalTokens) -> None:
    await team(practice, tokens)
    first = await practice.client.post("/v1/training-rosters/batch", json=batch(), headers=lms(tokens))
    assert first.status_code == 200, first.text
    assert first.json() == {
        "sessions_created": 1,
        "sessions_updated": 0,
        "sessions_unchanged": 0,
        "roster_entries_created": 2,
        "roster_entries_updated": 0,
        "roster_entries_unchanged": 0,
        "completions_recorded": 1,
    }
    events = await count(practice, platform.outbox)
    again = await practice.client.post("/v1/training-rosters/batch", json=batch(), headers=lms(tokens))
    assert again.json() == {
        "sessions_created": 0,
        "sessions_updated": 0,
        "sessions_unchanged": 1,
        "roster_entries_created": 0,
        "roster_entries_updated": 0,
        "roster_entries_unchanged": 2,
        "completions_recorded": 0,
    }
    assert await count(practice, platform.outbox) == events  # nothing changed, nothing announced
    assert (
        await count(practice, TrainingSession),
        await count(practice, RosterEntry),
        await count(practice, Completion),
    ) == (1, 2, 1)
    moved = await practice.client.post("/v1/training-rosters/batch", json=batch(location="Online"), headers=lms(tokens))
    assert moved.json()["sessions_updated"] == 1


async def test_a_wrong_line_in_a_batch_names_its_field_and_nothing_is_written(
    practice: RunningService, tokens: InternalTokens
) -> None:
    await team(practice, tokens)
    wrong = batch(
        course_code="NOPE-1",
        roster=[
            {"subject": "fsw.rivera", "attended": True},
            {"subject": "nobody.here"},
            {"subject": "fsw.lindqvist", "completed": True},
        ],
    )
    answer = await practice.client.post("/v1/training-rosters/batch", json=wrong, headers=lms(tokens))
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in answer.json()["errors"]} == {
        "sessions.0.course_code",
        "sessions.0.roster.1.subject",
        "sessions.0.roster.2.completed",
    }
    backwards = await practice.client.post(
        "/v1/training-rosters/batch", json=batch(ends_at="2026-03-01T10:00:00Z"), headers=lms(tokens)
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "sessions.0.ends_at"
    assert (await count(practice, TrainingSession), await count(practice, RosterEntry)) == (0, 0)
    # only an integration with training:sync, or the coordinator, loads rosters
    sacwis = tokens.headers(
        "practice",
        subject="sacwis.sync",
        actor_type=ActorType.integration,
        roles=(),
        scopes=("cases:sync",),
        agency=None,
    )
    assert (await practice.client.post("/v1/training-rosters/batch", json=batch(), headers=sacwis)).status_code == 403
    assert (
        await practice.client.post("/v1/training-rosters/batch", json=batch(), headers=staff(tokens, *COORDINATOR))
    ).status_code == 200
