"""The policy table's practice rows (issue 15): coaches, trainers, the training coordinator and practice leads
hold no case scope, so the case access decision never lets them read a case; what a coach sees of a case is
only a consultation's snapshot, without identifying details unless the worker's supervisor allowed them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sop_shared.policy import (
    ActorType,
    CaseAccessFacts,
    PracticeAction,
    ReportingAction,
    StaffAssignment,
    coach_may_see,
    coach_view,
    decide_case_access,
    practice_actions,
    reporting_actions,
    scopes_for,
)

NOW = datetime(2026, 12, 6, tzinfo=UTC)
SNAPSHOT = {
    "case_external_id": "C-2026-0001",
    "question": "How do I write a danger statement the mother can hear?",
    "danger_statement": "We are worried that Sofia could be hurt when Maria drinks.",
    "family": [{"first_name": "Maria", "last_name": "Lopez", "role": "caregiver", "date_of_birth": "1994-03-14"}],
}


def test_practice_roles_hold_no_case_scope_even_when_assigned_to_a_case() -> None:
    for role in ("coach", "trainer", "training_coordinator", "practice_lead"):
        assert scopes_for(ActorType.staff, [role]) == frozenset()
        facts = CaseAccessFacts(uuid.uuid4(), True, assignments=(StaffAssignment("coach.tran", "worker"),))
        decision = decide_case_access(
            actor_type=ActorType.staff,
            subject="coach.tran",
            roles=[role],
            agency="MidSOUTH",
            token_scopes=(),
            facts=facts,
            now=NOW,
        )
        assert not decision.allowed, role


def test_a_coach_sees_only_what_a_worker_brings_to_coaching_without_identifying_details() -> None:
    assert coach_may_see("consultation_snapshot")
    for record in ("case", "person", "statement", "safety_plan", "sdm_assessment", "child_voice"):
        assert not coach_may_see(record)
    seen = coach_view(SNAPSHOT)
    assert seen == {
        "question": SNAPSHOT["question"],
        "danger_statement": SNAPSHOT["danger_statement"],
        "family": [{"role": "caregiver"}],
    }
    assert coach_view(SNAPSHOT, identified=True) == SNAPSHOT  # the supervisor allowed more


def test_a_coach_sees_no_name_a_consultation_keeps_under_another_key() -> None:
    """A consultation brought to coaching keeps who rated each scale (`discussed.ratings[].rater_name`): a name."""
    consultation = {
        "presenting_question": "Are the nights safe?",
        "discussed": {"ratings": [{"rater_name": "Maria Fictional", "rater_role": "caregiver", "score": 7}]},
        "responses": [{"responder_name": "Rosa Fictional", "stance": "partly"}],
    }
    assert coach_view(consultation) == {
        "presenting_question": "Are the nights safe?",
        "discussed": {"ratings": [{"rater_role": "caregiver", "score": 7}]},
        "responses": [{"stance": "partly"}],
    }


def test_practice_actions_by_role_and_by_integration_scope() -> None:
    assert practice_actions(ActorType.staff, ["training_coordinator"], ()) == frozenset(PracticeAction)
    assert practice_actions(ActorType.staff, ["practice_lead"], ()) == {
        PracticeAction.read_people,
        PracticeAction.read_all_training,
        PracticeAction.read_all_fidelity,  # any unit's, county's or the state's measures
        PracticeAction.read_state_average,
        PracticeAction.rebuild_fidelity,
    }
    assert practice_actions(ActorType.staff, ["trainer"], ()) == {PracticeAction.record_attendance}
    # a supervisor and a coach see the state's rates beside their own unit's (their dashboards), never its counts
    for role in ("coach", "supervisor"):
        assert practice_actions(ActorType.staff, [role], ()) == {PracticeAction.read_state_average}, role
    for role in ("worker", "admin", "auditor"):
        assert practice_actions(ActorType.staff, [role], ()) == frozenset(), role
    assert practice_actions(ActorType.integration, [], ["training:sync"]) == {PracticeAction.load_rosters}
    assert practice_actions(ActorType.integration, [], ["cases:sync"]) == frozenset()
    assert practice_actions(ActorType.partner, ["training_coordinator"], ["training:sync"]) == frozenset()


def test_reporting_actions_by_role_staff_only() -> None:
    """The federal extract holds a record per child: practice leads, administrators and auditors produce it; the
    training coordinator reads the outcome measures only; case staff, coaches and trainers neither."""
    for role in ("practice_lead", "admin", "auditor"):
        assert reporting_actions(ActorType.staff, [role]) == frozenset(ReportingAction), role
    assert reporting_actions(ActorType.staff, ["training_coordinator"]) == {ReportingAction.read_outcomes}
    for role in ("worker", "supervisor", "coach", "trainer"):
        assert reporting_actions(ActorType.staff, [role]) == frozenset(), role
    # not staff: nothing, whatever roles the token names
    for actor in (ActorType.integration, ActorType.partner, ActorType.family, ActorType.network):
        assert reporting_actions(actor, ["practice_lead", "admin"]) == frozenset(), actor
