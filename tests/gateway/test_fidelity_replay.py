"""The fidelity read model against the truth (issue 15 part 4), on PostgreSQL and NATS JetStream: the whole
system (network, assessment, plans, practice and the gateway) shares one JetStream stream; the demo family is
seeded through the public API; the practice service's consumers fold the events. Then the read model equals a
recount made straight from the services' own databases — as the consumers left it, after a rebuild from the
stream, and after every event is applied once more."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import real_services
from sqlalchemy import select

from sop_assessment.child_voice.models import ChildVoiceRecord
from sop_assessment.goals.models import SafetyGoal
from sop_assessment.maps.models import AssessmentMap
from sop_assessment.models import Statement
from sop_assessment.ratings.models import ScaleRating
from sop_assessment.sdm.models import SdmAssessment
from sop_assessment.translations.models import Translation as AssessmentTranslation
from sop_gateway.demo import seed_demo_family
from sop_network.models import Case, CaseMember, NetworkMember, Person, StaffAssignment
from sop_plans.models import SafetyPlan, SafetyPlanSignature
from sop_plans.models import Translation as PlanTranslation
from sop_practice.fidelity import rules
from sop_practice.fidelity.service import apply_event, read_model, rebuild
from sop_shared.events import Event, NatsJetStreamBus
from tests.gateway.conftest import COMPONENTS, EmbeddedSystem, embedded_system


@pytest.fixture
async def nats_system(
    postgres_admin_url: str, nats_url: str, tmp_path: Path, database_templates: real_services.MigratedTemplates
) -> AsyncIterator[tuple[EmbeddedSystem, NatsJetStreamBus]]:
    made = [await real_services.create_test_database(postgres_admin_url, prefix=f"fid_{name}") for name in COMPONENTS]
    urls = {name: db.url for name, db in zip(COMPONENTS, made, strict=True)}
    bus = await NatsJetStreamBus(
        nats_url, stream=real_services.unique_name("FID").upper(), namespace=real_services.unique_name("fid")
    ).connect()
    try:
        async with embedded_system(tmp_path / "data", urls, migrate=database_templates.migrate, bus=bus) as system:
            yield system, bus
    finally:
        await bus.close()
        for db in made:
            await real_services.drop_database(postgres_admin_url, db.name)


async def recount(system: EmbeddedSystem) -> dict[uuid.UUID, dict[str, Any]]:
    """Each case's counts from the services' databases, by their own records (not from any event)."""
    cases: dict[uuid.UUID, dict[str, Any]] = defaultdict(dict)

    async def rows(service: str, query: Any) -> list[Any]:
        async with system.services[service].state.database.session() as session:
            return list((await session.execute(query)).all())

    for (case,) in await rows("network", select(Case)):
        cases[case.id].update(county=case.county, opened_on=case.opened_on)
    # the case's worker: of its active worker assignments, the first by subject (as the case event lists them)
    assignments = [a for (a,) in await rows("network", select(StaffAssignment)) if a.active and a.role == "worker"]
    for a in sorted(assignments, key=lambda a: a.staff_subject, reverse=True):
        cases[a.case_id].update(worker=a.staff_subject, unit=a.unit)
    members = [(m, p) for m, p in await rows("network", select(CaseMember, Person).join(Person))]
    for member, person in members:
        case_id, language = member.case_id, person.preferred_language
        if str(language).lower().split("-")[0] != "en":
            cases[case_id]["needs_translation"] = True
    for (m,) in await rows("network", select(NetworkMember)):
        if m.active_to is None:
            c = cases[m.case_id]
            c["network_size"] = c.get("network_size", 0) + 1
            c["network_heard"] = c.get("network_heard", 0) + (m.seen_danger_statements_on is not None)
    for (m,) in await rows("assessment", select(AssessmentMap)):
        cases[m.case_id]["has_map"] = True
    for (s,) in await rows("assessment", select(Statement)):
        if s.kind == "danger" and s.status != "withdrawn":
            first = cases[s.case_id].get("first_danger")
            day = s.created_at.date()
            cases[s.case_id]["first_danger"] = min(first, day) if first else day
    for (g,) in await rows("assessment", select(SafetyGoal)):
        if g.status != "withdrawn":
            cases[g.case_id]["has_safety_goal"] = True
    views: dict[uuid.UUID, set[str]] = defaultdict(set)
    for (r,) in await rows("assessment", select(ScaleRating)):
        if r.withdrawn_at is None:
            views[r.case_id].add(rules.PERSPECTIVE[r.rater_role.value])
    for case_id, seen in views.items():
        cases[case_id]["two_perspectives"] = len(seen) >= 2 and bool(seen - {"staff"})
    for (v,) in await rows("assessment", select(ChildVoiceRecord)):
        cases[v.case_id]["child_voice"] = True
    for (a,) in await rows("assessment", select(SdmAssessment)):
        if a.completed_at is not None:
            on_time = rules.sdm_on_time({k: d.get("due") for k, d in a.due.items()}, a.completed_at.isoformat())
            if on_time is not None:
                c = cases[a.case_id]
                c["sdm_completed"] = c.get("sdm_completed", 0) + 1
                c["sdm_on_time"] = c.get("sdm_on_time", 0) + on_time
    for model in (Statement, SafetyGoal, AssessmentMap):
        for (record,) in await rows("assessment", select(model)):
            if record.shared_at is not None:
                c = cases[record.case_id]
                c["shared_texts"] = c.get("shared_texts", 0) + 1
                c["shared_plain"] = c.get("shared_plain", 0) + (record.share_reason is None)
    for service, model in (("assessment", AssessmentTranslation), ("plans", PlanTranslation)):
        for (t,) in await rows(service, select(model)):
            if t.verified:
                cases[t.case_id]["translation_verified"] = True
    plans = {p.id: p.case_id for (p,) in await rows("plans", select(SafetyPlan))}
    for case_id in plans.values():
        cases[case_id]["has_plan"] = True
    for (s,) in await rows("plans", select(SafetyPlanSignature)):
        if s.signer_role == "caregiver" and s.decision == "signed":
            cases[plans[s.plan_id]]["caregiver_signed"] = True
    empty = asdict(rules.derive({}))
    out = {}
    for case_id, found in cases.items():
        first, opened = found.pop("first_danger", None), found.get("opened_on")
        out[case_id] = {**empty, **found, "danger_days": (first - opened).days if first and opened else None}
    return out


async def caught_up(
    system: EmbeddedSystem, expected: dict[uuid.UUID, dict[str, Any]], timeout: float = 60
) -> dict[uuid.UUID, dict[str, Any]]:
    """The read model once the consumers have folded what the relays published (or as it is at the timeout)."""
    practice = system.services["practice"]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with practice.state.database.session() as session:
            model = await read_model(session)
        if model == expected or asyncio.get_running_loop().time() > deadline:
            return model
        await asyncio.sleep(0.25)


async def test_the_read_model_equals_a_recount_from_the_services_databases_after_a_replay(
    nats_system: tuple[EmbeddedSystem, NatsJetStreamBus],
) -> None:
    system, bus = nats_system
    case_id = await seed_demo_family(system.gateway)
    await system.events_delivered()
    truth = await recount(system)
    demo = truth[case_id]
    # the demo family exercises the measures (a recount of nothing would prove nothing)
    assert demo["has_map"] and demo["danger_days"] is not None and demo["has_safety_goal"]
    assert demo["network_size"] > 0 and demo["has_plan"] and demo["shared_texts"] > 0
    assert demo["needs_translation"]
    # as the consumers left it
    assert await caught_up(system, truth) == truth
    practice = system.services["practice"]
    database = practice.state.database
    # rebuilt from the stream: the same
    result = await rebuild(database, bus)
    assert result.cases == len(truth) and result.events > 0
    async with database.session() as session:
        assert await read_model(session) == truth
    # every event applied once more, by content (not stopped by the processed-event record): the same
    events: list[Event] = []

    async def collect(event: Event, position: int) -> None:
        events.append(event)

    await bus.replay(rules.SUBJECTS, collect)
    assert len(events) == result.events
    for event in events:
        async with database.session() as session:
            await apply_event(session, event)
    async with database.session() as session:
        assert await read_model(session) == truth


@pytest.mark.sqlite_smoke  # embedded mode's own database
async def test_an_embedded_system_rebuilds_the_read_model_from_its_outboxes_however_old_the_events(
    system: EmbeddedSystem,
) -> None:
    """The in-process bus keeps only its last events in memory; the components' outboxes keep every event they
    published, and a replay reads them (in the order they were published), so a rebuild long after start-up
    (here: with the bus's memory emptied) still equals the recount. Without the outboxes it is refused."""
    from sop_shared.events import HistoryLost, InProcessBus

    case_id = await seed_demo_family(system.gateway)
    await system.events_delivered()
    truth = await recount(system)
    assert truth[case_id]["has_map"] and truth[case_id]["network_size"] > 0
    practice = system.services["practice"]
    database, bus = practice.state.database, practice.state.bus
    assert isinstance(bus, InProcessBus)
    assert set(bus.archives) == {"network", "assessment", "plans", "practice"}
    bus.published.clear()  # every event has left the bus's memory, as after a long day of work
    bus.published_times.clear()
    result = await rebuild(database, bus)
    assert result.cases == len(truth) and result.events > 0
    async with database.session() as session:
        assert await read_model(session) == truth
    archives = dict(bus.archives)
    bus.archives.clear()
    try:
        with pytest.raises(HistoryLost):
            await rebuild(database, bus)
    finally:
        bus.archives.update(archives)
