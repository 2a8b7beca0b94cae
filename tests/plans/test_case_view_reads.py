"""The plans part of the case view read in a handful of statements: the same answer as the reads it replaced
(kept here as the reference: `reference_view`, composed from the service's helpers as `read_case_view` did) for
a populated fictional case and every audience (staff, supervisor, the family in Spanish, the network, a court),
on SQLite and PostgreSQL; and what the read costs in statements."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import case, event, select
from sqlmodel import col

from sop_plans.alerts.service import alerts_for
from sop_plans.case_view.rules import (
    ENDED,
    alerts_for_audience,
    plan_for_audience,
    plan_to_show,
    shared_with,
    version_for,
    version_shown,
)
from sop_plans.case_view.schemas import PlansCaseView
from sop_plans.case_view.service import NEWEST_PLANS, NEXT_STEPS, OPEN_PLANS, CaseViewParts, add_translations
from sop_plans.models import NextStep, SafetyDecision, SafetyPlan, platform
from sop_plans.next_steps.service import OPEN_STATUSES, next_step_out
from sop_plans.safety_plans.service import (
    RECENT_CHECK_INS,
    case_plans_with_current_version,
    get_version,
    load_extras,
    plan_out,
)
from sop_plans.translations.service import TRANSLATIONS
from sop_shared.auth import Principal
from sop_shared.clock import FixedClock
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.policy import ActorType, Audience
from sop_shared.testing import InternalTokens, RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow


async def reference_view(plans: RunningService, principal: Principal, audience: Audience) -> Any:
    """The view as `read_case_view` and the route composed it before it was read in one statement."""
    case_id = principal.case_id
    assert case_id is not None
    now, policy = plans.app.state.clock.now(), plans.app.state.plan_policy
    async with plans.app.state.database.session() as session:
        alerts = await alerts_for(session, now=now, policy=policy, case_id=case_id)
        newest = (
            await session.execute(
                case_plans_with_current_version(case_id).order_by(col(SafetyPlan.id).desc()).limit(NEWEST_PLANS)
            )
        ).all()
        open_plans = (
            (
                await session.execute(
                    select(SafetyPlan)
                    .where(col(SafetyPlan.case_id) == case_id, col(SafetyPlan.status).not_in(ENDED))
                    .order_by(col(SafetyPlan.id).desc())
                    .limit(OPEN_PLANS)
                )
            )
            .scalars()
            .all()
        )
        shown_plans = [(p, v) for p, v in newest if shared_with(p, audience)]
        chosen = plan_to_show(p for p in open_plans if shared_with(p, audience))
        shown = None
        if chosen is not None:
            number = version_shown(chosen)
            shown = next(
                (v for p, v in shown_plans if p.id == chosen.id and v.number == number), None
            ) or await get_version(session, chosen.id, number)
        by_id = {p.id: p for p, _ in shown_plans}
        if chosen is not None:
            by_id[chosen.id] = chosen
        extras = await load_extras(session, list(by_id.values()), check_ins=RECENT_CHECK_INS)
        steps = (
            (
                await session.execute(
                    select(NextStep)
                    .where(col(NextStep.case_id) == case_id)
                    .order_by(
                        case((col(NextStep.status).in_(OPEN_STATUSES), 0), else_=1),
                        col(NextStep.due_on),
                        col(NextStep.id),
                    )
                    .limit(NEXT_STEPS)
                )
            )
            .scalars()
            .all()
        )
        listed = []
        for p, v in shown_plans:
            number = version_for(p, audience)
            version = v if number == v.number else (await get_version(session, p.id, number) or v)
            listed.append(plan_out(p, version, extras, now=now, policy=policy))
        parts = CaseViewParts(
            safety_plan=plan_out(chosen, shown, extras, now=now, policy=policy) if chosen and shown else None,
            plans=listed,
            next_steps=[next_step_out(s, now.date()) for s in steps],
            alerts=alerts,
        )
        add_translations(parts, await TRANSLATIONS.of_case(session, case_id))
        await session.rollback()  # the reference writes nothing (the view's own read expired what was due)
    sharing, person = principal.network_sharing, principal.person_id
    return PlansCaseView(
        case_id=case_id,
        audience=audience,
        safety_plan=plan_for_audience(parts.safety_plan, audience, person, sharing) if parts.safety_plan else None,
        plans=[plan_for_audience(p, audience, person, sharing) for p in parts.plans],
        next_steps=parts.next_steps,
        alerts=alerts_for_audience(parts.alerts, audience),
    ).model_dump(mode="json")


@pytest.fixture
async def populated(
    flow: PlanFlow, tokens: InternalTokens, lopez_ongoing_plan: dict[str, Any]
) -> dict[str, tuple[dict[str, str], Audience]]:
    return await populate(flow, tokens, lopez_ongoing_plan)


async def populate(
    flow: PlanFlow, tokens: InternalTokens, lopez_ongoing_plan: dict[str, Any]
) -> dict[str, tuple[dict[str, str], Audience]]:
    """(Also `tests/perf/view_reads.py`'s case.) The Lopez case with a plan in force being edited (version 2), a
    submitted draft, an older draft, check-ins (one rule broken), next steps (one overdue, one done), and a
    verified Spanish translation of a rule."""
    active = await flow.active_plan(lopez_ongoing_plan)
    rules = [{k: v for k, v in r.items() if k != "plain_language"} for r in active["rules"]]
    rules[0]["text"] = "When Maria has been drinking, Rosa takes the children to her house until Maria is sober."
    await flow.call(
        "PATCH",
        f"/v1/safety-plans/{active['id']}",
        json={"change_note": "Until sober", "rules": rules},
        headers={**flow.worker, "If-Match": f'"{active["version"]}"'},
    )
    await flow.create({**lopez_ongoing_plan, "title": "An older draft"})
    submitted = await flow.create({**lopez_ongoing_plan, "danger_statement_ids": [], "title": "Submitted draft"})
    await flow.submit(submitted["id"])
    for kept in (True, False):
        await flow.call(
            "POST",
            f"/v1/safety-plans/{active['id']}/check-ins",
            json={"rule_id": active["rules"][0]["id"], "reported_by": {"name": "Rosa Delgado"}, "kept": kept},
            expect=201,
        )
    for action, due_on in (("Maria calls the AA sponsor", "2026-10-01"), ("Rosa starts the drive log", "2027-01-05")):
        await flow.call(
            "POST",
            f"/v1/cases/{flow.case_id}/next-steps",
            expect=201,
            json={"action": action, "owner": {"name": "Maria Lopez"}, "owner_kind": "family", "due_on": due_on},
        )
    made = await flow.call(
        "POST",
        f"/v1/cases/{flow.case_id}/translations",
        expect=201,
        json={
            "record_kind": "plan_rule",
            "record_id": active["rules"][1]["id"],
            "language": "es",
            "text": "Rosa se queda con los niños cada noche",
            "translated_by": "Lucía Gómez",
        },
    )
    await flow.call(
        "POST",
        f"/v1/cases/{flow.case_id}/translations/{made['id']}/verify",
        headers=flow.supervisor,
        json={"qualification": "qualified_interpreter"},
    )
    maria = tokens.headers(
        "plans",
        subject="maria.lopez",
        actor_type=ActorType.family,
        roles=(),
        scopes=("case:read",),
        case_id=flow.case_id,
    )
    return {
        "staff": (flow.worker, Audience.staff),
        "supervisor": ({**flow.supervisor, "X-SOP-Audience": "supervisor"}, Audience.supervisor),
        "family": (maria, Audience.family),
        "network (told by staff)": ({**flow.worker, "X-SOP-Audience": "network"}, Audience.network),
        "court": ({**flow.worker, "X-SOP-Audience": "court"}, Audience.court),
    }


def _principal(plans: RunningService, headers: dict[str, str]) -> Principal:
    verified: Principal = plans.app.state.token_verifier.verify(headers["Authorization"].removeprefix("Bearer "))
    return verified


@pytest.mark.sqlite_smoke
async def test_the_view_answers_as_the_reads_it_replaced_for_every_audience(
    flow: PlanFlow, plans: RunningService, populated: dict[str, tuple[dict[str, str], Audience]]
) -> None:
    path = f"/v1/cases/{flow.case_id}/case-view"
    for name, (headers, audience) in populated.items():
        read = await plans.client.get(path, headers=headers)
        assert read.status_code == 200, (name, read.text)
        assert read.json() == await reference_view(plans, _principal(plans, headers), audience), name
    staff = (await plans.client.get(path, headers=populated["staff"][0])).json()
    # the populated case shows what the comparison is about
    assert len(staff["plans"]) == 3 and staff["safety_plan"]["recent_check_ins"] and len(staff["next_steps"]) == 2
    assert {a["kind"] for a in staff["alerts"]} >= {"approval_pending", "next_step_overdue", "rule_broken"}
    assert any(r["translations"] for r in staff["safety_plan"]["rules"])


async def test_the_view_costs_a_handful_of_statements(
    flow: PlanFlow, plans: RunningService, populated: dict[str, tuple[dict[str, str], Audience]]
) -> None:
    engine = plans.app.state.database.engine.sync_engine
    for name, (headers, _) in populated.items():
        seen: list[str] = []

        def count(*args: Any, seen: list[str] = seen) -> None:
            if "outbox_event" not in str(args[2]):  # the outbox relay works beside the request
                seen.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert (await plans.client.get(f"/v1/cases/{flow.case_id}/case-view", headers=headers)).is_success
        finally:
            event.remove(engine, "before_cursor_execute", count)
        audit = [s for s in seen if "audit" in s]
        # PostgreSQL: one statement, its own transaction (the service wrote the head last); SQLite: three
        assert len(audit) == (1 if plans.app.state.database.dialect == "postgresql" else 3), (name, audit)
        # the one view statement: nothing is due, so the sweep and the practice rules' alerts read in it
        assert len(seen) - len(audit) == 1, (name, len(seen), seen)


# --- the writes a read makes: only when something is due, exactly as before -----------------------------------


async def _view_and_statements(
    plans: RunningService, path: str, headers: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """A case-view read and the statements it made besides the audit's."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        statement = str(args[2])
        if "outbox_event" not in statement and "audit" not in statement:  # the relay works beside the request
            seen.append(statement)

    engine = plans.app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        read = await plans.client.get(path, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert read.status_code == 200, read.text
    return read.json(), seen


async def _outbox(plans: RunningService, subject: str) -> list[dict[str, Any]]:
    async with plans.app.state.database.session() as session:
        query = select(platform.outbox.c.payload).where(platform.outbox.c.subject == subject)
        return [row.payload for row in await session.execute(query.order_by(platform.outbox.c.id))]


def _event(subject: str, case_id: uuid.UUID, at: datetime, **data: Any) -> Event:
    return Event(id=new_id(), subject=subject, occurred_at=at, case_id=case_id, data={"case_id": str(case_id), **data})


@pytest.mark.sqlite_smoke("expiry compared in SQL and on the rows read")
async def test_a_plan_past_its_expiry_expires_on_the_case_view_and_says_so_once(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    path = f"/v1/cases/{flow.case_id}/case-view"
    clock.set(datetime(2026, 12, 2, 14, 59, 59, tzinfo=UTC))  # a second before its expiry: nothing to write
    view, statements = await _view_and_statements(plans, path, flow.worker)
    assert (view["safety_plan"]["status"], len(statements)) == ("active", 1)
    assert "plan_expiring" in [a["kind"] for a in view["alerts"]]
    clock.set(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))  # its expiry: the read expires it, in its transaction
    view, statements = await _view_and_statements(plans, path, flow.worker)
    assert len(statements) > 1  # the sweep's own statements, the expiry, its event and the view read again
    assert view["safety_plan"] is None  # an expired plan binds no one
    [expired] = view["plans"]
    assert (expired["id"], expired["status"], expired["end_reason"]) == (active["id"], "expired", "expired")
    assert [a["kind"] for a in view["alerts"]] == ["plan_expired"]
    [announced] = await _outbox(plans, "sop.plans.safety_plan.expired")
    assert (announced["plan_id"], announced["detected_at"]) == (active["id"], clock.now().isoformat())
    again, statements = await _view_and_statements(plans, path, flow.worker)
    assert (again, len(statements)) == (view, 1)  # expired once: the next read has nothing to write
    assert len(await _outbox(plans, "sop.plans.safety_plan.expired")) == 1
    principal = _principal(plans, flow.worker)
    assert view == await reference_view(plans, principal, Audience.staff)


@pytest.mark.sqlite_smoke("starts compared in SQL and on the rows read")
async def test_a_plan_whose_start_has_arrived_comes_into_force_on_the_case_view(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    later = {**lopez_ongoing_plan, "effective_from": "2026-11-05T15:00:00Z", "expires_at": "2026-12-05T15:00:00Z"}
    created = await flow.create(later)
    await flow.sign(created)
    await flow.submit(created["id"])
    await flow.decide(await flow.get(created["id"]))
    assert (await flow.activate(created["id"]))["status"] == "approved"  # it waits for its start
    path = f"/v1/cases/{flow.case_id}/case-view"
    view, statements = await _view_and_statements(plans, path, flow.worker)
    assert (view["safety_plan"]["status"], view["safety_plan"]["in_force"], len(statements)) == ("approved", None, 1)
    clock.set(datetime(2026, 11, 5, 15, 0, tzinfo=UTC))
    view, statements = await _view_and_statements(plans, path, flow.worker)
    assert len(statements) > 1
    started = view["safety_plan"]
    assert (started["status"], started["in_force"]["version_number"]) == ("active", 1)
    assert started["activated_at"].startswith("2026-11-05T15:00:00")
    [activated] = await _outbox(plans, "sop.plans.safety_plan.activated")
    assert activated["plan_id"] == created["id"]
    again, statements = await _view_and_statements(plans, path, flow.worker)
    assert (again, len(statements)) == (view, 1)
    assert view == await reference_view(plans, _principal(plans, flow.worker), Audience.staff)


@pytest.mark.sqlite_smoke("decisions' due times compared on the rows read")
async def test_a_conditionally_safe_decision_alerts_on_the_case_view_until_a_plan_in_force_clears_it(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    staff = [{"subject": "fsw.rivera", "role": "worker"}, {"subject": "sup.okafor", "role": "supervisor"}]
    await plans.bus.publish(_event("sop.network.case.updated", flow.case_id, clock.now(), version=2, staff=staff))
    assessment_id = new_id()
    decided = _event(
        "sop.assessment.sdm_assessment.completed",
        flow.case_id,
        clock.now(),
        sdm_assessment_id=str(assessment_id),
        decisions={"safety_decision": "conditionally_safe"},
        completed_by="fsw.rivera",
        completed_at=clock.now().isoformat(),
    )
    await plans.bus.publish(decided)
    path = f"/v1/cases/{flow.case_id}/case-view"
    principal = _principal(plans, flow.worker)
    view, statements = await _view_and_statements(plans, path, flow.worker)
    assert (view["alerts"], len(statements)) == ([], 1)  # within the policy's hours: not yet
    clock.advance(timedelta(hours=24))
    view, statements = await _view_and_statements(plans, path, flow.worker)
    [alert] = view["alerts"]
    assert (alert["kind"], alert["sdm_assessment_id"], alert["supervisor"]) == (
        "conditionally_safe_without_plan",
        str(assessment_id),
        "sup.okafor",  # the case's staff, read with the view
    )
    assert len(statements) == 1  # an alert is computed on the rows read: nothing to write
    assert view == await reference_view(plans, principal, Audience.staff)

    active = await flow.active_plan(lopez_ongoing_plan)
    view, statements = await _view_and_statements(plans, path, flow.worker)
    assert len(statements) > 1  # the plan in force answers the decision: the read clears it
    assert "conditionally_safe_without_plan" not in [a["kind"] for a in view["alerts"]]
    async with plans.app.state.database.session() as session:
        cleared = await session.get(SafetyDecision, assessment_id)
        assert cleared is not None
        assert (cleared.cleared_reason, cleared.cleared_by_plan_id) == ("plan_in_force", uuid.UUID(active["id"]))
        assert cleared.cleared_at == clock.now()
    again, statements = await _view_and_statements(plans, path, flow.worker)
    assert (again, len(statements)) == (view, 1)
    assert view == await reference_view(plans, principal, Audience.staff)
