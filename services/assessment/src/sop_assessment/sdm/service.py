"""SDM assessment operations: drafts, completion (the server scores), overrides, supervisor approval and
amendment. Each write emits its outbox event in the same transaction.

A discretionary override or a priority downgrade waits in the supervisor's one approval queue
(`sop_assessment.supervision`): asking files the queue item, in the same transaction; it is decided either here
(`POST …/sdm-assessments/{id}/approve`, which closes the item) or in the queue (`…/approvals/{id}/decision`,
whose decision handler below applies it here). Both doors reach the same state, and the queue's events
(`sop.assessment.approval.requested` / `…decided`) are the only approval events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.models import platform
from sop_assessment.sdm import rules
from sop_assessment.sdm.instrument import Catalog, Instrument, LoadedInstrument, load_catalog
from sop_assessment.sdm.models import SdmAssessment, SdmStatus
from sop_assessment.sdm.schemas import (
    ApprovalDecision,
    ApprovalIn,
    InstrumentRef,
    OverrideIn,
    OverrideKind,
    SdmAssessmentIn,
    SdmAssessmentOut,
    SdmAssessmentPatch,
)
from sop_assessment.supervision.models import Approval, ApprovalKind, ApprovalStatus
from sop_assessment.supervision.service import close_approval, decision_handler, request_approval
from sop_shared.db import utcnow
from sop_shared.ids import new_id
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.problems import Conflict, Forbidden, InvalidInput, NotFound

SUBJECT = "sop.assessment.sdm_assessment."
SAFETY_PLAN_REQUIRED = "sop.assessment.safety_plan.required"
SERVER_ANCHORS = frozenset({"completed"})  # set by the server when the assessment is completed


class SdmAssessmentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such SDM assessment")


class NotADraft(Conflict):
    slug, title = "not-a-draft", "Only a draft can change"

    def __init__(self, status: SdmStatus) -> None:
        super().__init__(
            f"this assessment is {status.value}: only a draft's answers can change; amend it to start a new revision",
            status_now=status.value,
        )


class AssessmentFrozen(Conflict):
    slug, title = "assessment-frozen", "An approved assessment cannot change"

    def __init__(self) -> None:
        super().__init__("this assessment was approved and is frozen; amend it to start a new revision")


class WrongState(Conflict):
    slug, title = "wrong-state", "Not possible in the assessment's current state"


class InstrumentChanged(Conflict):
    slug, title = "instrument-changed", "The instrument file changed since this assessment was scored"


class OwnApproval(Forbidden):
    slug, title = "own-approval", "Nobody approves their own override"


class OverrideNotAllowed(InvalidInput):
    def __init__(self, field: str, message: str) -> None:
        super().__init__([{"field": field, "message": message}])


def catalog_of(app: Any) -> Catalog:
    """The instruments, loaded once per app: packaged ones plus SOP_ASSESSMENT_INSTRUMENTS_DIR."""
    state = app.state
    catalog = getattr(state, "sdm_catalog", None)
    if catalog is None:
        catalog = load_catalog(getattr(state.settings, "instruments_dir", None))
        state.sdm_catalog = catalog
    return catalog


def holidays_of(app: Any) -> list[date]:
    return list(getattr(app.state.settings, "holidays", []))


def instrument_of(catalog: Catalog, key: str, version: str, *, sha256: str | None = None) -> LoadedInstrument:
    loaded = catalog.get(key, version)
    if loaded is None:
        raise InstrumentChanged(f"instrument {key} version {version} is no longer loaded")
    if sha256 is not None and loaded.sha256 != sha256:
        raise InstrumentChanged(
            f"instrument {key} version {version} changed since this assessment was scored; "
            "a changed instrument needs a new version number"
        )
    return loaded


def _anchor_errors(anchors: dict[str, Any], prefix: str = "anchors") -> list[dict[str, str]]:
    return [
        {"field": f"{prefix}.{name}", "message": "set by the server when the assessment is completed"}
        for name in anchors
        if name in SERVER_ANCHORS
    ]


def _type_errors(instrument: Instrument, assessment_type: str | None) -> list[dict[str, str]]:
    if assessment_type is None:
        return []
    if assessment_type not in instrument.assessment_types:
        allowed = list(instrument.assessment_types) or "none"
        return [{"field": "assessment_type", "message": f"this instrument's types are {allowed}"}]
    return []


def _children(children: Iterable[Any]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in children]


def _anchors(anchors: dict[str, datetime]) -> dict[str, str]:
    return {k: v.isoformat() for k, v in anchors.items()}


def _parsed_anchors(anchors: dict[str, str]) -> dict[str, datetime]:
    return {k: datetime.fromisoformat(v) for k, v in anchors.items()}


def _touch(assessment: SdmAssessment) -> None:
    assessment.version += 1
    assessment.updated_at = utcnow()


async def _event(session: AsyncSession, assessment: SdmAssessment, event: str, **extra: Any) -> None:
    # Only ids, codes and labels travel on the bus: answers and narratives stay behind the case's access rules.
    await emit(
        session,
        platform,
        subject=SUBJECT + event,
        case_id=assessment.case_id,
        data={
            "sdm_assessment_id": str(assessment.id),
            "case_id": str(assessment.case_id),
            "chain_id": str(assessment.chain_id),
            "revision": assessment.revision,
            "instrument_key": assessment.instrument_key,
            "instrument_version": assessment.instrument_version,
            "status": assessment.status.value,
            "final_level": assessment.final_level,
            "version": assessment.version,
            **extra,
        },
    )


async def create_assessment(
    session: AsyncSession,
    *,
    catalog: Catalog,
    case_id: uuid.UUID,
    body: SdmAssessmentIn,
    created_by: str,
    holidays: Iterable[date],
) -> SdmAssessment:
    loaded = catalog.get(body.instrument_key, body.instrument_version)
    if loaded is None:
        raise InvalidInput(
            [
                {
                    "field": "instrument_version"
                    if any(k == body.instrument_key for k, _ in catalog.by_key)
                    else "instrument_key",
                    "message": "no such instrument version; see GET /v1/instruments",
                }
            ]
        )
    instrument = loaded.instrument
    children = _children(body.children)
    errors = (
        _type_errors(instrument, body.assessment_type)
        + _anchor_errors(body.anchors)
        + rules.answer_errors(instrument, body.answers, children, complete=False)
    )
    if errors:
        raise InvalidInput(errors)
    assessment_id = new_id()
    assessment = SdmAssessment(
        id=assessment_id,
        chain_id=assessment_id,
        case_id=case_id,
        instrument_key=instrument.key,
        instrument_version=instrument.version,
        assessment_type=body.assessment_type
        or (instrument.assessment_types[0] if instrument.assessment_types else None),
        answers=dict(body.answers),
        children=children,
        anchors=_anchors(body.anchors),
        created_by=created_by,
        due=rules.due_dates(instrument, body.anchors, holidays),
    )
    session.add(assessment)
    await session.flush()
    await _event(session, assessment, "created")
    return assessment


async def list_assessments(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    page: PageRequest,
    instrument_key: str | None = None,
    status: SdmStatus | None = None,
) -> tuple[list[SdmAssessment], str | None]:
    query = select(SdmAssessment).where(col(SdmAssessment.case_id) == case_id)
    if instrument_key is not None:
        query = query.where(col(SdmAssessment.instrument_key) == instrument_key)
    if status is not None:
        query = query.where(col(SdmAssessment.status) == status)
    rows = list((await session.execute(page.apply(query, col(SdmAssessment.id)))).scalars())
    return page.page(rows)


async def get_assessment(session: AsyncSession, assessment_id: uuid.UUID) -> SdmAssessment:
    assessment = await session.get(SdmAssessment, assessment_id)
    if assessment is None:
        raise SdmAssessmentNotFound()
    return assessment


def _require_draft(assessment: SdmAssessment) -> None:
    if assessment.status == SdmStatus.approved:
        raise AssessmentFrozen()
    if assessment.status != SdmStatus.draft:
        raise NotADraft(assessment.status)


async def update_draft(
    session: AsyncSession,
    assessment: SdmAssessment,
    *,
    catalog: Catalog,
    body: SdmAssessmentPatch,
    holidays: Iterable[date],
) -> SdmAssessment:
    _require_draft(assessment)
    instrument = instrument_of(catalog, assessment.instrument_key, assessment.instrument_version).instrument
    answers = dict(assessment.answers)
    for code, value in (body.answers or {}).items():
        if value is None:
            answers.pop(code, None)
        else:
            answers[code] = value
    children = _children(body.children) if body.children is not None else assessment.children
    fields = body.model_fields_set
    assessment_type = body.assessment_type if "assessment_type" in fields else assessment.assessment_type
    errors = (
        _type_errors(instrument, assessment_type)
        + _anchor_errors(body.anchors or {})
        + rules.answer_errors(instrument, answers, children, complete=False)
    )
    if errors:
        raise InvalidInput(errors)
    assessment.answers, assessment.children, assessment.assessment_type = answers, children, assessment_type
    if body.anchors is not None:
        assessment.anchors = _anchors(body.anchors)
    assessment.due = rules.due_dates(instrument, _parsed_anchors(assessment.anchors), holidays)
    _touch(assessment)
    await _event(session, assessment, "updated")
    return assessment


def _rescore(
    instrument: Instrument,
    assessment: SdmAssessment,
    holidays: Iterable[date],
    *,
    final_level: str | None = None,
    adjusted: dict[str, str] | None = None,
) -> None:
    results = rules.score(
        instrument, assessment.answers, assessment.children, final_level=final_level, adjusted=adjusted
    )
    assessment.results = results
    assessment.scored_level, assessment.final_level = results["scored_level"], results["final_level"]
    assessment.due = rules.due_dates(
        instrument, _parsed_anchors(assessment.anchors), holidays, answers=assessment.answers, results=results
    )


async def complete(
    session: AsyncSession,
    assessment: SdmAssessment,
    *,
    catalog: Catalog,
    by: str,
    holidays: Iterable[date],
    supervisor_review: str | None = None,
) -> SdmAssessment:
    """Score the answers on the server and keep the result with the instrument key, version and file hash.
    Refused (422, nothing written) when required answers are missing or the instrument's checks fail, e.g.
    an unsafe child without a protective-placement intervention; when a protective intervention has no threat
    it answers, unless a supervisor completes it with `supervisor_review` (the caller checked the scope; kept in
    `approvals`); and when a screened-in report has no response priority with an initiation deadline."""
    _require_draft(assessment)
    loaded = instrument_of(catalog, assessment.instrument_key, assessment.instrument_version)
    instrument = loaded.instrument
    errors = rules.answer_errors(instrument, assessment.answers, assessment.children, complete=True)
    if errors:
        raise InvalidInput(errors)
    try:
        results = rules.score(instrument, assessment.answers, assessment.children)
    except rules.NoOutcome as exc:
        raise InvalidInput.field("answers", str(exc)) from exc
    now = utcnow()
    anchors = {**assessment.anchors, "completed": now.isoformat()}
    due = rules.due_dates(instrument, _parsed_anchors(anchors), holidays, answers=assessment.answers, results=results)
    reviewed = rules.protective_intervention_errors(instrument, assessment.answers, assessment.children)
    errors = rules.check_errors(instrument, assessment.answers, results)
    errors += reviewed if supervisor_review is None else []
    errors += rules.response_priority_errors(instrument, results, due)
    if errors:
        raise InvalidInput(errors)
    if reviewed and supervisor_review is not None:
        # the supervisor's own review, kept with the assessment's other decisions
        review = {
            "decision": ApprovalDecision.approve.value,
            "comment": supervisor_review,
            "decided_by": by,
            "decided_at": now.isoformat(),
            "subject": "protective_intervention_review",
            "reviewed": [e["message"] for e in reviewed],
        }
        assessment.approvals = [*assessment.approvals, review]
    assessment.anchors = anchors
    _rescore(instrument, assessment, holidays)
    assessment.instrument_sha256 = loaded.sha256
    assessment.status, assessment.completed_by, assessment.completed_at = SdmStatus.completed, by, now
    _touch(assessment)
    decisions = {k: v["final"] for k, v in (assessment.results or {}).get("decisions", {}).items()}
    await _event(
        session,
        assessment,
        "completed",
        decisions=decisions,
        scored_level=assessment.scored_level,
        completed_by=by,
        completed_at=now.isoformat(),
        supervisor_reviewed=bool(reviewed and supervisor_review is not None),
        due={key: rule.get("due") for key, rule in assessment.due.items()},  # on time? (practice fidelity)
    )
    if "safety_plan_required" in (assessment.results or {}).get("signals", []):
        # The plans service starts (or asks the worker to start) a safety plan linked to this assessment.
        await emit(
            session,
            platform,
            subject=SAFETY_PLAN_REQUIRED,
            case_id=assessment.case_id,
            data={
                "sdm_assessment_id": str(assessment.id),
                "case_id": str(assessment.case_id),
                "instrument_key": assessment.instrument_key,
                "instrument_version": assessment.instrument_version,
                "decisions": decisions,
                "threat_codes": rules.threats_present(instrument, assessment.answers, assessment.children),
                "children": [
                    {
                        "person_id": c.get("person_id"),
                        "outcomes": {
                            k: next((x["outcome"] for x in v["children"] if x["name"] == c.get("name")), None)
                            for k, v in (assessment.results or {})["decisions"].items()
                        },
                    }
                    for c in assessment.children
                ],
            },
        )
    return assessment


async def request_override(
    session: AsyncSession,
    assessment: SdmAssessment,
    *,
    catalog: Catalog,
    body: OverrideIn,
    by: str,
    holidays: Iterable[date],
) -> SdmAssessment:
    """Policy override: the policy level at once. Discretionary override (one level up) and downgrade (a less
    urgent priority): pending a supervisor's approval, announced to the approval queue."""
    if assessment.status == SdmStatus.approved:
        raise AssessmentFrozen()
    if assessment.status != SdmStatus.completed:
        raise WrongState(
            "complete the assessment before overriding it"
            if assessment.status == SdmStatus.draft
            else "an override is already waiting for a supervisor"
        )
    if assessment.override and assessment.override.get("status") in ("applied", "pending"):
        raise WrongState("this revision already has an override; amend it to start again")
    instrument = instrument_of(
        catalog, assessment.instrument_key, assessment.instrument_version, sha256=assessment.instrument_sha256
    ).instrument
    now = utcnow().isoformat()
    try:
        if body.kind == OverrideKind.policy:
            target = rules.policy_override_level(instrument, assessment.scored_level, body.policy_reasons)
        elif body.kind == OverrideKind.discretionary:
            target = rules.discretionary_override_level(instrument, assessment.scored_level, body.to_level)
        else:
            key = instrument.downgrade.decision if instrument.downgrade else ""
            current = (assessment.results or {}).get("decisions", {}).get(key, {}).get("final", "")
            target = rules.downgrade_outcome(instrument, current, body.to_level)
            _refuse_a_downgrade_to_no_response(instrument, assessment, key, target, holidays)
    except rules.OverrideRefused as exc:
        raise OverrideNotAllowed(exc.field, exc.message) from exc
    override: dict[str, Any] = {
        "kind": body.kind.value,
        "policy_reasons": list(body.policy_reasons),
        "reasons": body.reasons,
        "requested_by": by,
        "requested_at": now,
    }
    if body.kind == OverrideKind.downgrade:
        assert instrument.downgrade is not None
        key = instrument.downgrade.decision
        override.update(
            {
                "decision": key,
                "from": (assessment.results or {})["decisions"][key]["final"],
                "to": target,
                "status": "pending",
            }
        )
    else:
        override.update(
            {
                "from": assessment.scored_level,
                "to": target,
                "status": "applied" if body.kind == OverrideKind.policy else "pending",
            }
        )
    assessment.override = override
    if body.kind == OverrideKind.policy:
        _rescore(instrument, assessment, holidays, final_level=target)
    else:
        assessment.status = SdmStatus.pending_approval
    _touch(assessment)
    await _event(session, assessment, "overridden", override_kind=body.kind.value, to=target)
    if override["status"] == "pending":
        await request_approval(
            session,
            case_id=assessment.case_id,
            kind=_approval_kind(body.kind.value),
            subject_id=assessment.id,
            subject_version=assessment.revision,
            requested_by=by,
            approver_subject=body.supervisor,
            summary=_approval_summary(instrument, override),
        )
    return assessment


def _refuse_a_downgrade_to_no_response(
    instrument: Instrument, assessment: SdmAssessment, key: str, target: str, holidays: Iterable[date]
) -> None:
    """A downgrade keeps a screened-in report's response priority and deadline (`response_priority_errors`)."""
    results = rules.score(
        instrument, assessment.answers, assessment.children, final_level=assessment.final_level, adjusted={key: target}
    )
    due = rules.due_dates(
        instrument, _parsed_anchors(assessment.anchors), holidays, answers=assessment.answers, results=results
    )
    errors = rules.response_priority_errors(instrument, results, due)
    if errors:
        raise rules.OverrideRefused("to_level", errors[0]["message"])


def _approval_kind(override_kind: str) -> ApprovalKind:
    return (
        ApprovalKind.priority_downgrade if override_kind == OverrideKind.downgrade.value else ApprovalKind.sdm_override
    )


def _approval_summary(instrument: Instrument, override: dict[str, Any]) -> str:
    what = (
        f"lower the response priority from {override['from']} to {override['to']}"
        if override["kind"] == OverrideKind.downgrade.value
        else f"raise the risk level from {override['from']} to {override['to']} (discretionary override)"
    )
    return f"{instrument.title}: {what}. Reasons: {override.get('reasons') or '-'}"[:1000]


async def decide(
    session: AsyncSession,
    assessment: SdmAssessment,
    *,
    catalog: Catalog,
    body: ApprovalIn,
    by: str,
    holidays: Iterable[date],
) -> SdmAssessment:
    """A supervisor approves (the result is then frozen) or returns a pending override for edits (the scored
    result stands). Approving a completed assessment without a pending override signs it off and freezes it.
    The override's item in the approval queue is closed with the same decision."""
    pending = _check_decidable(assessment, body.decision, by)
    await _apply_decision(
        session, assessment, catalog=catalog, decision=body.decision, comment=body.comment, by=by, holidays=holidays
    )
    if pending is not None:
        await close_approval(
            session,
            case_id=assessment.case_id,
            kind=_approval_kind(pending["kind"]),
            subject_id=assessment.id,
            decision="approved" if body.decision == ApprovalDecision.approve else "returned",
            decided_by=by,
            comment=body.comment,
        )
    return assessment


def _check_decidable(assessment: SdmAssessment, decision: ApprovalDecision, by: str) -> dict[str, Any] | None:
    """The pending override (None: a sign-off), if this decision may be taken by `by` now."""
    if assessment.status == SdmStatus.approved:
        raise AssessmentFrozen()
    if assessment.status == SdmStatus.draft:
        raise WrongState("a draft has nothing to approve; complete it first")
    pending = assessment.override if assessment.status == SdmStatus.pending_approval else None
    if pending is None and decision == ApprovalDecision.return_for_edits:
        raise WrongState("nothing waits for approval here; to change a completed assessment, amend it")
    if pending is not None and pending.get("requested_by") == by:
        raise OwnApproval("a supervisor other than the one who asked for the override decides it")
    return pending


async def _apply_decision(
    session: AsyncSession,
    assessment: SdmAssessment,
    *,
    catalog: Catalog,
    decision: ApprovalDecision,
    comment: str | None,
    by: str,
    holidays: Iterable[date],
) -> None:
    pending = assessment.override if assessment.status == SdmStatus.pending_approval else None
    instrument = instrument_of(
        catalog, assessment.instrument_key, assessment.instrument_version, sha256=assessment.instrument_sha256
    ).instrument
    now = utcnow()
    entry = {
        "decision": decision.value,
        "comment": comment,
        "decided_by": by,
        "decided_at": now.isoformat(),
        "subject": pending["kind"] if pending else "sign_off",
    }
    assessment.approvals = [*assessment.approvals, entry]
    if pending is not None:
        assessment.override = {
            **pending,
            "status": "approved" if decision == ApprovalDecision.approve else "returned",
            "decided_by": by,
            "decided_at": now.isoformat(),
        }
        if decision == ApprovalDecision.approve:
            if pending["kind"] == OverrideKind.downgrade.value:
                _rescore(instrument, assessment, holidays, adjusted={pending["decision"]: pending["to"]})
            else:
                _rescore(instrument, assessment, holidays, final_level=pending["to"])
    # (a policy override stays applied; signing off freezes it)
    if decision == ApprovalDecision.approve:
        assessment.status, assessment.approved_by, assessment.approved_at = SdmStatus.approved, by, now
    else:
        assessment.status = SdmStatus.completed
    _touch(assessment)
    session.add(assessment)
    event = "approved" if decision == ApprovalDecision.approve else "returned"
    await _event(session, assessment, event, decided_by=by)


@decision_handler(ApprovalKind.sdm_override)
@decision_handler(ApprovalKind.priority_downgrade)
async def apply_queue_decision(session: AsyncSession, approval: Approval, app: Any) -> None:
    """A decision taken in the approval queue reaches the assessment, in the queue's transaction: approved →
    the override's level (or priority) is final and the assessment frozen; returned → back to the worker,
    the scored result standing. Refused (nothing stored) unless exactly this override is still pending."""
    assessment = await session.get(SdmAssessment, approval.subject_id)
    if assessment is None or assessment.case_id != approval.case_id:
        raise WrongState("no SDM assessment of this case is behind this approval")
    pending = assessment.override if assessment.status == SdmStatus.pending_approval else None
    if pending is None or _approval_kind(pending["kind"]) != approval.kind:
        raise WrongState(f"this assessment is {assessment.status.value}: no {approval.kind.value} waits on it")
    assert approval.decided_by is not None
    decision = (
        ApprovalDecision.approve if approval.status == ApprovalStatus.approved else ApprovalDecision.return_for_edits
    )
    _check_decidable(assessment, decision, approval.decided_by)
    await _apply_decision(
        session,
        assessment,
        catalog=catalog_of(app),
        decision=decision,
        comment=approval.decision_comment,
        by=approval.decided_by,
        holidays=holidays_of(app),
    )


async def amend(session: AsyncSession, assessment: SdmAssessment, *, by: str) -> SdmAssessment:
    """A new draft revision with the same answers; the amended revision stays exactly as it was."""
    if assessment.status == SdmStatus.draft:
        raise WrongState("a draft can be edited directly; amend a completed or approved assessment")
    if assessment.status == SdmStatus.pending_approval:
        raise WrongState("an override waits for a supervisor; it is decided before the assessment is amended")
    latest = (
        await session.execute(
            select(func.max(SdmAssessment.revision)).where(col(SdmAssessment.chain_id) == assessment.chain_id)
        )
    ).scalar_one()
    if latest != assessment.revision:
        raise WrongState(f"revision {latest} of this assessment exists; amend the latest revision")
    amended = SdmAssessment(
        case_id=assessment.case_id,
        chain_id=assessment.chain_id,
        revision=assessment.revision + 1,
        amends_id=assessment.id,
        instrument_key=assessment.instrument_key,
        instrument_version=assessment.instrument_version,
        assessment_type=assessment.assessment_type,
        answers=dict(assessment.answers),
        children=list(assessment.children),
        anchors={k: v for k, v in assessment.anchors.items() if k not in SERVER_ANCHORS},
        due={},
        created_by=by,
    )
    session.add(amended)
    await session.flush()
    await _event(session, amended, "amended", amends_id=str(assessment.id))
    return amended


def assessment_out(assessment: SdmAssessment, catalog: Catalog) -> SdmAssessmentOut:
    loaded = catalog.get(assessment.instrument_key, assessment.instrument_version)
    ref = InstrumentRef(
        key=assessment.instrument_key,
        version=assessment.instrument_version,
        sha256=assessment.instrument_sha256 or (loaded.sha256 if loaded else None),
        title=loaded.instrument.title if loaded else None,
        illustrative=loaded.instrument.illustrative if loaded else None,
    )
    values = assessment.model_dump()
    return SdmAssessmentOut.model_validate({**values, "instrument": ref})
