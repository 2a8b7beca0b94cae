"""Safety-plan operations: create, edit (always a new version), the life of the plan (submit, approve,
activate, terminate, expire), sign-offs, reviews, and the reads the case view needs."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Select, and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased, defer
from sqlmodel import col

from sop_plans.known_triggers.service import known_triggers_of
from sop_plans.models import (
    CheckIn,
    KnownTriggers,
    PlanApprovalDecision,
    PlanEndReason,
    PlanStatus,
    SafetyPlan,
    SafetyPlanApproval,
    SafetyPlanReview,
    SafetyPlanSignature,
    SafetyPlanVersion,
    SignatureDecision,
    SignatureMethod,
    SignerRole,
    person_languages,
    platform,
)
from sop_plans.plan_policy import PlanPolicy
from sop_plans.practice.service import known_threat_codes
from sop_plans.safety_plans.lifecycle import (
    Action,
    IllegalTransition,
    due_to_start,
    in_force,
    next_status,
    replaced_on_activation,
    require_allowed,
    signed_on_the_spot,
    starts_later,
)
from sop_plans.safety_plans.rules import (
    check_content,
    check_new_plan,
    content_hash,
    edited_content,
    plan_content,
    plan_warnings,
    rule_language_check,
    version_changes,
)
from sop_plans.safety_plans.signatures import decode_png, interpreter_language, signature_hash
from sop_plans.schemas import (
    Alert,
    AlertKind,
    ApprovalIn,
    ApprovalOut,
    CheckInOut,
    InForce,
    PersonRef,
    PlanContent,
    ReviewSchedule,
    RuleOut,
    SafetyPlanEdit,
    SafetyPlanIn,
    SafetyPlanOut,
    SafetyPlanVersionOut,
    SignatureIn,
    SignatureSummary,
    SignOffStatus,
    SubmitIn,
    VersionChange,
)
from sop_shared.auth import Principal
from sop_shared.ids import new_id
from sop_shared.outbox import emit
from sop_shared.pagination import CaseList, CountedPage, PageRequest
from sop_shared.person_languages import person_language
from sop_shared.plain_language import LanguageCheck
from sop_shared.problems import Conflict, Forbidden, InvalidInput

SUBJECT = "sop.plans.safety_plan."
CREATED_SUBJECT = SUBJECT + "created"
RECENT_CHECK_INS = 5


class VersionMoved(Conflict):
    slug, title = "version-moved", "The plan has a newer version than the one you read"


class SignOffIncomplete(Conflict):
    slug, title = "sign-off-incomplete", "Required signatures are missing"


class PlanPastExpiry(Conflict):
    slug, title = "plan-past-expiry", "The plan's expiry date has passed"


# --- writing ------------------------------------------------------------------------------------------------


async def create_safety_plan(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    body: SafetyPlanIn,
    created_by: str,
    now: datetime,
    policy: PlanPolicy,
) -> tuple[SafetyPlan, SafetyPlanVersion]:
    """A new draft plan and its version 1, with the `created` event in the same transaction. Dates not
    given come from the policy in force on the effective date."""
    effective_from = body.effective_from or now
    check_new_plan(body, effective_from=effective_from)
    rule_set = policy.in_force_on(effective_from)
    expires_at = body.expires_at or effective_from + timedelta(days=rule_set.for_type(body.plan_type).default_days)
    content = plan_content(
        body, rule_ids=[new_id() for _ in body.rules], effective_from=effective_from, expires_at=expires_at
    )
    check_content(
        PlanContent.model_validate(content),
        plan_type=body.plan_type,
        rule_set=rule_set,
        threat_codes_known=await known_threat_codes(session),
    )
    plan = SafetyPlan(
        case_id=case_id,
        plan_type=body.plan_type,
        status=PlanStatus.draft,
        current_version_number=1,
        owner=created_by,
        rule_set_id=rule_set.id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        **_mirrored(PlanContent.model_validate(content)),
    )
    session.add(plan)
    await session.flush()
    version = SafetyPlanVersion(
        plan_id=plan.id,
        number=1,
        content=content,
        content_hash=content_hash(content),
        change_note=None,
        changes=[],
        created_by=created_by,
        created_at=now,
    )
    session.add(version)
    await session.flush()
    await _emit(
        session,
        plan,
        "created",
        version=version,
        danger_statement_ids=plan.danger_statement_ids,
        threat_codes=plan.threat_codes,
    )
    return plan, version


def _mirrored(content: PlanContent) -> dict[str, Any]:
    """The plan row's copy of a version's plan-level facts (for queries: expiry sweep, alerts, filters)."""
    return {
        "title": content.title,
        "effective_from": content.effective_from,
        "expires_at": content.expires_at,
        "safety_assessment_id": content.safety_assessment_id,
        "danger_statement_ids": [str(i) for i in content.danger_statement_ids],
        "threat_codes": list(content.threat_codes),
    }


async def edit_plan(
    session: AsyncSession, plan: SafetyPlan, body: SafetyPlanEdit, *, by: str, now: datetime, policy: PlanPolicy
) -> SafetyPlanVersion:
    """Every edit is a new version n+1; the old one, and any signature or approval on it, stays as it was.
    An approved plan goes back to draft; an active one becomes `modified` and its version in force keeps
    binding the family until the new one is approved, signed and activated."""
    target = next_status(plan, Action.edit)
    current = await current_version(session, plan)
    content = edited_content(PlanContent.model_validate(current.content), body)
    if content == current.content:
        raise InvalidInput.field("body", "this edit changes nothing in the current version")
    parsed = PlanContent.model_validate(content)
    rule_set = policy.in_force_on(parsed.effective_from)
    check_content(
        parsed, plan_type=plan.plan_type, rule_set=rule_set, threat_codes_known=await known_threat_codes(session)
    )
    version = SafetyPlanVersion(
        plan_id=plan.id,
        number=plan.current_version_number + 1,
        content=content,
        content_hash=content_hash(content),
        change_note=body.change_note,
        changes=[c.model_dump() for c in version_changes(current.content, content)],
        created_by=by,
        created_at=now,
    )
    session.add(version)
    plan.current_version_number = version.number
    plan.status = target
    plan.submitted_at = None
    plan.starts_at = plan.start_scheduled_by = None  # a new wording is approved and activated again
    if plan.in_force_version_number is None:
        # Nothing binds the family yet: the plan's facts follow the newest wording.
        for name, value in _mirrored(parsed).items():
            setattr(plan, name, value)
        plan.rule_set_id = rule_set.id
    _touch(plan, now)
    await session.flush()
    await _emit(session, plan, "version_created", version=version, change_note=body.change_note)
    return version


async def submit(session: AsyncSession, plan: SafetyPlan, body: SubmitIn, *, by: str, now: datetime) -> None:
    """Ask a supervisor to decide on the current version. The `approval_requested` event lets the
    assessment service's approval queue list it beside everything else the supervisor decides."""
    plan.status = next_status(plan, Action.submit)
    plan.submitted_at = now
    if body.supervisor:
        plan.supervisor = body.supervisor
    _touch(plan, now)
    await _request_approval(session, plan, await current_version(session, plan), by=by, note=body.note)


async def _request_approval(
    session: AsyncSession, plan: SafetyPlan, version: SafetyPlanVersion, *, by: str, note: str | None
) -> None:
    await _emit(
        session,
        plan,
        "approval_requested",
        version=version,
        requested_by=by,
        supervisor=plan.supervisor,
        note=note,
        plan_type=plan.plan_type.value,
        title=plan.title,
        decide_at=f"/v1/safety-plans/{plan.id}/approve",
        approval_due_at=plan.approval_due_at.isoformat() if plan.approval_due_at else None,
        # what the supervisor would ask about, shown on the item in their approval queue (assessment)
        warnings=[
            w.model_dump(mode="json")
            for w in plan_warnings(
                PlanContent.model_validate(version.content),
                (await known_triggers_of(session, [plan.case_id])).get(plan.case_id, []),
            )
        ],
    )


async def decide(
    session: AsyncSession, plan: SafetyPlan, body: ApprovalIn, *, by: str, now: datetime
) -> SafetyPlanApproval:
    """The supervisor's decision on exactly the version they read (number and hash must match)."""
    action = Action.approve if body.decision == PlanApprovalDecision.approved else Action.return_for_changes
    target = next_status(plan, action)
    version = await _the_version_read(session, plan, body.version_number, body.content_hash)
    if version.created_by == by:
        raise Forbidden("a supervisor cannot approve a version they wrote; another supervisor decides")
    if body.decision == PlanApprovalDecision.requires_modification and not body.comment:
        raise InvalidInput.field("comment", "say what needs to change")
    approval = SafetyPlanApproval(
        plan_id=plan.id,
        version_number=version.number,
        version_hash=version.content_hash,
        decision=body.decision,
        comment=body.comment,
        decided_by=by,
        decided_at=now,
    )
    session.add(approval)
    plan.status = target
    plan.supervisor = by
    plan.approval_due_at = None  # an immediate plan in force before her decision has it now
    _touch(plan, now)
    await session.flush()
    await _emit(
        session,
        plan,
        "approval_decided",
        version=version,
        decision=body.decision.value,
        decided_by=by,
        approval_id=str(approval.id),
    )
    return approval


async def activate(session: AsyncSession, plan: SafetyPlan, *, by: str, now: datetime, policy: PlanPolicy) -> None:
    """Put the approved version in force: every signature the policy requires must be on it, and its
    expiry must still be ahead."""
    target = next_status(plan, Action.activate)
    version = await current_version(session, plan)
    content = PlanContent.model_validate(version.content)
    signatures = await signatures_of(session, [plan.id], version_number=version.number)
    status = sign_off_status(plan, version.number, content, signatures.get(plan.id, []), policy)
    if not status.complete:
        detail = "; ".join(
            filter(
                None,
                [
                    f"not yet signed by {', '.join(status.missing)}" if status.missing else "",
                    f"refused by {', '.join(status.refused)}" if status.refused else "",
                    "no caregiver is named in the plan" if not status.required and status.policy != "none" else "",
                ],
            )
        )
        raise SignOffIncomplete(
            f"version {version.number} cannot be activated: {detail}", missing=status.missing, refused=status.refused
        )
    if content.expires_at <= now:
        raise PlanPastExpiry(
            f"version {version.number} expired at {content.expires_at.isoformat()}; "
            "edit its dates (a new version) before activating"
        )
    if starts_later(content.effective_from, now):
        plan.starts_at = content.effective_from
        plan.start_scheduled_by = by
        _touch(plan, now)
        await _emit(
            session,
            plan,
            "start_scheduled",
            version=version,
            starts_at=content.effective_from.isoformat(),
            scheduled_by=by,
        )
        return
    await put_in_force(session, plan, version, content, target=target, by=by, now=now, policy=policy)


async def start_if_due(session: AsyncSession, plan: SafetyPlan, *, now: datetime, policy: PlanPolicy) -> bool:
    """Put in force an approved plan whose start has arrived, as of its start (`activated_at`, the review
    schedule and any plan it replaces date from then). The row is locked and read again first, so two
    callers (a read and the sweep, two replicas) start it once."""
    if not due_to_start(plan, now):
        return False
    await get_plan(session, plan.id, for_update=True, refresh=True)
    if not due_to_start(plan, now) or plan.starts_at is None:
        return False
    version = await current_version(session, plan)
    content = PlanContent.model_validate(version.content)
    by = plan.start_scheduled_by or plan.owner
    await put_in_force(
        session, plan, version, content, target=PlanStatus.active, by=by, now=plan.starts_at, policy=policy
    )
    return True


async def put_in_force(
    session: AsyncSession,
    plan: SafetyPlan,
    version: SafetyPlanVersion,
    content: PlanContent,
    *,
    target: PlanStatus,
    by: str,
    now: datetime,
    policy: PlanPolicy,
) -> None:
    """The version binds the family from now: the case's other plan of the same type in force ends first
    (`replaced on activation`), in this transaction, then this one comes into force with its `activated`
    event."""
    replaced = await _end_plans_replaced_by(session, plan, by=by, now=now)
    rule_set = policy.in_force_on(content.effective_from)
    plan.status = target
    plan.in_force_version_number = version.number
    plan.replaced_plan_ids = [str(p.id) for p in replaced]
    plan.starts_at = plan.start_scheduled_by = None
    for name, value in _mirrored(content).items():
        setattr(plan, name, value)
    plan.rule_set_id = rule_set.id
    plan.activated_at = now
    plan.next_review_due = now + timedelta(days=rule_set.for_type(plan.plan_type).review_every_days)
    _touch(plan, now)
    await _emit(
        session,
        plan,
        "activated",
        version=version,
        activated_by=by,
        expires_at=content.expires_at.isoformat(),
        next_review_due=plan.next_review_due.isoformat(),
        replaced_plan_ids=plan.replaced_plan_ids,
        approval_due_at=plan.approval_due_at.isoformat() if plan.approval_due_at else None,
    )


async def _end_plans_replaced_by(
    session: AsyncSession, plan: SafetyPlan, *, by: str, now: datetime
) -> list[SafetyPlan]:
    """End the case's plans of `plan`'s type that are in force (terminated, "replaced by plan <id>", with
    their `terminated` event). Two activations in one case at once take turns here (a transaction lock on
    PostgreSQL keyed by case and plan type; SQLite's one connection already serialises them), so the second
    sees and replaces the first; the partial unique index `uq_safety_plan_one_in_force_per_type` holds
    the rule whatever happens."""
    if in_force(plan):
        # A new version of the plan in force: the index already keeps any other of its type out of force.
        # Taking no lock here also keeps it from waiting on an activation that waits on this plan's row.
        return []
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"sop.plans.in_force {plan.case_id} {plan.plan_type.value}"},
        )
    query = (
        select(SafetyPlan)
        .where(
            col(SafetyPlan.case_id) == plan.case_id,
            col(SafetyPlan.plan_type) == plan.plan_type,
            col(SafetyPlan.id) != plan.id,
            col(SafetyPlan.in_force_version_number).is_not(None),
            col(SafetyPlan.status).not_in([PlanStatus.terminated, PlanStatus.expired]),
        )
        .order_by(col(SafetyPlan.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    candidates = list((await session.execute(query)).scalars())
    for candidate in candidates:  # one past its expiry ends as expired, not replaced
        await expire_if_due(session, candidate, now=now)
    replaced = replaced_on_activation(plan, candidates)
    for other in replaced:
        _end(other, next_status(other, Action.terminate), reason=PlanEndReason.replaced_by_plan, by=by, now=now)
        other.replaced_by_plan_id = plan.id
        await _emit(
            session,
            other,
            "terminated",
            version=await current_version(session, other),
            end_reason=PlanEndReason.replaced_by_plan.value,
            terminated_by=by,
            replaced_by_plan_id=str(plan.id),
        )
    # The old plan leaves force before the new one enters it (the unique index is checked row by row).
    await session.flush()
    return replaced


def _end(
    plan: SafetyPlan, status: PlanStatus, *, reason: PlanEndReason, by: str, now: datetime, note: str | None = None
) -> None:
    plan.status = status
    plan.ended_at = now
    plan.end_reason = reason
    plan.end_note = note
    plan.ended_by = by
    plan.starts_at = plan.start_scheduled_by = None
    _touch(plan, now)


async def terminate(session: AsyncSession, plan: SafetyPlan, *, reason: str, by: str, now: datetime) -> None:
    _end(plan, next_status(plan, Action.terminate), reason=PlanEndReason.terminated, note=reason, by=by, now=now)
    await _emit(
        session,
        plan,
        "terminated",
        version=await current_version(session, plan),
        end_reason=PlanEndReason.terminated.value,
        reason=reason,
        terminated_by=by,
    )


async def expire_if_due(session: AsyncSession, plan: SafetyPlan, *, now: datetime) -> bool:
    """Expire a plan whose version in force has passed its expiry. A conditional update, so two callers
    (a read and the sweep, two replicas) expire it once and emit one `expired` event."""
    if plan.in_force_version_number is None or plan.expires_at is None or plan.expires_at > now:
        return False
    if plan.status in (PlanStatus.terminated, PlanStatus.expired):
        return False
    target = next_status(plan, Action.expire)
    result = await session.execute(
        update(SafetyPlan)
        .where(col(SafetyPlan.id) == plan.id, col(SafetyPlan.version) == plan.version)
        .values(
            status=target,
            ended_at=plan.expires_at,
            end_reason=PlanEndReason.expired,
            version=plan.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    updated = cast(CursorResult[Any], result).rowcount  # an UPDATE's result is a CursorResult
    if updated != 1:  # someone else changed it first (perhaps expired it): read it again
        await session.refresh(plan)
        return False
    await session.refresh(plan)
    await _emit(
        session,
        plan,
        "expired",
        version_number=plan.in_force_version_number,
        expired_at=plan.expires_at.isoformat(),
        detected_at=now.isoformat(),
        owner=plan.owner,
        supervisor=plan.supervisor,
    )
    return True


# The plans whose version in force may pass its expiry (an ended plan never binds again).
EXPIRABLE = (PlanStatus.active, PlanStatus.modified, PlanStatus.pending_approval, PlanStatus.approved)


def due_now(plan: SafetyPlan, now: datetime) -> bool:
    """The sweep (`bring_plans_to_now`) has something to do with this plan: its start has arrived, or its
    version in force has passed its expiry. The sweep's query, for plans already read: a read that finds none
    due among the case's plans knows the sweep would change nothing."""
    expired = (
        plan.in_force_version_number is not None
        and plan.expires_at is not None
        and plan.expires_at <= now
        and plan.status in EXPIRABLE
    )
    return expired or due_to_start(plan, now)


async def bring_plans_to_now(
    session: AsyncSession,
    *,
    now: datetime,
    policy: PlanPolicy,
    case_id: uuid.UUID | None = None,
    case_ids: Sequence[uuid.UUID] | None = None,
    limit: int = 500,
) -> int:
    """The sweep, in one query: every approved plan whose start has arrived comes into force, then every
    plan with a version in force whose expiry has passed expires (of one case, or of a caseload page's
    cases, when given). Starting first, so a plan that started (and replaced another) before that one's
    expiry replaced it. Returns how many plans changed."""
    query = (
        select(SafetyPlan)
        .where(  # what `due_now` says of a plan already read
            or_(
                and_(
                    col(SafetyPlan.in_force_version_number).is_not(None),
                    col(SafetyPlan.expires_at) <= now,
                    col(SafetyPlan.status).in_(EXPIRABLE),
                ),
                and_(col(SafetyPlan.status) == PlanStatus.approved, col(SafetyPlan.starts_at) <= now),
            )
        )
        .order_by(col(SafetyPlan.id))
        .limit(limit)
    )
    if case_id is not None:
        query = query.where(col(SafetyPlan.case_id) == case_id)
    if case_ids is not None:
        query = query.where(col(SafetyPlan.case_id).in_(case_ids))
    plans = list((await session.execute(query)).scalars().all())
    changed = 0
    for plan in sorted(plans, key=lambda p: (p.starts_at is None, p.starts_at or now, p.id)):
        changed += await start_if_due(session, plan, now=now, policy=policy)
    for plan in plans:
        changed += await expire_if_due(session, plan, now=now)
    return changed


async def record_signature(
    session: AsyncSession,
    plan: SafetyPlan,
    body: SignatureIn,
    *,
    principal: Principal,
    now: datetime,
    image_max_bytes: int,
    policy: PlanPolicy,
) -> SafetyPlanSignature:
    """A sign-off (or refusal) on exactly the version the signer read. An immediate plan signed on the spot by
    the worker and every caregiver comes into force with it (see _take_effect_if_signed_on_the_spot)."""
    require_allowed(plan, Action.sign)
    version = await _the_version_read(session, plan, body.version_number, body.content_hash)
    content = PlanContent.model_validate(version.content)
    signer_language = await _signer_language(session, body, content)
    image, explained_in = _check_signature_input(body, content, image_max_bytes, signer_language)
    interpreter = body.interpreter
    signature = SafetyPlanSignature(
        plan_id=plan.id,
        version_number=version.number,
        version_hash=version.content_hash,
        decision=body.decision,
        signer_name=body.signer_name,
        signer_person_id=body.signer_person_id,
        signer_role=body.signer_role,
        participant_id=body.participant_id,
        method=body.method,
        typed_name=body.typed_name,
        affirmation=body.affirmation,
        refusal_reason=body.refusal_reason,
        image_png=image,
        image_sha256=hashlib.sha256(image).hexdigest() if image is not None else None,
        language=content.language,
        signer_language=signer_language,
        interpreter_name=interpreter.name if interpreter else None,
        interpreter_qualification=interpreter.qualification if interpreter else None,
        interpreter_mode=interpreter.mode if interpreter else None,
        interpreter_language=explained_in,
        recorded_by=principal.subject,
        recorded_by_type=principal.actor_type.value,
        signed_at=now,
        signature_hash="",
    )
    signature.id = new_id()
    signature.signature_hash = signature_hash(signature)
    session.add(signature)
    _touch(plan, now)
    await session.flush()
    await _emit(
        session,
        plan,
        "signature_recorded",
        version=version,
        signature_id=str(signature.id),
        decision=signature.decision.value,
        signer_role=signature.signer_role.value,
        participant_id=str(signature.participant_id) if signature.participant_id else None,
        signature_hash=signature.signature_hash,
        language=signature.language,
        signer_language=signature.signer_language,
        interpreter=signature.interpreter,
    )
    await _take_effect_if_signed_on_the_spot(
        session, plan, version, content, by=principal.subject, now=now, policy=policy
    )
    return signature


async def _take_effect_if_signed_on_the_spot(
    session: AsyncSession,
    plan: SafetyPlan,
    version: SafetyPlanVersion,
    content: PlanContent,
    *,
    by: str,
    now: datetime,
    policy: PlanPolicy,
) -> None:
    """An immediate plan comes into force once the worker and every caregiver have signed this version on the
    spot (its start reached, its expiry ahead); the supervisor's approval is then due within the policy's
    hours, and asked for now if the worker had not yet submitted it."""
    if plan.status not in (PlanStatus.draft, PlanStatus.pending_approval, PlanStatus.modified):
        return
    if starts_later(content.effective_from, now) or content.expires_at <= now:
        return
    caregivers = [p.id for p in content.participants if p.role.value == "caregiver"]
    signatures = (await signatures_of(session, [plan.id], version_number=version.number)).get(plan.id, [])
    if not signed_on_the_spot(plan.plan_type, caregivers, signatures, version.number):
        return
    asked = plan.status == PlanStatus.pending_approval
    target = next_status(plan, Action.take_effect)
    hours = policy.in_force_on(content.effective_from).immediate_approval_within_hours
    plan.approval_due_at = now + timedelta(hours=hours)
    await put_in_force(session, plan, version, content, target=target, by=by, now=now, policy=policy)
    if not asked:
        plan.submitted_at = now
        await _request_approval(session, plan, version, by=by, note="In force on the family's and worker's signatures")


async def _signer_language(session: AsyncSession, body: SignatureIn, content: PlanContent) -> str | None:
    """The signer's preferred language as the network service last announced it: the person signing, else
    the participant's person; None when neither is a person the network service has told us about."""
    person_id = body.signer_person_id
    if person_id is None and body.participant_id is not None:
        participant = next((p for p in content.participants if p.id == body.participant_id), None)
        person_id = participant.person_id if participant is not None else None
    if person_id is None:
        return None
    known = await person_language(session, person_languages, person_id)
    return known.preferred_language if known is not None else None


def _check_signature_input(
    body: SignatureIn, content: PlanContent, image_max_bytes: int, signer_language: str | None
) -> tuple[bytes | None, str | None]:
    """The drawn image (if any) and the language an interpreter explained the version in (if any)."""
    errors: list[dict[str, str]] = []
    explained_in: str | None = None
    try:
        explained_in = interpreter_language(
            version_language=content.language,
            signer_name=body.signer_name,
            signer_language=signer_language,
            decision=body.decision,
            interpreter=body.interpreter,
        )
    except InvalidInput as exc:
        errors += exc.errors
    image: bytes | None = None
    if body.participant_id is not None:
        participant = next((p for p in content.participants if p.id == body.participant_id), None)
        if participant is None:
            errors.append({"field": "participant_id", "message": "not a participant of this version"})
        elif participant.role.value != body.signer_role.value:
            errors.append({"field": "signer_role", "message": f"the participant is listed as {participant.role.value}"})
    if body.decision == SignatureDecision.signed:
        if body.method is None:
            errors.append({"field": "method", "message": "say how the signer signed"})
        if not body.affirmation:
            errors.append({"field": "affirmation", "message": "record the words the signer affirmed"})
        if body.refusal_reason is not None:
            errors.append({"field": "refusal_reason", "message": "only a refusal has a reason"})
        if body.method == SignatureMethod.typed_name and not body.typed_name:
            errors.append({"field": "typed_name", "message": "the typed_name method needs the name as typed"})
        if body.method == SignatureMethod.drawn:
            if not body.image_png_base64:
                errors.append({"field": "image_png_base64", "message": "the drawn method needs the image"})
            else:
                try:
                    image = decode_png(body.image_png_base64, max_bytes=image_max_bytes)
                except InvalidInput as exc:
                    errors += exc.errors
        elif body.image_png_base64 is not None:
            errors.append({"field": "image_png_base64", "message": "only the drawn method carries an image"})
    else:
        if not body.refusal_reason:
            errors.append({"field": "refusal_reason", "message": "a refusal records the signer's reason"})
        for name in ("method", "typed_name", "image_png_base64"):
            if getattr(body, name) is not None:
                errors.append({"field": name, "message": "a refusal is not signed"})
    if errors:
        raise InvalidInput(errors)
    return image, explained_in


async def record_review(
    session: AsyncSession, plan: SafetyPlan, *, note: str, by: str, now: datetime, policy: PlanPolicy
) -> SafetyPlanReview:
    require_allowed(plan, Action.review)
    review = SafetyPlanReview(
        plan_id=plan.id, version_number=plan.in_force_version_number or 0, note=note, reviewed_by=by, reviewed_at=now
    )
    session.add(review)
    plan.last_reviewed_at = now
    plan.next_review_due = now + policy.review_interval(plan.rule_set_id, plan.plan_type)
    _touch(plan, now)
    await session.flush()
    await _emit(
        session,
        plan,
        "reviewed",
        version_number=review.version_number,
        reviewed_by=by,
        next_review_due=plan.next_review_due.isoformat(),
    )
    return review


async def _the_version_read(session: AsyncSession, plan: SafetyPlan, number: int, hash_read: str) -> SafetyPlanVersion:
    if number != plan.current_version_number:
        raise VersionMoved(
            f"you read version {number}; the plan is now at version {plan.current_version_number}",
            current_version_number=plan.current_version_number,
        )
    version = await current_version(session, plan)
    if version.content_hash != hash_read:
        raise VersionMoved(
            f"version {number} does not have the content hash you sent",
            current_version_number=plan.current_version_number,
        )
    return version


def _touch(plan: SafetyPlan, now: datetime) -> None:
    plan.version += 1
    plan.updated_at = now


async def _emit(
    session: AsyncSession, plan: SafetyPlan, event: str, *, version: SafetyPlanVersion | None = None, **data: object
) -> None:
    payload: dict[str, object] = {
        "plan_id": str(plan.id),
        "case_id": str(plan.case_id),
        "plan_type": plan.plan_type.value,
        "status": plan.status.value,
    }
    if version is not None:
        payload.update(
            version_number=version.number,
            content_hash=version.content_hash,
            # the rules' ids, so the child's Safety House (assessment) may link to them
            rule_ids=[str(rule["id"]) for rule in version.content.get("rules", [])],
        )
    payload.update(data)
    await emit(session, platform, subject=SUBJECT + event, case_id=plan.case_id, data=payload)


# --- reading ------------------------------------------------------------------------------------------------


async def get_plan(
    session: AsyncSession, plan_id: uuid.UUID, *, for_update: bool = False, refresh: bool = False
) -> SafetyPlan | None:
    if for_update:
        query = select(SafetyPlan).where(col(SafetyPlan.id) == plan_id).with_for_update()
        if refresh:  # read the locked row again, over what this session already holds
            query = query.execution_options(populate_existing=True)
        return (await session.execute(query)).scalar_one_or_none()
    return await session.get(SafetyPlan, plan_id)


async def get_version(session: AsyncSession, plan_id: uuid.UUID, number: int) -> SafetyPlanVersion | None:
    return (
        await session.execute(
            select(SafetyPlanVersion).where(
                col(SafetyPlanVersion.plan_id) == plan_id, col(SafetyPlanVersion.number) == number
            )
        )
    ).scalar_one_or_none()


async def current_version(session: AsyncSession, plan: SafetyPlan) -> SafetyPlanVersion:
    version = await get_version(session, plan.id, plan.current_version_number)
    if version is None:  # the plan row and its versions are written in one transaction
        raise LookupError(f"safety plan {plan.id} has no version {plan.current_version_number}")
    return version


def case_plans_with_current_version(case_id: uuid.UUID) -> Select[SafetyPlan, SafetyPlanVersion]:
    """A case's plans, each joined to its current version: the one query every list of plans starts from."""
    return (
        select(SafetyPlan, SafetyPlanVersion)
        .join(
            SafetyPlanVersion,
            and_(
                col(SafetyPlanVersion.plan_id) == col(SafetyPlan.id),
                col(SafetyPlanVersion.number) == col(SafetyPlan.current_version_number),
            ),
        )
        .where(col(SafetyPlan.case_id) == case_id)
    )


async def list_plans(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    status: PlanStatus | None,
    page: PageRequest,
    shared_only: bool = False,
) -> tuple[list[tuple[SafetyPlan, SafetyPlanVersion]], str | None]:
    """One query for a page of a case's plans, each joined to its current version (`shared_only`: without the
    drafts never submitted, for audiences outside the agency)."""
    query = case_plans_with_current_version(case_id)
    if status is not None:
        query = query.where(col(SafetyPlan.status) == status)
    if shared_only:
        query = query.where(
            or_(col(SafetyPlan.status) != PlanStatus.draft, col(SafetyPlan.in_force_version_number).is_not(None))
        )
    rows = [(plan, version) for plan, version in (await session.execute(page.apply(query, col(SafetyPlan.id)))).all()]
    return page.page(rows, id_of=lambda row: row[0].id)


async def list_versions(
    session: AsyncSession,
    *,
    plan_id: uuid.UUID,
    page: PageRequest,
) -> tuple[list[SafetyPlanVersion], str | None]:
    query = select(SafetyPlanVersion).where(col(SafetyPlanVersion.plan_id) == plan_id)
    rows = list((await session.execute(page.apply(query, col(SafetyPlanVersion.id)))).scalars())
    return page.page(rows)


async def signatures_of(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID], *, version_number: int | None = None
) -> dict[uuid.UUID, list[SafetyPlanSignature]]:
    if not plan_ids:
        return {}
    # The drawn image is read only to verify a signature, never for lists.
    query = (
        select(SafetyPlanSignature)
        .options(defer(cast(QueryableAttribute[Any], SafetyPlanSignature.image_png)))  # the class attribute
        .where(col(SafetyPlanSignature.plan_id).in_(plan_ids))
    )
    if version_number is not None:
        query = query.where(col(SafetyPlanSignature.version_number) == version_number)
    found: dict[uuid.UUID, list[SafetyPlanSignature]] = defaultdict(list)
    for signature in (await session.execute(query.order_by(col(SafetyPlanSignature.id)))).scalars():
        found[signature.plan_id].append(signature)
    return found


async def approvals_of(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[SafetyPlanApproval]]:
    if not plan_ids:
        return {}
    found: dict[uuid.UUID, list[SafetyPlanApproval]] = defaultdict(list)
    query = (
        select(SafetyPlanApproval)
        .where(col(SafetyPlanApproval.plan_id).in_(plan_ids))
        .order_by(col(SafetyPlanApproval.id))
    )
    for approval in (await session.execute(query)).scalars():
        found[approval.plan_id].append(approval)
    return found


async def recent_check_ins(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID], per_plan: int = RECENT_CHECK_INS
) -> dict[uuid.UUID, list[CheckIn]]:
    """The latest check-ins of each plan, in one query (a window function, on SQLite and PostgreSQL)."""
    if not plan_ids:
        return {}
    ranked = (
        select(
            CheckIn,
            func.row_number()
            .over(partition_by=col(CheckIn.plan_id), order_by=(col(CheckIn.occurred_at).desc(), col(CheckIn.id).desc()))
            .label("rank"),
        )
        .where(col(CheckIn.plan_id).in_(plan_ids))
        .subquery()
    )
    check_in = aliased(CheckIn, ranked)
    query = select(check_in).where(ranked.c.rank <= per_plan).order_by(ranked.c.plan_id, ranked.c.rank)
    found: dict[uuid.UUID, list[CheckIn]] = defaultdict(list)
    for row in (await session.execute(query)).scalars():
        found[row.plan_id].append(row)
    return found


async def check_in_counts(session: AsyncSession, plan_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not plan_ids:
        return {}
    query = (
        select(col(CheckIn.plan_id), func.count())
        .where(col(CheckIn.plan_id).in_(plan_ids))
        .group_by(col(CheckIn.plan_id))
    )
    return {plan_id: count for plan_id, count in (await session.execute(query)).all()}


def check_in_list(plan: SafetyPlan) -> CaseList:
    """A plan's check-ins, newest first: `recent_check_ins` continues at `GET …/recent-check-ins`."""
    return CaseList(plan.case_id, f"check-ins.{plan.id}")


def check_in_position(check_in: CheckIn) -> tuple[str, str]:
    return (check_in.occurred_at.isoformat(), str(check_in.id))


CHECK_IN_POSITION = (datetime.fromisoformat, uuid.UUID)


async def newest_check_ins(
    session: AsyncSession, plan: SafetyPlan, *, limit: int, cursor: str | None
) -> CountedPage[CheckIn]:
    """The plan's check-ins after (or before) the cursor's, newest first (the order of `recent_check_ins`)."""
    the_list = check_in_list(plan)
    reading = the_list.reading(cursor, CHECK_IN_POSITION)
    order = (col(CheckIn.occurred_at), col(CheckIn.id))
    query = the_list.seek(
        select(CheckIn).where(col(CheckIn.plan_id) == plan.id), order, reading, limit=limit, descending=True
    )
    rows = list((await session.execute(query)).scalars())
    total = (await check_in_counts(session, [plan.id])).get(plan.id, 0)
    return the_list.page(rows, limit=limit, total=total, position_of=check_in_position, backward=reading.backward)


async def in_force_hashes(session: AsyncSession, plans: Sequence[SafetyPlan]) -> dict[uuid.UUID, str]:
    wanted = [(p.id, p.in_force_version_number) for p in plans if p.in_force_version_number is not None]
    if not wanted:
        return {}
    ids = [plan_id for plan_id, _ in wanted]
    numbers = dict(wanted)
    query = select(
        col(SafetyPlanVersion.plan_id), col(SafetyPlanVersion.number), col(SafetyPlanVersion.content_hash)
    ).where(col(SafetyPlanVersion.plan_id).in_(ids))
    return {
        plan_id: digest
        for plan_id, number, digest in (await session.execute(query)).all()
        if numbers.get(plan_id) == number
    }


def sign_off_status(
    plan: SafetyPlan,
    version_number: int,
    content: PlanContent,
    signatures: Sequence[SafetyPlanSignature],
    policy: PlanPolicy,
) -> SignOffStatus:
    """Whose signatures the policy in force requires on this version, and who has signed or refused.
    A participant's latest sign-off counts (a refusal can be followed by a signature after a talk)."""
    rule = policy.by_id(plan.rule_set_id).caregiver_signatures
    caregivers = [p for p in content.participants if p.role.value == "caregiver"]
    latest: dict[uuid.UUID, SafetyPlanSignature] = {}
    for signature in sorted((s for s in signatures if s.version_number == version_number), key=lambda s: s.id):
        if signature.participant_id is not None:
            latest[signature.participant_id] = signature
    signed = [p for p in caregivers if p.id in latest and latest[p.id].decision == SignatureDecision.signed]
    refused = [p for p in caregivers if p.id in latest and latest[p.id].decision == SignatureDecision.refused]
    missing = [p for p in caregivers if p.id not in latest]
    if rule == "all":
        complete = bool(caregivers) and len(signed) == len(caregivers)
    elif rule == "any":
        complete = bool(signed) or (
            not caregivers
            and any(
                s.signer_role == SignerRole.caregiver and s.decision == SignatureDecision.signed
                for s in signatures
                if s.version_number == version_number
            )
        )
    else:
        complete = True
    return SignOffStatus(
        version_number=version_number,
        policy=rule,
        required=[PersonRef(name=p.name, person_id=p.person_id) for p in caregivers] if rule != "none" else [],
        signed=[p.name for p in signed],
        refused=[p.name for p in refused],
        missing=[p.name for p in missing] if rule != "none" else [],
        complete=complete,
    )


@lru_cache(maxsize=4096)
def _rule_check(text: str, language: str) -> LanguageCheck:
    return rule_language_check(text, language)


def plan_alerts(plan: SafetyPlan, *, now: datetime, policy: PlanPolicy) -> list[Alert]:
    """What is coming due or overdue on this plan, by the policy it was made under."""
    rule_set = policy.by_id(plan.rule_set_id)
    alerts: list[Alert] = []

    def alert(kind: AlertKind, due_at: datetime | None, message: str) -> None:
        alerts.append(
            Alert(
                kind=kind,
                case_id=plan.case_id,
                plan_id=plan.id,
                title=plan.title,
                due_at=due_at,
                owner=plan.owner,
                supervisor=plan.supervisor,
                message=message,
            )
        )

    binding = in_force(plan)
    if (
        plan.status == PlanStatus.expired
        and plan.ended_at is not None
        and now - plan.ended_at <= timedelta(days=rule_set.expired_alert_days)
    ):
        alert(AlertKind.plan_expired, plan.ended_at, "The safety plan has expired: nothing binds the family now.")
    if (
        binding
        and plan.expires_at is not None
        and plan.expires_at - now <= timedelta(days=rule_set.expiry_warning_days)
    ):
        alert(AlertKind.plan_expiring, plan.expires_at, "The safety plan expires soon: review it with the family.")
    if binding and plan.next_review_due is not None:
        if plan.next_review_due < now:
            alert(AlertKind.review_overdue, plan.next_review_due, "The plan's review is overdue.")
        elif plan.next_review_due - now <= timedelta(days=rule_set.review_warning_days):
            alert(AlertKind.review_due, plan.next_review_due, "The plan is due for review.")
    if plan.status == PlanStatus.pending_approval:
        alert(AlertKind.approval_pending, plan.submitted_at, "The plan is waiting for a supervisor's decision.")
    if binding and plan.approval_due_at is not None:
        if plan.approval_due_at < now:
            alert(
                AlertKind.immediate_plan_approval_overdue,
                plan.approval_due_at,
                "The immediate plan took effect on the family's and the worker's signatures; "
                "the supervisor's approval is overdue.",
            )
        else:
            alert(
                AlertKind.approval_pending,
                plan.approval_due_at,
                "The immediate plan is in force on the family's and the worker's signatures and waits for "
                "the supervisor's approval.",
            )
    return alerts


@dataclass
class PlanExtras:
    """What the case view shows with each plan, loaded for a whole page at once."""

    signatures: dict[uuid.UUID, list[SafetyPlanSignature]] = field(default_factory=dict)
    approvals: dict[uuid.UUID, list[SafetyPlanApproval]] = field(default_factory=dict)
    check_ins: dict[uuid.UUID, list[CheckIn]] = field(default_factory=dict)
    check_in_counts: dict[uuid.UUID, int] = field(default_factory=dict)
    in_force_hash: dict[uuid.UUID, str] = field(default_factory=dict)
    # by case: the known triggers of its children and caregivers (a plan that leaves one out carries a warning)
    known_triggers: dict[uuid.UUID, list[KnownTriggers]] = field(default_factory=dict)


async def load_extras(
    session: AsyncSession, plans: Sequence[SafetyPlan], *, check_ins: int = RECENT_CHECK_INS
) -> PlanExtras:
    ids = [p.id for p in plans]
    return PlanExtras(
        signatures=await signatures_of(session, ids),
        approvals=await approvals_of(session, ids),
        check_ins=await recent_check_ins(session, ids, check_ins) if check_ins else {},
        check_in_counts=await check_in_counts(session, ids),
        in_force_hash=await in_force_hashes(session, plans),
        known_triggers=await known_triggers_of(session, {p.case_id for p in plans}),
    )


def check_in_out(check_in: CheckIn) -> CheckInOut:
    return CheckInOut(
        id=check_in.id,
        plan_id=check_in.plan_id,
        case_id=check_in.case_id,
        version_number=check_in.version_number,
        rule_id=check_in.rule_id,
        occurred_at=check_in.occurred_at,
        reported_by=PersonRef(name=check_in.reported_by_name, person_id=check_in.reported_by_person_id),
        kept=check_in.kept,
        note=check_in.note,
        recorded_by=check_in.recorded_by,
        recorded_at=check_in.recorded_at,
    )


def signature_summary(signature: SafetyPlanSignature) -> SignatureSummary:
    return SignatureSummary.model_validate(signature, from_attributes=True)


def approval_out(approval: SafetyPlanApproval) -> ApprovalOut:
    return ApprovalOut.model_validate(approval, from_attributes=True)


def plan_out(
    plan: SafetyPlan, version: SafetyPlanVersion, extras: PlanExtras, *, now: datetime, policy: PlanPolicy
) -> SafetyPlanOut:
    content = PlanContent.model_validate(version.content)
    signatures = extras.signatures.get(plan.id, [])
    approvals = extras.approvals.get(plan.id, [])
    in_force = None
    if plan.in_force_version_number is not None:
        in_force = InForce(
            version_number=plan.in_force_version_number,
            content_hash=extras.in_force_hash.get(plan.id, ""),
            effective_from=plan.effective_from,
            expires_at=plan.expires_at,
            activated_at=plan.activated_at,
        )
    recent, total_check_ins = extras.check_ins.get(plan.id, []), extras.check_in_counts.get(plan.id, 0)
    return SafetyPlanOut(
        id=plan.id,
        case_id=plan.case_id,
        plan_type=plan.plan_type,
        status=plan.status,
        title=content.title,
        language=content.language,
        effective_from=content.effective_from,
        expires_at=content.expires_at,
        safety_assessment_id=content.safety_assessment_id,
        danger_statement_ids=content.danger_statement_ids,
        threat_codes=content.threat_codes,
        current_version_number=plan.current_version_number,
        content_hash=version.content_hash,
        participants=content.participants,
        rules=[
            RuleOut(**rule.model_dump(), plain_language=_rule_check(rule.text, content.language))
            for rule in content.rules
        ],
        triggers=content.triggers,
        trigger_plan=content.trigger_plan,
        if_rule_broken=content.if_rule_broken,
        backup_plan=content.backup_plan,
        worker_monitoring=content.worker_monitoring,
        warnings=plan_warnings(content, extras.known_triggers.get(plan.case_id, [])),
        in_force=in_force,
        owner=plan.owner,
        supervisor=plan.supervisor,
        rule_set_id=plan.rule_set_id,
        review=ReviewSchedule(
            review_every_days=policy.by_id(plan.rule_set_id).for_type(plan.plan_type).review_every_days,
            last_reviewed_at=plan.last_reviewed_at,
            next_review_due=plan.next_review_due,
        ),
        submitted_at=plan.submitted_at,
        activated_at=plan.activated_at,
        ended_at=plan.ended_at,
        end_reason=plan.end_reason,
        end_note=plan.end_note,
        starts_at=plan.starts_at,
        approval_due_at=plan.approval_due_at,
        ended_by=plan.ended_by,
        replaced_by_plan_id=plan.replaced_by_plan_id,
        replaced_plan_ids=[uuid.UUID(i) for i in plan.replaced_plan_ids or []],
        signatures=[signature_summary(s) for s in signatures if s.version_number == version.number],
        sign_off=sign_off_status(plan, version.number, content, signatures, policy),
        latest_approval=approval_out(approvals[-1]) if approvals else None,
        recent_check_ins=[check_in_out(c) for c in recent],
        recent_check_ins_paging=check_in_list(plan).paging(
            recent, total=total_check_ins, more=total_check_ins > len(recent), position_of=check_in_position
        ),
        alerts=plan_alerts(plan, now=now, policy=policy),
        version=plan.version,
        created_by=plan.created_by,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


def version_out(plan: SafetyPlan, version: SafetyPlanVersion, extras: PlanExtras) -> SafetyPlanVersionOut:
    return SafetyPlanVersionOut(
        plan_id=plan.id,
        case_id=plan.case_id,
        number=version.number,
        content=PlanContent.model_validate(version.content),
        content_hash=version.content_hash,
        change_note=version.change_note,
        changes=[VersionChange.model_validate(c) for c in version.changes or []],
        signatures=[
            signature_summary(s) for s in extras.signatures.get(plan.id, []) if s.version_number == version.number
        ],
        approvals=[approval_out(a) for a in extras.approvals.get(plan.id, []) if a.version_number == version.number],
        created_by=version.created_by,
        created_at=version.created_at,
    )


__all__ = ["IllegalTransition"]
