"""The plans part of the case view as plain data: `PlansCaseView`'s JSON, key for key and in the models' field
order, answered once by `sop_shared.plain_answers.json_response` (the route keeps the model as its
`response_model`: the contract). `tests/plans/test_case_view_answer.py` holds it to the bytes the model gives, and
`tests/plans/test_case_view_reads.py` to the values `plan_out`, `plan_for_audience` and `add_translations` give.

A plan is `plan_out` as `plan_for_audience` shows it, with `add_translations`' translations, built straight from
the rows: its version's content validated once (`PlanContent`, as stored), the parts `plan_out` builds with the
same functions, and no `SafetyPlanOut` validated, copied and serialised again."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sop_plans.case_view.rules import alerts_for_audience, helps_with, is_agency
from sop_plans.case_view.service import CaseViewRead
from sop_plans.plan_policy import PlanPolicy
from sop_plans.safety_plans.rules import plan_warnings, rule_language_check
from sop_plans.safety_plans.service import (
    PlanExtras,
    approval_out,
    check_in_list,
    check_in_out,
    check_in_position,
    plan_alerts,
    sign_off_status,
    signature_summary,
)
from sop_plans.schemas import PlanContent, Rule, SafetyPlanOut
from sop_plans.translations.sources import plan_words, rule_words
from sop_shared.auth import Principal
from sop_shared.plain_answers import member_value
from sop_shared.policy import Audience, NetworkSharing, Section, may_see_section
from sop_shared.translations_api import fields_carried

PLAN_FIELDS = tuple(SafetyPlanOut.model_fields)


def plan_json(
    plan: Any,
    version: Any,
    extras: PlanExtras,
    translations: Mapping[uuid.UUID, Sequence[Any]],
    *,
    audience: Audience,
    person_id: uuid.UUID | None,
    sharing: NetworkSharing,
    now: datetime,
    policy: PlanPolicy,
) -> dict[str, Any]:
    """A `SafetyPlanOut` of `plan` as `version` reads, as `audience` reads it (`plan_for_audience`: outside the
    agency without its notes; the network only the rules it helps with, unless the family opened every rule), with
    the current translations of its words and its rules' (`add_translations`)."""
    content = PlanContent.model_validate(version.content)
    agency = is_agency(audience)
    every_rule = agency or may_see_section(Section.every_rule, audience, sharing)
    rules = content.rules if every_rule else [r for r in content.rules if helps_with(r, person_id)]
    rule_ids = {r.id for r in rules}
    recent = extras.check_ins.get(plan.id, [])
    total_check_ins = extras.check_in_counts.get(plan.id, 0)
    signatures = extras.signatures.get(plan.id, [])
    approvals = extras.approvals.get(plan.id, [])
    found = translations.get(plan.id)
    values = {
        "id": plan.id,
        "case_id": plan.case_id,
        "plan_type": member_value(plan.plan_type),
        "status": member_value(plan.status),
        "title": content.title,
        "language": content.language,
        "effective_from": content.effective_from,
        "expires_at": content.expires_at,
        "safety_assessment_id": content.safety_assessment_id,
        "danger_statement_ids": content.danger_statement_ids,
        "threat_codes": content.threat_codes,
        "current_version_number": plan.current_version_number,
        "content_hash": version.content_hash,
        "participants": content.participants,
        "rules": [_rule_json(rule, content.language, plan.current_version_number, translations) for rule in rules],
        "triggers": content.triggers,
        "trigger_plan": content.trigger_plan if every_rule else [],
        "if_rule_broken": content.if_rule_broken,
        "backup_plan": content.backup_plan,
        "worker_monitoring": content.worker_monitoring,
        "warnings": plan_warnings(content, extras.known_triggers.get(plan.case_id, [])) if agency else [],
        "in_force": {
            "version_number": plan.in_force_version_number,
            "content_hash": extras.in_force_hash.get(plan.id, ""),
            "effective_from": plan.effective_from,
            "expires_at": plan.expires_at,
            "activated_at": plan.activated_at,
        }
        if plan.in_force_version_number is not None
        else None,
        "owner": plan.owner,
        "supervisor": plan.supervisor,
        "rule_set_id": plan.rule_set_id,
        "review": {
            "review_every_days": policy.by_id(plan.rule_set_id).for_type(plan.plan_type).review_every_days,
            "last_reviewed_at": plan.last_reviewed_at,
            "next_review_due": plan.next_review_due,
        },
        "submitted_at": plan.submitted_at,
        "activated_at": plan.activated_at,
        "starts_at": plan.starts_at,
        "approval_due_at": plan.approval_due_at,
        "ended_at": plan.ended_at,
        "end_reason": member_value(plan.end_reason),
        "end_note": plan.end_note,
        # the words of the whole plan, as the agency reads it (`add_translations` ran before `plan_for_audience`)
        "translations": fields_carried(
            found, plan_words(content.model_dump()), content.language, plan.current_version_number
        )
        if found
        else [],
        "ended_by": plan.ended_by,
        "replaced_by_plan_id": plan.replaced_by_plan_id,
        "replaced_plan_ids": [uuid.UUID(i) for i in plan.replaced_plan_ids or []],
        "signatures": [signature_summary(s) for s in signatures if s.version_number == version.number],
        "sign_off": sign_off_status(plan, version.number, content, signatures, policy),
        "latest_approval": approval_out(approvals[-1]) if approvals and agency else None,
        "recent_check_ins": [check_in_out(c) for c in recent if every_rule or c.rule_id in rule_ids],
        "recent_check_ins_paging": check_in_list(plan).paging(
            recent, total=total_check_ins, more=total_check_ins > len(recent), position_of=check_in_position
        ),
        "alerts": plan_alerts(plan, now=now, policy=policy) if agency else [],
        "version": plan.version,
        "created_by": plan.created_by,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
    }
    return {name: values[name] for name in PLAN_FIELDS}


def _rule_json(
    rule: Rule, language: str, version: int, translations: Mapping[uuid.UUID, Sequence[Any]]
) -> dict[str, Any]:
    """A `RuleOut`: the rule as stored (a rule without a commitment leaves `commitment_id` out), its plain-language
    check, and the current translations of its words."""
    values = rule.model_dump()
    found = translations.get(rule.id)
    values["plain_language"] = rule_language_check(rule.text, language)
    values["translations"] = fields_carried(found, rule_words(values), language, version) if found else []
    return values


def case_view_json(
    case_id: uuid.UUID, audience: Audience, principal: Principal, read: CaseViewRead, *, policy: PlanPolicy
) -> dict[str, Any]:
    """A `PlansCaseView`: the case view's plans part shown to `audience` (a member: as the person they are, with
    the family's sharing)."""

    def shown(plan: Any, version: Any) -> dict[str, Any]:
        return plan_json(
            plan,
            version,
            read.extras,
            read.translations,
            audience=audience,
            person_id=principal.person_id,
            sharing=principal.network_sharing,
            now=read.now,
            policy=policy,
        )

    return {
        "case_id": case_id,
        "audience": audience.value,
        "safety_plan": shown(*read.safety_plan) if read.safety_plan is not None else None,
        "plans": [shown(plan, version) for plan, version in read.plans],
        "next_steps": read.next_steps,
        "alerts": alerts_for_audience(read.alerts, audience),
    }
