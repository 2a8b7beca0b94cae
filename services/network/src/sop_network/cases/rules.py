"""Rules for cases arriving from SACWIS: plain functions, no HTTP, no session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sop_network.schemas import CaseUpsert
from sop_shared.problems import InvalidInput


def check_case_upsert(body: CaseUpsert) -> None:
    """Cross-field rules the schema cannot express; each failure names its field."""
    errors: list[dict[str, str]] = []
    if body.closed_on and body.opened_on and body.closed_on < body.opened_on:
        errors.append({"field": "closed_on", "message": "a case cannot close before it opened"})
    if body.status == "closed" and body.closed_on is None:
        errors.append({"field": "closed_on", "message": "a closed case needs its closing date"})
    seen_people: set[tuple[str, str]] = set()
    for i, member in enumerate(body.members):
        key = (member.person.external_id, member.role.value)
        if key in seen_people:
            errors.append(
                {
                    "field": f"members.{i}.person.external_id",
                    "message": "the same person appears twice with the same role",
                }
            )
        seen_people.add(key)
    if not any(m.role == "child" for m in body.members) and body.members:
        errors.append({"field": "members", "message": "a case with members needs at least one child"})
    seen_staff: set[tuple[str, str]] = set()
    for i, assignment in enumerate(body.assignments):
        key = (assignment.staff_subject, assignment.role.value)
        if key in seen_staff:
            errors.append({"field": f"assignments.{i}", "message": "duplicate assignment"})
        seen_staff.add(key)
    if errors:
        raise InvalidInput(errors)


def changed_fields(current: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Which fields an upsert would change, as {field: (old, new)} — empty means a true repeat."""
    return {name: (current.get(name), value) for name, value in incoming.items() if current.get(name) != value}
