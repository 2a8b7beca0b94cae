"""The safety plans in force that the network service learns for its outcome measures (issue 15 part 5), on
PostgreSQL and NATS JetStream: the whole system shares one stream, the demo family is seeded through the public API
(its immediate plan activated), and the network's `plan_in_force` equals what the plans service's own database
says — as the consumers left it, and after every plan event is applied once more, by content."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from sop_gateway.demo import seed_demo_family
from sop_network.outcomes.models import PlanInForce
from sop_network.outcomes.service import PLAN_SUBJECTS, apply_plan_event
from sop_plans.models import SafetyPlan
from sop_shared.events import Event, NatsJetStreamBus
from tests.gateway.conftest import EmbeddedSystem
from tests.gateway.test_fidelity_replay import nats_system as nats_system  # the same system on NATS


async def _learnt(system: EmbeddedSystem) -> set[tuple[object, ...]]:
    async with system.services["network"].state.database.session() as session:
        rows = (await session.execute(select(PlanInForce))).scalars().all()
    return {(r.plan_id, r.case_id, r.plan_type, r.started_on, r.ended_on) for r in rows}


async def test_the_plans_in_force_the_network_learnt_equal_the_plans_services_own(
    nats_system: tuple[EmbeddedSystem, NatsJetStreamBus],
) -> None:
    system, bus = nats_system
    case_id = await seed_demo_family(system.gateway)
    await system.events_delivered()
    async with system.services["plans"].state.database.session() as session:
        plans = (await session.execute(select(SafetyPlan).where(SafetyPlan.case_id == case_id))).scalars().all()
    truth = {
        (p.id, p.case_id, p.plan_type.value, p.activated_at.date(), p.ended_at.date() if p.ended_at else None)
        for p in plans
        if p.activated_at is not None
    }
    assert truth  # the demo activates a plan: a comparison with nothing would prove nothing
    learnt: set[tuple[object, ...]] = set()
    for _ in range(100):  # the consumers run on their own: wait for them
        if (learnt := await _learnt(system)) == truth:
            break
        await asyncio.sleep(0.1)
    assert learnt == truth
    events: list[Event] = []

    async def collect(event: Event, position: int) -> None:
        events.append(event)

    await bus.replay(PLAN_SUBJECTS, collect)
    assert events
    for event in events:
        async with system.services["network"].state.database.session() as session:
            await apply_plan_event(session, event)
    assert await _learnt(system) == truth
