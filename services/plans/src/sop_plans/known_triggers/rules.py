"""How a plan answers the known triggers of the case's children and caregivers: plain functions, no session.

A trauma-informed plan says how it avoids each known trigger (DOMAIN.md, "Trauma-informed practice": a plan
*can* record it). A known trigger the plan does not address is a warning the worker and the supervisor see (on
the plan and on the approval item); it does not block submitting, approving or activating: the handbook makes
the account optional, and an immediate plan signed on the spot must not wait for it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from sop_plans.schemas import PlanContent, PlanWarning


class TriggersOf(Protocol):
    """One person's known triggers in a case (a `KnownTriggers` row)."""

    person_role: str
    trigger_ids: list[str]


def trigger_plan_errors(trigger_ids: Sequence[object]) -> list[dict[str, str]]:
    """A trigger is answered once in a version (each repeat named)."""
    seen: set[str] = set()
    errors = []
    for i, trigger_id in enumerate(trigger_ids):
        if str(trigger_id) in seen:
            errors.append({"field": f"trigger_plan.{i}.trigger_id", "message": "this trigger is answered already"})
        seen.add(str(trigger_id))
    return errors


def unaddressed_trigger_warnings(content: PlanContent, known: Iterable[TriggersOf]) -> list[PlanWarning]:
    """One warning per person whose known triggers the plan does not all address, naming how many and which
    (by id: the words are the assessment's, restricted)."""
    answered = {str(entry.trigger_id) for entry in content.trigger_plan}
    warnings = []
    for person in known:
        missing = [t for t in person.trigger_ids if t not in answered]
        if not missing:
            continue
        whose = "a child" if person.person_role == "child" else "a caregiver"
        warnings.append(
            PlanWarning(
                code="known_trigger_not_addressed",
                field="trigger_plan",
                message=f"The plan does not say how it avoids {len(missing)} known trigger"
                f"{'s' if len(missing) != 1 else ''} of {whose} ({', '.join(missing)}): read the trauma history "
                "and say how the plan keeps clear of each.",
            )
        )
    return warnings
