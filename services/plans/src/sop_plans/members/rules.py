"""Who the member is in a plan's words. Plain functions."""

from __future__ import annotations

import uuid

from sop_plans.models import SignerRole
from sop_plans.schemas import Participant, PlanContent, Rule
from sop_shared.policy import ActorType
from sop_shared.problems import Conflict, InvalidInput


def participant_of(content: PlanContent, person_id: uuid.UUID) -> Participant | None:
    return next((p for p in content.participants if p.person_id == person_id), None)


def signer_role(actor_type: ActorType) -> SignerRole:
    return SignerRole.caregiver if actor_type == ActorType.family else SignerRole.network


def member_name(content: PlanContent, person_id: uuid.UUID, fallback: str) -> str:
    """The name the plan gives the member (as the family says it), else the name they signed in with."""
    participant = participant_of(content, person_id)
    if participant is not None:
        return participant.name
    for rule in content.rules:
        for ref in (*rule.responsible, *rule.monitors):
            if ref.person_id == person_id:
                return ref.name
    return fallback


def watched_rule(content: PlanContent, rule_id: uuid.UUID, person_id: uuid.UUID) -> Rule:
    """The rule, if the member watches it; else 422 on `rule_id`."""
    rule = next((r for r in content.rules if r.id == rule_id), None)
    if rule is None or not any(ref.person_id == person_id for ref in rule.monitors):
        raise InvalidInput.field("rule_id", "not a rule you watch in the version in force")
    return rule


def require_version_shown(in_force: int | None, shown: int) -> None:
    """A member checks in on the version in force they were shown; a plan that moved on is a stale write."""
    if in_force != shown:
        raise Conflict(
            f"the plan's version in force is {in_force}, not {shown}: read the plan again"
            if in_force is not None
            else "the plan has no version in force"
        )
