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
    errors.extend(history_errors(body))
    if errors:
        raise InvalidInput(errors)


def history_errors(body: CaseUpsert) -> list[dict[str, str]]:
    """The reports and removals name the case's own children, each record once. (Dates that contradict each
    other are kept: the federal extract's data-quality rules name them.)"""
    errors: list[dict[str, str]] = []
    children = {m.person.external_id for m in body.members if m.role == "child"}
    for name, ids in (
        ("reports", [r.external_id for r in body.reports or []]),
        ("removals", [r.external_id for r in body.removals or []]),
    ):
        seen: set[str] = set()
        for i, external_id in enumerate(ids):
            if external_id in seen:
                errors.append({"field": f"{name}.{i}.external_id", "message": "the same record appears twice"})
            seen.add(external_id)
    for i, report in enumerate(body.reports or []):
        for j, child in enumerate(report.children):
            if child not in children:
                errors.append({"field": f"reports.{i}.children.{j}", "message": "not a child of this case"})
    for i, removal in enumerate(body.removals or []):
        if removal.child not in children:
            errors.append({"field": f"removals.{i}.child", "message": "not a child of this case"})
    return errors


def changed_fields(current: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Which fields an upsert would change, as {field: (old, new)} — empty means a true repeat."""
    return {name: (current.get(name), value) for name, value in incoming.items() if current.get(name) != value}
