"""Trauma histories are read like 42 CFR Part 2 data: only by an audience a recorded consent names, and only by
the agency and the court at all; the worker planning is shown the known triggers they may read. Plain functions."""

from __future__ import annotations

import uuid

import pytest

from sop_assessment.trauma.models import PersonRole, TraumaHistory
from sop_assessment.trauma.rules import known_triggers, may_see_history
from sop_shared.policy import Audience


@pytest.mark.parametrize("audience", [Audience.staff, Audience.supervisor, Audience.court])
def test_the_agency_and_the_court_read_a_history_only_with_a_consent_naming_them(audience: Audience) -> None:
    assert not may_see_history(audience, [])
    assert not may_see_history(audience, [a.value for a in Audience if a != audience])
    assert may_see_history(audience, [audience.value])


@pytest.mark.parametrize("audience", [Audience.family, Audience.network, Audience.partner])
def test_no_consent_opens_a_history_to_the_family_network_or_partners(audience: Audience) -> None:
    assert not may_see_history(audience, [audience.value])


def history(consented: list[str], *triggers: str) -> TraumaHistory:
    return TraumaHistory(
        case_id=uuid.uuid4(),
        person_name="Sofia",
        person_role=PersonRole.child,
        history="Sofia found her mother unconscious twice.",
        triggers=[{"trigger": t, "what_helps": "Sit with her and name who is coming"} for t in triggers],
        consented_audiences=consented,
        created_by="fsw.rivera",
    )


def test_the_worker_planning_sees_the_triggers_a_consent_lets_them_read() -> None:
    shared = history(["staff"], "A closed bedroom door at night", "Raised voices")
    private = history([], "Sirens")
    found = known_triggers([shared, private], Audience.staff)
    assert [(t["person_name"], t["trigger"]) for t in found] == [
        ("Sofia", "A closed bedroom door at night"),
        ("Sofia", "Raised voices"),
    ]
    assert known_triggers([shared, private], Audience.supervisor) == []
