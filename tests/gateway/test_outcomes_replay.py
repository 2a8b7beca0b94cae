"""The outcomes read model against the truth (issue 15 part 5), on PostgreSQL and NATS JetStream: the whole system
shares one stream; the demo family is seeded through the public API (its immediate plan activated) and SACWIS sends
seven fictional families with their reports and removals through the gateway's façade. The practice service's
outcome facts (histories, units, extract records) then equal a recount made straight from the network's and the
plans service's own databases — as the consumers left them, after a rebuild from the stream, and after every event
is applied once more."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from outcome_families import families
from sqlalchemy import select

from sop_gateway.demo import seed_demo_family
from sop_network.models import Case, CaseMember, CaseRemoval, CaseReport, MemberRole, Person, StaffAssignment
from sop_plans.models import SafetyPlan
from sop_practice.fidelity import rules as fidelity_rules
from sop_practice.fidelity.service import apply_event, rebuild
from sop_practice.outcomes import extract, rules
from sop_practice.outcomes.service import outcome_model
from sop_shared.events import Event, NatsJetStreamBus
from tests.gateway.conftest import EmbeddedSystem
from tests.gateway.test_fidelity_replay import nats_system as nats_system  # the same system on NATS


async def recount(system: EmbeddedSystem) -> dict[uuid.UUID, dict[str, Any]]:
    """Each case's outcome facts from the services' own records (not from any event)."""

    async def rows(service: str, query: Any) -> list[Any]:
        async with system.services[service].state.database.session() as session:
            return list((await session.execute(query)).all())

    cases = [c for (c,) in await rows("network", select(Case))]
    children: dict[uuid.UUID, dict[str, extract.Child]] = {}
    by_person: dict[uuid.UUID, str] = {}
    for member, person in await rows(
        "network", select(CaseMember, Person).join(Person).where(CaseMember.role == MemberRole.child)
    ):
        child = extract.Child(person.external_id or str(person.id), person.date_of_birth)
        children.setdefault(member.case_id, {})[child.external_id] = child
        by_person[person.id] = child.external_id
    reports = [r for (r,) in await rows("network", select(CaseReport)) if r.active]
    removals = [v for (v,) in await rows("network", select(CaseRemoval)) if v.active]
    assignments = [a for (a,) in await rows("network", select(StaffAssignment))]
    plans = [p for (p,) in await rows("plans", select(SafetyPlan)) if p.activated_at is not None]
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for c in cases:
        mine = sorted((r for r in reports if r.case_id == c.id), key=lambda r: r.external_id)
        taken = sorted((v for v in removals if v.case_id == c.id), key=lambda v: v.external_id)
        staff = sorted((a for a in assignments if a.case_id == c.id), key=lambda a: (a.created_at, a.id))

        def first(role: str, staff: list[StaffAssignment] = staff) -> str | None:
            return next((a.staff_subject for a in staff if a.active and a.role == role), None)

        spans = sorted((p for p in plans if p.case_id == c.id), key=lambda p: str(p.id))
        out[c.id] = {
            "history": rules.CaseHistory(
                c.id,
                c.opened_on,
                c.closed_on,
                tuple(rules.Report(r.received_on, r.screened_in) for r in mine),
                tuple(rules.Removal(v.removed_on, v.discharged_on, v.discharge_reason) for v in taken),
                tuple(
                    rules.PlanSpan(p.plan_type.value, p.activated_at.date(), p.ended_at.date() if p.ended_at else None)
                    for p in spans
                    if p.activated_at is not None
                ),
            ),
            "units": sorted({a.unit for a in staff if a.unit}),
            "extract": extract.CaseFacts(
                c.external_id,
                c.county,
                first("worker"),
                first("supervisor"),
                {k: children[c.id][k] for k in sorted(children.get(c.id, {}))},
                [
                    extract.ReportFacts(
                        r.external_id,
                        r.received_on,
                        r.screened_in,
                        r.investigation_started_on,
                        r.disposition,
                        r.disposition_on,
                        list(r.children),
                    )
                    for r in mine
                ],
                [
                    extract.RemovalFacts(
                        v.external_id,
                        by_person.get(v.person_id, v.child) if v.person_id else v.child,
                        v.removed_on,
                        v.discharged_on,
                        v.discharge_reason,
                    )
                    for v in taken
                ],
            ),
        }
    return out


async def model(system: EmbeddedSystem) -> dict[uuid.UUID, dict[str, Any]]:
    async with system.services["practice"].state.database.session() as session:
        return await outcome_model(session)


async def test_the_outcomes_read_model_equals_a_recount_from_the_network_and_plans_after_a_replay(
    nats_system: tuple[EmbeddedSystem, NatsJetStreamBus],
) -> None:
    system, bus = nats_system
    case_id = await seed_demo_family(system.gateway)
    loaded = await system.client.post(
        "/api/network/v1/sacwis/batch",
        json={"system": "CHRIS", "records": families()},
        headers=system.bearer("sacwis.sync"),
    )
    assert loaded.status_code == 200, loaded.text
    await system.events_delivered()
    truth = await recount(system)
    # the demo's plan was in force, the families have reports and removals: a recount of nothing proves nothing
    assert truth[case_id]["history"].plans
    assert sum(len(t["history"].reports) for t in truth.values()) >= 14
    assert sum(len(t["history"].removals) for t in truth.values()) >= 7
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for _ in range(240):  # the consumers run on their own: wait for them
        if (found := await model(system)) == truth:
            break
        await asyncio.sleep(0.25)
    assert found == truth
    # rebuilt from the stream (the fidelity rebuild: the same job): the same
    database = system.services["practice"].state.database
    result = await rebuild(database, bus)
    assert result.cases >= len(truth)
    assert await model(system) == truth
    # every event applied once more, by content (not stopped by the processed-event record): the same
    events: list[Event] = []

    async def collect(event: Event, position: int) -> None:
        events.append(event)

    await bus.replay(fidelity_rules.SUBJECTS, collect)
    for event in events:
        async with database.session() as session:
            await apply_event(session, event)
    assert await model(system) == truth
