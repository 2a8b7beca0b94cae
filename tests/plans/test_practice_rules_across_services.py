"""Practice rules that hold across services (issue 14), in the plans service: a conditionally safe SDM decision
with no immediate or ongoing plan in force within the policy's hours is an alert to the worker and the
supervisor; a check-in saying a rule was broken is an alert to the worker at once; threat codes name threats of
the loaded SDM instruments. The rules as plain functions, then the consumers and the API (PostgreSQL; the
in-process bus delivers the other services' events, each twice where redelivery matters)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from sop_plans.models import CheckIn, PlanStatus, PlanType, SafetyDecision, SafetyPlan
from sop_plans.practice import rules
from sop_plans.schemas import AlertKind
from sop_shared.clock import FixedClock
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.testing import RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
CASE = uuid.uuid4()


def _decision(**overrides: Any) -> SafetyDecision:
    values: dict[str, Any] = {
        "sdm_assessment_id": uuid.uuid4(),
        "case_id": CASE,
        "decision": "conditionally_safe",
        "decided_at": NOW,
        "decided_by": "fsw.rivera",
        "plan_due_at": NOW + timedelta(hours=24),
        "source_event_id": uuid.uuid4(),
    }
    return SafetyDecision(**{**values, **overrides})


def _plan(plan_type: PlanType = PlanType.ongoing, **overrides: Any) -> SafetyPlan:
    values: dict[str, Any] = {
        "case_id": CASE,
        "plan_type": plan_type,
        "status": PlanStatus.active,
        "title": "Keeping Sofía and Mateo safe",
        "effective_from": NOW,
        "in_force_version_number": 1,
        "activated_at": NOW,
        "owner": "fsw.rivera",
        "supervisor": "sup.okafor",
        "rule_set_id": "ar-dcfs-2026-01",
        "created_by": "fsw.rivera",
    }
    return SafetyPlan(**{**values, **overrides})


def _check_in(plan: SafetyPlan, rule: uuid.UUID, at: datetime, *, kept: bool) -> CheckIn:
    return CheckIn(
        id=uuid.uuid4(),
        plan_id=plan.id,
        case_id=plan.case_id,
        version_number=1,
        rule_id=rule,
        occurred_at=at,
        reported_by_name="Rosa Delgado",
        kept=kept,
        recorded_by="fsw.rivera",
        recorded_at=at,
    )


# --- the rules -----------------------------------------------------------------------------------------------


def test_the_safety_decision_is_read_from_the_final_decisions_whatever_their_key() -> None:
    assert rules.safety_decision_of({"safety_decision": "conditionally_safe"}) == "conditionally_safe"
    assert rules.safety_decision_of({"a": "unsafe", "b": "conditionally_safe"}) == "conditionally_safe"
    assert rules.safety_decision_of({"safety_decision": "safe"}) == "safe"
    assert rules.safety_decision_of({"safety_decision": "unsafe"}) == "unsafe"
    assert rules.safety_decision_of({"risk_level": "high"}) is None  # a risk assessment decides no safety
    assert rules.safety_decision_of({}) is None


def test_a_conditionally_safe_decision_is_an_alert_only_once_its_plan_is_overdue() -> None:
    decision = _decision()
    staff = rules.Staff(("fsw.rivera",), ("sup.okafor",))
    assert rules.decision_alert(decision, now=NOW + timedelta(hours=23, minutes=59), staff=staff) is None
    alert = rules.decision_alert(decision, now=NOW + timedelta(hours=24), staff=staff)
    assert alert is not None
    assert (alert.kind, alert.owner, alert.supervisor) == (
        AlertKind.conditionally_safe_without_plan,
        "fsw.rivera",
        "sup.okafor",
    )
    assert alert.sdm_assessment_id == decision.sdm_assessment_id and alert.due_at == decision.plan_due_at
    cleared = _decision(cleared_at=NOW, cleared_reason="plan_in_force")
    assert rules.decision_alert(cleared, now=NOW + timedelta(days=3), staff=staff) is None
    safe = _decision(decision="safe", plan_due_at=None)
    assert rules.decision_alert(safe, now=NOW + timedelta(days=3), staff=staff) is None


def test_only_an_immediate_or_ongoing_plan_in_force_answers_the_decision() -> None:
    ongoing, immediate = _plan(), _plan(PlanType.immediate)
    assert rules.answering_plan([ongoing]) is ongoing
    assert rules.answering_plan([immediate]) is immediate
    assert rules.answering_plan([_plan(PlanType.reunification)]) is None  # the child is not at home
    assert rules.answering_plan([_plan(status=PlanStatus.draft, in_force_version_number=None)]) is None
    assert rules.answering_plan([_plan(status=PlanStatus.terminated)]) is None
    assert rules.answering_plan([_plan(status=PlanStatus.expired)]) is None
    # a plan with a version in force binds while a new wording waits for approval
    assert rules.answering_plan([_plan(status=PlanStatus.pending_approval)]) is not None


def test_a_later_decision_supersedes_and_an_earlier_one_arriving_late_does_not() -> None:
    assert rules.superseded(NOW, [NOW + timedelta(hours=1)])
    assert not rules.superseded(NOW, [NOW - timedelta(hours=1), NOW])


def test_the_case_staff_come_from_the_networks_case_event() -> None:
    staff = rules.staff_from_event(
        {
            "staff": [
                {"subject": "fsw.rivera", "role": "worker"},
                {"subject": "sup.okafor", "role": "supervisor"},
                {"subject": "fsw.rivera", "role": "worker"},
            ]
        }
    )
    assert staff == rules.Staff(["fsw.rivera"], ["sup.okafor"])
    assert rules.staff_from_event({"person_ids": []}) is None  # an event that does not say


def test_a_broken_rule_is_an_alert_until_a_later_check_in_says_it_was_kept_or_it_is_old() -> None:
    plan = _plan()
    plan.id = uuid.uuid4()
    rule, other_rule = uuid.uuid4(), uuid.uuid4()
    broken = _check_in(plan, rule, NOW - timedelta(days=1), kept=False)
    [alert] = rules.broken_rule_alerts([broken], {plan.id: plan}, now=NOW, days=7)
    assert (alert.kind, alert.check_in_id, alert.rule_id, alert.owner) == (
        AlertKind.rule_broken,
        broken.id,
        rule,
        "fsw.rivera",
    )
    kept_later = _check_in(plan, rule, NOW - timedelta(hours=2), kept=True)
    assert rules.broken_rule_alerts([broken, kept_later], {plan.id: plan}, now=NOW, days=7) == []
    kept_other = _check_in(plan, other_rule, NOW - timedelta(hours=2), kept=True)
    assert len(rules.broken_rule_alerts([broken, kept_other], {plan.id: plan}, now=NOW, days=7)) == 1
    kept_before = _check_in(plan, rule, NOW - timedelta(days=2), kept=True)
    assert len(rules.broken_rule_alerts([kept_before, broken], {plan.id: plan}, now=NOW, days=7)) == 1
    assert rules.broken_rule_alerts([broken], {plan.id: plan}, now=NOW + timedelta(days=7), days=7) == []


def test_threat_codes_must_be_threats_of_a_loaded_instrument() -> None:
    known = {"T1", "T2", "T4"}
    assert rules.threat_code_errors(["T4"], ["T4", None], known) == []
    errors = rules.threat_code_errors(["T4", "S4"], [None, "X9"], known)
    assert [e["field"] for e in errors] == ["threat_codes.1", "rules.1.threat_code"]
    assert rules.threat_code_errors(["S4"], ["X9"], set()) == []  # nothing learnt yet: nothing to check


# --- the consumers and the API (PostgreSQL) -------------------------------------------------------------------


def _sdm_completed(case_id: uuid.UUID, decision: str, at: datetime, assessment_id: uuid.UUID | None = None) -> Event:
    return Event(
        id=new_id(),
        subject="sop.assessment.sdm_assessment.completed",
        occurred_at=at,
        case_id=case_id,
        data={
            "sdm_assessment_id": str(assessment_id or new_id()),
            "case_id": str(case_id),
            "instrument_key": "safety_assessment",
            "status": "completed",
            "decisions": {"safety_decision": decision},
            "completed_by": "fsw.rivera",
            "completed_at": at.isoformat(),
        },
    )


def _case_staff(case_id: uuid.UUID, version: int, supervisor: str = "sup.okafor") -> Event:
    return Event(
        id=new_id(),
        subject="sop.network.case.updated",
        occurred_at=NOW,
        case_id=case_id,
        data={
            "case_id": str(case_id),
            "version": version,
            "person_ids": [],
            "staff": [{"subject": "fsw.rivera", "role": "worker"}, {"subject": supervisor, "role": "supervisor"}],
        },
    )


async def _kinds(flow: PlanFlow, **params: str) -> list[str]:
    path = "/v1/alerts" if params else f"/v1/cases/{flow.case_id}/alerts"
    headers = flow.supervisor if "supervisor" in params else flow.worker
    return [a["kind"] for a in (await flow.call("GET", path, params=params or None, headers=headers))["items"]]


async def _decisions(plans: RunningService) -> list[SafetyDecision]:
    async with plans.app.state.database.session() as s:
        return list((await s.execute(select(SafetyDecision).order_by(SafetyDecision.decided_at))).scalars())


async def test_conditionally_safe_without_a_plan_alerts_worker_and_supervisor_until_a_plan_is_in_force(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    staff = _case_staff(flow.case_id, 2)
    decided = _sdm_completed(flow.case_id, "conditionally_safe", clock.now())
    for event in (staff, decided, decided, staff):  # redelivered: applied once
        await plans.bus.publish(event)
    [recorded] = await _decisions(plans)
    assert (recorded.decision, recorded.decided_by, recorded.cleared_at) == ("conditionally_safe", "fsw.rivera", None)
    assert recorded.plan_due_at == clock.now() + timedelta(hours=24)  # policy: conditionally_safe_plan_within_hours
    assert await _kinds(flow) == []  # within the configured time: not yet
    clock.advance(timedelta(hours=24))
    assert await _kinds(flow) == ["conditionally_safe_without_plan"]
    [alert] = (await flow.call("GET", f"/v1/cases/{flow.case_id}/alerts"))["items"]
    assert (alert["owner"], alert["supervisor"], alert["sdm_assessment_id"]) == (
        "fsw.rivera",
        "sup.okafor",
        decided.data["sdm_assessment_id"],
    )
    assert await _kinds(flow, worker="fsw.rivera") == ["conditionally_safe_without_plan"]
    assert await _kinds(flow, supervisor="sup.okafor") == ["conditionally_safe_without_plan"]
    # an older case version naming another supervisor changes nothing
    await plans.bus.publish(_case_staff(flow.case_id, 1, supervisor="sup.someone.else"))
    assert await _kinds(flow, supervisor="sup.okafor") == ["conditionally_safe_without_plan"]

    active = await flow.active_plan(lopez_ongoing_plan)
    assert "conditionally_safe_without_plan" not in await _kinds(flow)
    [cleared] = await _decisions(plans)
    assert (cleared.cleared_reason, cleared.cleared_by_plan_id) == ("plan_in_force", uuid.UUID(active["id"]))
    # cleared for good: the plan ending later is the plan's own alert, not this one again
    await flow.call("POST", f"/v1/safety-plans/{active['id']}/terminate", json={"reason": "Case closing."})
    assert "conditionally_safe_without_plan" not in await _kinds(flow)


async def test_a_plan_already_in_force_answers_the_decision_and_a_later_decision_supersedes(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    await plans.bus.publish(_sdm_completed(flow.case_id, "conditionally_safe", clock.now()))
    [answered] = await _decisions(plans)
    assert (answered.cleared_reason, answered.cleared_by_plan_id) == ("plan_in_force", uuid.UUID(active["id"]))

    other_case = uuid.uuid4()
    first = _sdm_completed(other_case, "conditionally_safe", clock.now() - timedelta(days=2))
    later = _sdm_completed(other_case, "safe", clock.now() - timedelta(days=1))
    await plans.bus.publish(later)
    await plans.bus.publish(first)  # the earlier decision arrives late: superseded at once
    by_case = [d for d in await _decisions(plans) if d.case_id == other_case]
    assert [(d.decision, d.cleared_reason) for d in by_case] == [("conditionally_safe", "superseded"), ("safe", None)]
    third_case = uuid.uuid4()
    await plans.bus.publish(_sdm_completed(third_case, "conditionally_safe", clock.now() - timedelta(days=2)))
    await plans.bus.publish(_sdm_completed(third_case, "safe", clock.now() - timedelta(days=1)))
    by_case = [d for d in await _decisions(plans) if d.case_id == third_case]
    assert [(d.decision, d.cleared_reason) for d in by_case] == [("conditionally_safe", "superseded"), ("safe", None)]
    # a risk assessment (no safety decision) is not recorded
    risk = _sdm_completed(third_case, "high", clock.now())
    risk.data["decisions"] = {"risk_level": "high"}
    await plans.bus.publish(risk)
    async with plans.app.state.database.session() as s:
        assert (await s.execute(select(func.count()).select_from(SafetyDecision))).scalar_one() == 5


@pytest.mark.sqlite_smoke("check-ins compared by time in SQL")
async def test_a_check_in_saying_a_rule_was_broken_alerts_the_worker_at_once(
    flow: PlanFlow, plans: RunningService, clock: FixedClock, lopez_ongoing_plan: dict[str, Any]
) -> None:
    active = await flow.active_plan(lopez_ongoing_plan)
    rule = active["rules"][0]["id"]
    check_ins = f"/v1/safety-plans/{active['id']}/check-ins"
    body = {"rule_id": rule, "reported_by": {"name": "Rosa Delgado"}, "kept": False, "note": "Maria drove them."}
    broken = await flow.call("POST", check_ins, json=body, expect=201)
    [alert] = [a for a in (await flow.call("GET", f"/v1/cases/{flow.case_id}/alerts"))["items"]]
    assert (alert["kind"], alert["check_in_id"], alert["rule_id"], alert["owner"]) == (
        "rule_broken",
        broken["id"],
        rule,
        "fsw.rivera",
    )
    assert "Maria drove them." in alert["message"]
    assert await _kinds(flow, worker="fsw.rivera") == ["rule_broken"]
    assert await _kinds(flow, supervisor="sup.okafor") == []  # the worker's to act on
    clock.advance(timedelta(hours=1))
    await flow.call("POST", check_ins, json={**body, "kept": True, "note": None}, expect=201)
    assert await _kinds(flow) == []


def _instruments(sha: str = "a" * 64, codes: list[str] | None = None) -> Event:
    return Event(
        id=new_id(),
        subject="sop.assessment.sdm_instruments.published",
        occurred_at=NOW,
        data={
            "digest": sha,
            "instruments": [
                {
                    "key": "safety_assessment",
                    "version": "illustrative-1",
                    "kind": "safety_assessment",
                    "sha256": sha,
                    "threat_codes": codes if codes is not None else [f"T{i}" for i in range(1, 12)],
                },
                {"key": "risk_assessment", "version": "illustrative-1", "sha256": "b" * 64, "threat_codes": []},
            ],
        },
    )


async def test_plan_threat_codes_are_checked_against_the_instruments_the_assessment_announced(
    flow: PlanFlow, plans: RunningService, lopez_ongoing_plan: dict[str, Any]
) -> None:
    announced = _instruments()
    await plans.bus.publish(announced)
    await plans.bus.publish(announced)  # redelivered: nothing changes
    unknown = {**lopez_ongoing_plan, "threat_codes": ["T4", "X9"]}
    unknown["rules"] = [{**lopez_ongoing_plan["rules"][0], "threat_code": "X9"}, lopez_ongoing_plan["rules"][1]]
    await flow.call("GET", f"/v1/cases/{flow.case_id}/safety-plans")  # (the case's records are announced)
    refused = await flow.call("POST", f"/v1/cases/{flow.case_id}/safety-plans", json=unknown, expect=422)
    assert sorted(e["field"] for e in refused["errors"]) == ["rules.0.threat_code", "threat_codes.1"]
    created = await flow.create(lopez_ongoing_plan)  # T4 is a threat of the safety assessment
    edit = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{created['id']}",
        json={"threat_codes": ["T4", "X9"], "change_note": "Another threat"},
        headers={**flow.worker, "If-Match": f'"{created["version"]}"'},
        expect=422,
    )
    assert [e["field"] for e in edit["errors"]] == ["threat_codes.1"]
    # a changed instrument file (new hash) replaces its codes; the same hash again changes nothing
    await plans.bus.publish(_instruments("c" * 64, ["T4", "X9"]))
    assert (await flow.call("POST", f"/v1/cases/{flow.case_id}/safety-plans", json=unknown, expect=201))["id"]
