"""Safety-plan rules as plain functions: the canonical form and hash a signature binds to, the cross-field
checks a new plan must pass, and the practice warnings (which never block)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from sop_plans.known_triggers.rules import TriggersOf, trigger_plan_errors, unaddressed_trigger_warnings
from sop_plans.models import PlanType
from sop_plans.plan_policy import RuleSet
from sop_plans.practice.rules import threat_code_errors
from sop_plans.schemas import (
    Participant,
    PlanContent,
    PlanWarning,
    Rule,
    SafetyPlanEdit,
    SafetyPlanIn,
    TriggerPlanEntry,
    VersionChange,
)
from sop_shared.ids import new_id
from sop_shared.plain_language import LanguageCheck, check_text
from sop_shared.problems import InvalidInput


def canonical_json(content: Any) -> bytes:
    """The one byte form of a version's content: keys sorted, no whitespace, UTF-8 (not \\u-escaped).

    Only JSON-native values are accepted, so a datetime or UUID slipping in fails loudly instead of being
    hashed in some ad-hoc string form.
    """
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def content_hash(content: Any) -> str:
    """SHA-256 hex of the canonical JSON: what a signature on a version binds to."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def normalise(value: Any) -> Any:
    """Unicode NFC for every string, so "Sofía" typed on a phone and on a desktop hash the same."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {normalise(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def plan_content(
    body: SafetyPlanIn,
    *,
    rule_ids: Sequence[uuid.UUID],
    participant_ids: Sequence[uuid.UUID] | None = None,
    effective_from: datetime | None = None,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """The content of a version as stored and hashed. Each rule (and participant) gets an id so check-ins,
    sign-offs and the child's Safety House can point at it across versions."""
    participant_ids = participant_ids if participant_ids is not None else [new_id() for _ in body.participants]
    effective = effective_from or body.effective_from
    expires = expires_at or body.expires_at
    if effective is None or expires is None:
        raise ValueError("a version's content needs both dates resolved")
    content = PlanContent(
        title=body.title,
        language=body.language,
        effective_from=effective,
        expires_at=expires,
        safety_assessment_id=body.safety_assessment_id,
        danger_statement_ids=body.danger_statement_ids,
        threat_codes=body.threat_codes,
        participants=[
            Participant(id=pid, **p.model_dump()) for pid, p in zip(participant_ids, body.participants, strict=True)
        ],
        rules=[Rule(id=rule_id, **rule.model_dump()) for rule_id, rule in zip(rule_ids, body.rules, strict=True)],
        triggers=body.triggers,
        trigger_plan=[TriggerPlanEntry(**entry.model_dump()) for entry in body.trigger_plan],
        if_rule_broken=body.if_rule_broken,
        backup_plan=body.backup_plan,
        worker_monitoring=body.worker_monitoring,
    )
    return stored_form(content)


def stored_form(content: PlanContent) -> dict[str, Any]:
    """JSON-native, NFC-normalised, times in UTC: the exact form that is stored and hashed."""
    dumped = content.model_dump(mode="json")
    for name in ("effective_from", "expires_at"):
        dumped[name] = utc_text(getattr(content, name))
    stored: dict[str, Any] = normalise(dumped)
    return stored


def utc_text(moment: datetime) -> str:
    """One text form per instant ("2026-11-02T15:00:00Z"), whatever offset the client sent."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def edited_content(current: PlanContent, edit: SafetyPlanEdit) -> dict[str, Any]:
    """The next version's content: the current one with the edit's fields replaced. Rules and participants
    that name an id continue that entry (it must exist in the current version); the others are new."""
    errors: list[dict[str, str]] = []
    values = current.model_dump()
    for name in (
        "title",
        "language",
        "effective_from",
        "expires_at",
        "safety_assessment_id",
        "danger_statement_ids",
        "threat_codes",
        "triggers",
        "if_rule_broken",
        "backup_plan",
        "worker_monitoring",
    ):
        if name in edit.model_fields_set:
            values[name] = getattr(edit, name)
    if "trigger_plan" in edit.model_fields_set:
        values["trigger_plan"] = [TriggerPlanEntry(**e.model_dump()) for e in edit.trigger_plan or []]
    if "rules" in edit.model_fields_set and edit.rules is not None:
        known = {r.id for r in current.rules}
        values["rules"] = [
            Rule(id=_continued(r.id, known, f"rules.{i}.id", errors), **r.model_dump(exclude={"id"}))
            for i, r in enumerate(edit.rules)
        ]
        _no_repeats([r.id for r in values["rules"]], "rules", errors)
    if "participants" in edit.model_fields_set and edit.participants is not None:
        known = {p.id for p in current.participants}
        values["participants"] = [
            Participant(id=_continued(p.id, known, f"participants.{i}.id", errors), **p.model_dump(exclude={"id"}))
            for i, p in enumerate(edit.participants)
        ]
        _no_repeats([p.id for p in values["participants"]], "participants", errors)
    if errors:
        raise InvalidInput(errors)
    try:
        return stored_form(PlanContent.model_validate(values))
    except ValidationError as exc:  # e.g. an explicit null for a field every version must have
        raise InvalidInput(
            [
                {
                    "field": ".".join(str(p) for p in e["loc"]),
                    "message": "cannot be empty"
                    if e["type"] in ("string_type", "datetime_type", "list_type", "none_required")
                    and e.get("input") is None
                    else e["msg"],
                }
                for e in exc.errors()
            ]
        ) from exc


def _continued(given: uuid.UUID | None, known: set[uuid.UUID], field: str, errors: list[dict[str, str]]) -> uuid.UUID:
    if given is None:
        return new_id()
    if given not in known:
        errors.append({"field": field, "message": "not an id of the current version; leave it out for a new entry"})
    return given


def _no_repeats(ids: list[uuid.UUID], field: str, errors: list[dict[str, str]]) -> None:
    if len(set(ids)) != len(ids):
        errors.append({"field": field, "message": "the same id is given twice"})


def check_new_plan(body: SafetyPlanIn, *, effective_from: datetime) -> None:
    """Cross-field rules the schema cannot express; each failure names its field."""
    errors: list[dict[str, str]] = []
    if body.expires_at is not None and body.expires_at <= effective_from:
        errors.append({"field": "expires_at", "message": "a plan must expire after it takes effect"})
    if len(set(body.danger_statement_ids)) != len(body.danger_statement_ids):
        errors.append({"field": "danger_statement_ids", "message": "the same danger statement is listed twice"})
    if len(set(body.threat_codes)) != len(body.threat_codes):
        errors.append({"field": "threat_codes", "message": "the same threat code is listed twice"})
    answered = set(body.threat_codes)
    for i, rule in enumerate(body.rules):
        if rule.threat_code is not None and rule.threat_code not in answered:
            errors.append(
                {
                    "field": f"rules.{i}.threat_code",
                    "message": f"the plan does not list threat {rule.threat_code} in threat_codes",
                }
            )
    if errors:
        raise InvalidInput(errors)


def check_content(
    content: PlanContent, *, plan_type: PlanType, rule_set: RuleSet, threat_codes_known: Collection[str] = ()
) -> None:
    """The rules every version's content must keep (create and edit alike), policy durations included, and
    threat codes of the loaded SDM instruments (`threat_codes_known`, learnt from the assessment's events)."""
    errors: list[dict[str, str]] = threat_code_errors(
        content.threat_codes, [r.threat_code for r in content.rules], threat_codes_known
    )
    if content.expires_at <= content.effective_from:
        errors.append({"field": "expires_at", "message": "a plan must expire after it takes effect"})
    else:
        longest = rule_set.for_type(plan_type).max_days
        if content.expires_at - content.effective_from > timedelta(days=longest):
            errors.append(
                {
                    "field": "expires_at",
                    "message": f"an {plan_type.value} plan may run at most {longest} days (policy {rule_set.id})",
                }
            )
    if len(set(content.danger_statement_ids)) != len(content.danger_statement_ids):
        errors.append({"field": "danger_statement_ids", "message": "the same danger statement is listed twice"})
    if len(set(content.threat_codes)) != len(content.threat_codes):
        errors.append({"field": "threat_codes", "message": "the same threat code is listed twice"})
    errors += trigger_plan_errors([entry.trigger_id for entry in content.trigger_plan])
    answered = set(content.threat_codes)
    for i, rule in enumerate(content.rules):
        if rule.threat_code is not None and rule.threat_code not in answered:
            errors.append(
                {
                    "field": f"rules.{i}.threat_code",
                    "message": f"the plan does not list threat {rule.threat_code} in threat_codes",
                }
            )
    if errors:
        raise InvalidInput(errors)


def version_changes(previous: dict[str, Any], new: dict[str, Any]) -> list[VersionChange]:
    """What differs between two versions' content, entry by entry for rules and participants."""
    changes: list[VersionChange] = []
    for name in sorted(set(previous) | set(new)):
        before, after = previous.get(name), new.get(name)
        if name in ("rules", "participants"):
            old_by_id = {e["id"]: e for e in before or []}
            new_by_id = {e["id"]: e for e in after or []}
            for entry_id, entry in new_by_id.items():
                if entry_id not in old_by_id:
                    changes.append(VersionChange(field=f"{name}.{entry_id}", change="added"))
                elif entry != old_by_id[entry_id]:
                    changed = sorted(
                        k for k in set(entry) | set(old_by_id[entry_id]) if entry.get(k) != old_by_id[entry_id].get(k)
                    )
                    changes.append(VersionChange(field=f"{name}.{entry_id}", change="changed", detail=changed))
            changes += [
                VersionChange(field=f"{name}.{entry_id}", change="removed")
                for entry_id in old_by_id
                if entry_id not in new_by_id
            ]
            if [e["id"] for e in before or []] != [e["id"] for e in after or []] and set(old_by_id) == set(new_by_id):
                changes.append(VersionChange(field=name, change="reordered"))
        elif before != after:
            changes.append(VersionChange(field=name, change="changed"))
    return changes


def rule_language_check(text: str, language: str) -> LanguageCheck:
    """The plain-language check of one rule: jargon, reading grade, and (like a safety goal) negative
    phrasing and asking for service compliance instead of a safe behaviour the network can see."""
    return check_text(text, kind=PLAN_RULE_CHECK_KIND, language=language)


PLAN_RULE_CHECK_KIND = "safety_plan_rule"


# A rule that only sends a caregiver to a service ("attend parenting classes") describes attendance, not
# the protective action the network could see. English and Spanish, the state's two most used languages.
_REFERRAL_OPENING = re.compile(
    # up to five words naming who ("Maria", "Maria and Luis"), an optional "will"/"must", then the verb
    r"^(?:(?:[\w.'\u2019-]+\s+){1,5}?(?:(?:will|must|should|shall|needs to|has to|agrees to|is going to|"
    r"va a|debe|tiene que|se compromete a)\s+)?)?"
    r"(?:attend|attends|complete|completes|finish|finishes|go to|goes to|participate in|participates in|"
    r"enroll in|enrol in|sign up for|start|starts|take|takes|"
    r"asistir|asiste|completar|completa|terminar|termina|ir a|participar|participa|inscribirse)\b",
    re.IGNORECASE,
)
_SERVICE_WORDS = re.compile(
    r"\b(?:class|classes|program|programs|programme|counseling|counselling|therapy|treatment|course|"
    r"session|sessions|support group|group sessions|rehab|rehabilitation|assessment|evaluation|AA|NA|"
    r"clase|clases|programa|terapia|consejería|consejeria|tratamiento|curso|sesión|sesion|sesiones)\b",
    re.IGNORECASE,
)


def is_referral_only(text: str) -> bool:
    """Whether a rule reads as nothing more than going to a class, program, counseling or treatment."""
    text = " ".join(text.split())
    return bool(_REFERRAL_OPENING.match(text)) and bool(_SERVICE_WORDS.search(text))


def plan_warnings(content: PlanContent, known_triggers: Iterable[TriggersOf] = ()) -> list[PlanWarning]:
    """What a supervisor would ask about; shown to the worker, never a reason to refuse the plan. With the
    case's known triggers, each one the plan does not say how it avoids too."""
    warnings: list[PlanWarning] = []
    for i, rule in enumerate(content.rules):
        if not rule.responsible:
            warnings.append(
                PlanWarning(
                    code="rule_without_responsible",
                    field=f"rules.{i}.responsible",
                    message="No one is named as responsible for this rule: who will make it happen?",
                )
            )
        if not rule.monitors:
            warnings.append(
                PlanWarning(
                    code="rule_without_monitor",
                    field=f"rules.{i}.monitors",
                    message="No one is named to monitor this rule: which network member will see that it is "
                    "kept, and how will they know?",
                )
            )
        if is_referral_only(rule.text):
            warnings.append(
                PlanWarning(
                    code="rule_is_only_a_service_referral",
                    field=f"rules.{i}.text",
                    message="This rule reads as attending or completing a service. Safety is what the caregivers "
                    "do to protect the children, seen over time: say what will happen differently at "
                    "home and how the network will see it.",
                )
            )
    if content.safety_assessment_id is None and not content.danger_statement_ids:
        warnings.append(
            PlanWarning(
                code="plan_not_linked_to_assessment",
                field="danger_statement_ids",
                message="The plan names no danger statement and no safety assessment: which worries does it answer?",
            )
        )
    if not any(p.role == "caregiver" for p in content.participants):
        warnings.append(
            PlanWarning(
                code="no_caregiver_participant",
                field="participants",
                message="No caregiver is listed among the participants: the caregivers' signatures make the plan "
                "binding, so name them.",
            )
        )
    warnings.extend(unaddressed_trigger_warnings(content, known_triggers))
    return warnings
