"""Rules of child-voice records: who may see a record's content (the child's consent, on top of case
access), which drawings a record's content may reference, and which safety-plan rules a Safety House roof rule
may be linked to (not one a later plan version removed; such links already made are flagged)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sop_shared.auth import request_audience
from sop_shared.policy import Audience, SensitivityLabel, may_see


def may_see_content(audience: Audience, shared_with: Iterable[str]) -> bool:
    """Staff and supervisors always; anyone else only if the child agreed to share with them."""
    return may_see(SensitivityLabel.child_voice, audience, consented=audience.value in set(shared_with))


def drawing_ids(kind: str, content: dict[str, Any]) -> list[tuple[str, uuid.UUID]]:
    """Every drawing the content references, with the field that references it."""
    found: list[tuple[str, uuid.UUID]] = []
    if kind == "three_houses":
        for h, house in enumerate(content.get("houses", [])):
            for e, entry in enumerate(house.get("entries", [])):
                if entry.get("drawing_id"):
                    found.append((f"content.houses.{h}.entries.{e}.drawing_id", uuid.UUID(str(entry["drawing_id"]))))
    elif kind == "safety_house":
        found += [(f"content.drawing_ids.{i}", uuid.UUID(str(d))) for i, d in enumerate(content.get("drawing_ids", []))]
    else:
        for p, page in enumerate(content.get("pages", [])):
            if page.get("drawing_id"):
                found.append((f"content.pages.{p}.drawing_id", uuid.UUID(str(page["drawing_id"]))))
    return found


def drawing_errors(kind: str, content: dict[str, Any], attachment_ids: set[uuid.UUID]) -> list[dict[str, str]]:
    """A drawing must be one uploaded to this record (upload it first, then reference its id)."""
    return [
        {"field": field, "message": "not a drawing uploaded to this record"}
        for field, drawing in drawing_ids(kind, content)
        if drawing not in attachment_ids
    ]


def roof_rule_links(kind: str, content: dict[str, Any]) -> list[tuple[int, uuid.UUID]]:
    if kind != "safety_house":
        return []
    return [
        (i, uuid.UUID(str(rule["safety_plan_rule_id"])))
        for i, rule in enumerate(content.get("roof_rules", []))
        if rule.get("safety_plan_rule_id")
    ]


@dataclass(frozen=True)
class PlanRules:
    """A safety plan's rules as its events said: the newest version's, and every one it ever had."""

    version_number: int
    rule_ids: frozenset[uuid.UUID]
    all_rule_ids: frozenset[uuid.UUID]


def merge_plan_version(known: PlanRules | None, version_number: int, rule_ids: Iterable[uuid.UUID]) -> PlanRules:
    """What is known after an event about `version_number` (in any order, any number of times): the newest
    version's rules win; every rule seen is remembered."""
    ids = frozenset(rule_ids)
    if known is None:
        return PlanRules(version_number, ids, ids)
    everything = known.all_rule_ids | ids
    if version_number > known.version_number:
        return PlanRules(version_number, ids, everything)
    return PlanRules(known.version_number, known.rule_ids, everything)


def removed_rules(plans: Iterable[PlanRules]) -> dict[uuid.UUID, int]:
    """Each rule a plan had and its newest version no longer has, with that version's number."""
    return {rule: p.version_number for p in plans for rule in p.all_rule_ids - p.rule_ids}


def removed_link_errors(
    links: Iterable[tuple[int, uuid.UUID]], removed: Mapping[uuid.UUID, int]
) -> list[dict[str, str]]:
    """A roof rule may not be linked to a plan rule a later plan version removed."""
    return [
        {
            "field": f"content.roof_rules.{position}.safety_plan_rule_id",
            "message": f"this rule was removed from the safety plan in version {removed[rule]}",
        }
        for position, rule in links
        if rule in removed
    ]


__all__ = ["drawing_errors", "drawing_ids", "may_see_content", "request_audience"]
