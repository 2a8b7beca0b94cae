"""A coaching referral's consultation snapshot comes from the consultation itself (issue 15): the worker brings a
consultation at the assessment service, which checks the case and that they may read it and sends its snapshot in
an event; the practice service attaches it to the referral when the bringer is the referral's worker or their
supervisor, and keeps a refusal in the referral's history otherwise. A coach reads it without identifying details.
Both services on PostgreSQL, each with its own database, on one bus: in-process (as in `sop dev`) or NATS."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import nats
import pytest
from practice_steps import COORDINATOR, staff, team
from real_services import MigratedTemplates
from sqlalchemy import select

from sop_assessment.component import component as assessment_component
from sop_assessment.models import platform as assessment_platform
from sop_practice.component import component as practice_component
from sop_shared.events import Event, EventBus, InProcessBus, connect_bus
from sop_shared.ids import new_id
from sop_shared.policy import IDENTIFYING_FIELDS, ActorType
from sop_shared.testing import InternalTokens, RunningService, run_component

BROUGHT = "sop.assessment.consultation.brought_to_coaching"

# Fictional: a consultation about the Lopez family.
CONSULTATION = {
    "consultation_type": "case_consultation",
    "held_on": "2026-11-20",
    "facilitator": "Grace Okafor",
    "participants": [
        {"name": "Dana Rivera", "role": "worker", "rating": 4, "rationale": "nights are still risky"},
        {"name": "Maria Lopez", "role": "caregiver", "rating": 6},
    ],
    "presenting_question": "Is Rosa's help enough for the weekends?",
    "decisions": ["Ask Rosa to join the next family meeting"],
}


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        yield InProcessBus()
        return
    url = request.getfixturevalue("nats_url")
    name = f"brought_{uuid.uuid4().hex[:12]}"
    shared = await connect_bus(url, stream=name.upper(), namespace=name)
    try:
        yield shared
    finally:
        await shared.close()
        connection = await nats.connect(url)
        with contextlib.suppress(Exception):
            await connection.jetstream().delete_stream(name.upper())
        await connection.close()


@pytest.fixture
async def both(
    tmp_path: Path,
    tokens: InternalTokens,
    postgres_admin_url: str,
    database_templates: MigratedTemplates,
    bus: EventBus,
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    """The assessment and the practice service, each on a PostgreSQL database of its own, on `bus`."""
    databases = [
        await database_templates.create_copy(postgres_admin_url, c.package)
        for c in (assessment_component, practice_component)
    ]
    for name in ("practice", "assessment"):
        (tmp_path / name).mkdir()
    try:
        async with (
            run_component(
                assessment_component,
                database_url=databases[0].url,
                tokens=tokens,
                data_dir=tmp_path / "assessment",
                bus=bus,
                migrate=database_templates.migrate,
            ) as assessment,
            run_component(
                practice_component,
                database_url=databases[1].url,
                tokens=tokens,
                data_dir=tmp_path / "practice",
                bus=bus,
                migrate=database_templates.migrate,
            ) as practice,
        ):
            yield assessment, practice
    finally:
        for db in databases:
            await database_templates.give_back(db)


def at_assessment(tokens: InternalTokens, subject: str, case_id: uuid.UUID, *roles: str) -> dict[str, str]:
    return tokens.headers("assessment", subject=subject, roles=roles or ("worker",), case_id=case_id)


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 8.0) -> Any:
    for _ in range(int(seconds / 0.05)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("not seen in time")


def identifying_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {k for k in value if k in IDENTIFYING_FIELDS} | {k for v in value.values() for k in identifying_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in identifying_keys(v)}
    return set()


async def test_a_consultation_brought_to_coaching_reaches_the_referral_once_and_the_coach_reads_it_deidentified(
    both: tuple[RunningService, RunningService], tokens: InternalTokens
) -> None:
    assessment, practice = both
    lopez, other_case = new_id(), new_id()
    rivera = at_assessment(tokens, "fsw.rivera", lopez)
    made = await assessment.client.post(f"/v1/cases/{lopez}/consultations", json=CONSULTATION, headers=rivera)
    assert made.status_code == 201, made.text
    consultation = made.json()
    staff_read = (await assessment.client.get(f"/v1/consultations/{consultation['id']}", headers=rivera)).json()

    await team(practice, tokens)
    okafor = staff(tokens, "sup.okafor", "supervisor")
    # A referral that names the consultation it waits for takes no pasted snapshot beside it.
    waiting = {"worker_subject": "fsw.rivera", "topic": "Danger statements", "consultation_id": consultation["id"]}
    pasted = await practice.client.post(
        "/v1/coaching-referrals", json={**waiting, "consultation_snapshot": {"anything": "at all"}}, headers=okafor
    )
    assert pasted.status_code == 422, pasted.text
    assert [e["field"] for e in pasted.json()["errors"]] == ["consultation_snapshot"]
    referral = await practice.client.post("/v1/coaching-referrals", json=waiting, headers=okafor)
    assert referral.status_code == 201, referral.text
    assert (referral.json()["snapshot_source"], referral.json()["consultation_snapshot"]) == (None, None)
    referral_id = referral.json()["id"]
    url = f"/v1/coaching-referrals/{referral_id}"

    # The worker brings it (a key makes a retry safe: the same answer, one event).
    bring = f"/v1/cases/{lopez}/consultations/{consultation['id']}/coaching"
    keyed = {**rivera, "Idempotency-Key": "bring-1"}
    sent = await assessment.client.post(bring, json={"referral_id": referral_id}, headers=keyed)
    assert sent.status_code == 202, sent.text
    again = await assessment.client.post(bring, json={"referral_id": referral_id}, headers=keyed)
    assert again.status_code == 202 and again.json() == sent.json()
    assert (sent.json()["consultation_id"], sent.json()["brought_by"]) == (consultation["id"], "fsw.rivera")

    async def attached() -> dict[str, Any] | None:
        read = (await practice.client.get(url, headers=okafor)).json()
        return read if read["snapshot_source"] == "consultation" else None

    read = await eventually(attached)
    # The worker's side reads it whole: what staff read of the consultation, with where it came from.
    assert read["consultation_snapshot"] == staff_read
    assert (read["consultation_id"], read["consultation_brought_by"]) == (consultation["id"], "fsw.rivera")
    assert read["history"][-1]["action"] == "consultation_brought" and read["version"] == 2

    # Applied twice (the same event again, and the same content under another id): nothing changes.
    async with assessment.app.state.database.session() as session:
        rows = (
            await session.execute(
                select(assessment_platform.outbox).where(assessment_platform.outbox.c.subject == BROUGHT)
            )
        ).all()
    assert len(rows) == 1  # the keyed retry wrote no second event
    [row] = rows
    event = Event(id=row.id, subject=row.subject, occurred_at=row.occurred_at, data=row.payload, case_id=row.case_id)
    await practice.bus.publish(event)
    await practice.bus.publish(Event(id=new_id(), subject=BROUGHT, occurred_at=row.occurred_at, data=row.payload))
    await asyncio.sleep(0.5)
    still = (await practice.client.get(url, headers=okafor)).json()
    assert (still["version"], still["history"]) == (read["version"], read["history"])

    # The coach reads it without identifying details (names, the case's id), the rest as it was discussed.
    coordinator = staff(tokens, *COORDINATOR)
    routed = await practice.client.post(
        f"{url}/assign", json={"coach_subject": "coach.tran"}, headers={**coordinator, "If-Match": '"2"'}
    )
    assert routed.status_code == 200, routed.text
    seen = (await practice.client.get(url, headers=staff(tokens, "coach.tran", "coach"))).json()
    snapshot = seen["consultation_snapshot"]
    assert identifying_keys(snapshot) == set() and identifying_keys(staff_read) >= {"name", "case_id"}
    assert snapshot["presenting_question"] == CONSULTATION["presenting_question"]
    assert "Maria Lopez" not in str(snapshot) and str(lopez) not in str(snapshot)
    assert seen["snapshot_source"] == "consultation"

    # The case boundary: this consultation is not another case's, whatever the token may read.
    elsewhere = await assessment.client.post(
        f"/v1/cases/{other_case}/consultations/{consultation['id']}/coaching",
        json={"referral_id": referral_id},
        headers=at_assessment(tokens, "fsw.rivera", other_case),
    )
    missing = await assessment.client.post(
        f"/v1/cases/{other_case}/consultations/{new_id()}/coaching",
        json={"referral_id": referral_id},
        headers=at_assessment(tokens, "fsw.rivera", other_case),
    )
    assert elsewhere.status_code == missing.status_code == 404
    assert elsewhere.json()["title"] == missing.json()["title"]

    # A family member of the case finds no such route (as for the consultation itself), and the try is audited.
    maria = tokens.headers(
        "assessment", subject="family.maria", actor_type=ActorType.family, roles=(), scopes=["case:read"], case_id=lopez
    )
    refused = await assessment.client.post(bring, json={"referral_id": referral_id}, headers=maria)
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("application/problem+json")
    async with assessment.app.state.database.session() as session:
        denied = (
            await session.execute(
                select(assessment_platform.audit).where(
                    assessment_platform.audit.c.action == "denied",
                    assessment_platform.audit.c.actor_subject == "family.maria",
                )
            )
        ).all()
    assert [r.resource for r in denied] == ["section:supervision"]

    # Someone who may read the consultation but is neither the worker nor her supervisor: not attached, the
    # refusal kept in the referral's history.
    lindqvist = at_assessment(tokens, "fsw.lindqvist", lopez)
    other = await assessment.client.post(bring, json={"referral_id": referral_id}, headers=lindqvist)
    assert other.status_code == 202, other.text

    async def refusal() -> dict[str, Any] | None:
        read = (await practice.client.get(url, headers=okafor)).json()
        return read if read["history"][-1]["action"] == "consultation_refused" else None

    kept = await eventually(refusal)
    assert kept["history"][-1]["by"] == "fsw.lindqvist" and "neither" in kept["history"][-1]["why"]
    assert (kept["consultation_brought_by"], kept["version"]) == ("fsw.rivera", seen["version"])


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "referral_id"), ({"referral_id": "not-an-id"}, "referral_id"), ({"referral_id": None}, "referral_id")],
)
async def test_bringing_a_consultation_with_a_bad_body_is_422_naming_the_field_and_announces_nothing(
    both: tuple[RunningService, RunningService], tokens: InternalTokens, body: dict[str, Any], field: str
) -> None:
    assessment, _ = both
    lopez = new_id()
    rivera = at_assessment(tokens, "fsw.rivera", lopez)
    made = await assessment.client.post(f"/v1/cases/{lopez}/consultations", json=CONSULTATION, headers=rivera)
    assert made.status_code == 201, made.text
    outbox = assessment_platform.outbox

    async def announced() -> list[str]:
        async with assessment.app.state.database.session() as s:
            return list((await s.execute(select(outbox.c.subject))).scalars())

    before = await announced()
    bring = f"/v1/cases/{lopez}/consultations/{made.json()['id']}/coaching"
    refused = await assessment.client.post(bring, json=body, headers=rivera)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in refused.json()["errors"]]
    after = await announced()
    assert sorted(after) == sorted(before)  # nothing announced, nothing to attach
