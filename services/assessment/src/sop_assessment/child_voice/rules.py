"""Rules of child-voice records: who may see a record's content (the child's consent, on top of case
access), which drawings a record's content may reference, and which safety-plan rules a Safety House roof rule
may be linked to (not one a later plan version removed; such links already made are flagged)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sop_shared.auth import request_audience
from sop_shared.policy import Audience, Ground, may_see_child_voice


def adult_authors(kind: str, content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The caregivers who wrote or approved the adults' explanation (Words and Pictures): its writers and every
    caregiver whose review agreed. Nobody for the child's own words."""
    if kind != "words_and_pictures":
        return []
    writers = list(content.get("written_by") or [])
    approvers = [r for r in content.get("caregiver_reviews") or [] if r.get("decision") == "agreed"]
    return writers + approvers


def is_author(kind: str, content: Mapping[str, Any], reader: uuid.UUID | None) -> bool:
    """Whether `reader` (a member's person) wrote or approved the record; with no person known (the agency
    previewing the family's view), whether any caregiver did."""
    authors = adult_authors(kind, content)
    if reader is None:
        return bool(authors)
    return any(str(a.get("person_id")) == str(reader) for a in authors if a.get("person_id"))


def sharing_grounds(
    kind: str,
    audience: Audience,
    *,
    shared_with: Iterable[str],
    judged_safe: bool,
    content: Mapping[str, Any],
    reader: uuid.UUID | None = None,
) -> set[Ground]:
    """What the record has for `audience`: the consent naming it, the worker's judgement that sharing with the
    caregivers is safe (the family audience only), and authorship of the adults' explanation (`reader`, for the
    family audience)."""
    grounds: set[Ground] = set()
    if audience.value in set(shared_with):
        grounds.add(Ground.consent)
    if audience == Audience.family and judged_safe:
        grounds.add(Ground.judged_safe)
    if audience == Audience.family and is_author(kind, content, reader):
        grounds.add(Ground.author)
    return grounds


def may_see_content(
    kind: str,
    audience: Audience,
    *,
    shared_with: Iterable[str],
    judged_safe: bool = False,
    content: Mapping[str, Any] | None = None,
    reader: uuid.UUID | None = None,
) -> bool:
    """Staff and supervisors always; anyone else as the policy table's `CHILD_VOICE_GROUNDS` says for the kind."""
    grounds = sharing_grounds(
        kind, audience, shared_with=shared_with, judged_safe=judged_safe, content=content or {}, reader=reader
    )
    return may_see_child_voice(kind, audience, grounds)


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
