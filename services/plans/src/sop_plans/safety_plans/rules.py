"""Safety-plan rules as plain functions: the canonical form and hash a signature binds to, the cross-field
checks a new plan must pass, and the practice warnings (which never block)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sop_plans.schemas import PlanContent, PlanWarning, Rule, SafetyPlanIn
from sop_shared.problems import InvalidInput


def canonical_json(content: Any) -> bytes:
    """The one byte form of a version's content: keys sorted, no whitespace, UTF-8 (not \\u-escaped).

    Only JSON-native values are accepted, so a datetime or UUID slipping in fails loudly instead of being
    hashed in some ad-hoc string form.
    """
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


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


def plan_content(body: SafetyPlanIn, *, rule_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    """The content of a version as stored and hashed. Each rule gets an id so check-ins, sign-offs and the
    child's Safety House can point at it across versions."""
    content = PlanContent(
        rules=[Rule(id=rule_id, **rule.model_dump()) for rule_id, rule in zip(rule_ids, body.rules, strict=True)],
        triggers=body.triggers, if_rule_broken=body.if_rule_broken, backup_plan=body.backup_plan,
        worker_monitoring=body.worker_monitoring,
    )
    return normalise(content.model_dump(mode="json"))


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
            errors.append({"field": f"rules.{i}.threat_code",
                           "message": f"the plan does not list threat {rule.threat_code} in threat_codes"})
    if errors:
        raise InvalidInput(errors)


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


def plan_warnings(content: PlanContent) -> list[PlanWarning]:
    """What a supervisor would ask about; shown to the worker, never a reason to refuse the plan."""
    warnings: list[PlanWarning] = []
    for i, rule in enumerate(content.rules):
        if not rule.responsible:
            warnings.append(PlanWarning(
                code="rule_without_responsible", field=f"rules.{i}.responsible",
                message="No one is named as responsible for this rule: who will make it happen?"))
        if not rule.monitors:
            warnings.append(PlanWarning(
                code="rule_without_monitor", field=f"rules.{i}.monitors",
                message="No one is named to monitor this rule: which network member will see that it is "
                        "kept, and how will they know?"))
        if is_referral_only(rule.text):
            warnings.append(PlanWarning(
                code="rule_is_only_a_service_referral", field=f"rules.{i}.text",
                message="This rule reads as attending or completing a service. Safety is what the caregivers "
                        "do to protect the children, seen over time: say what will happen differently at "
                        "home and how the network will see it."))
    return warnings
