"""Rules of child-voice records: who may see a record's content (the child's consent, on top of case
access), and which drawings a record's content may reference."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
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


__all__ = ["drawing_errors", "drawing_ids", "may_see_content", "request_audience"]
