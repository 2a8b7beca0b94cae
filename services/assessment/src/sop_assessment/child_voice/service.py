"""Child-voice operations: record a session, change it (content or consent), attach drawings, and show
each record as the asking audience may see it."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.attachments.models import Attachment
from sop_assessment.attachments.store import AttachmentStore, sniff_image
from sop_assessment.child_voice import rules
from sop_assessment.child_voice.models import ChildVoiceKind, ChildVoiceRecord, SafetyHouseRuleLink, SafetyPlanRules
from sop_assessment.child_voice.schemas import (
    CONTENT_MODELS,
    AttachmentOut,
    ChildRef,
    ChildVoiceOut,
    ChildVoicePatch,
    Consent,
    RuleLinkOut,
    SharingJudgement,
    SharingJudgementOut,
)
from sop_assessment.models import platform
from sop_shared.db import utcnow
from sop_shared.events import Event
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.problems import InvalidInput, NotFound, Problem
from sop_shared.service import EventConsumer

SUBJECT = "sop.assessment.child_voice."


class ChildVoiceNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such child-voice record")


class AttachmentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such attachment")


class AttachmentTooLarge(Problem):
    status, slug, title = 413, "attachment-too-large", "The file is too large"


async def _event(session: AsyncSession, record: ChildVoiceRecord, event: str, **extra: Any) -> None:
    # The child's words never travel on the bus: ids, the kind and the consent only.
    await emit(
        session,
        platform,
        subject=SUBJECT + event,
        case_id=record.case_id,
        data={
            "record_id": str(record.id),
            "case_id": str(record.case_id),
            "kind": record.kind.value,
            "shared_with": list(record.shared_with),
            "judged_safe_for_family": judged_safe(record),
            "version": record.version,
            **extra,
        },
    )


async def removed_plan_rules(session: AsyncSession, case_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """The case's plan rules a later plan version removed, with that version (from the plans' events)."""
    rows = (await session.execute(select(SafetyPlanRules).where(col(SafetyPlanRules.case_id) == case_id))).scalars()
    return removed_rules_of(rows)


def removed_rules_of(rows: Iterable[SafetyPlanRules]) -> dict[uuid.UUID, int]:
    """`removed_plan_rules` of a case's plan rules already read."""
    return rules.removed_rules(_plan_rules(row) for row in rows)


def _plan_rules(row: SafetyPlanRules) -> rules.PlanRules:
    return rules.PlanRules(
        row.version_number,
        frozenset(uuid.UUID(r) for r in row.rule_ids),
        frozenset(uuid.UUID(r) for r in row.all_rule_ids),
    )


async def record_plan_version(session: AsyncSession, event: Event) -> None:
    """The consumer of the plans service's version events: keep each plan's newest rules (idempotent)."""
    data = event.data
    if "rule_ids" not in data or data.get("version_number") is None:
        return
    plan_id = uuid.UUID(str(data["plan_id"]))
    row = await session.get(SafetyPlanRules, plan_id)
    merged = rules.merge_plan_version(
        _plan_rules(row) if row is not None else None,
        int(data["version_number"]),
        (uuid.UUID(str(r)) for r in data["rule_ids"]),
    )
    if row is None:
        row = SafetyPlanRules(plan_id=plan_id, case_id=uuid.UUID(str(data["case_id"])), version_number=0)
        session.add(row)
    row.version_number = merged.version_number
    row.rule_ids = sorted(str(r) for r in merged.rule_ids)
    row.all_rule_ids = sorted(str(r) for r in merged.all_rule_ids)
    await session.flush()


async def _replace_links(session: AsyncSession, record: ChildVoiceRecord) -> None:
    links = rules.roof_rule_links(record.kind.value, record.content)
    errors = rules.removed_link_errors(links, await removed_plan_rules(session, record.case_id)) if links else []
    if errors:
        raise InvalidInput(errors)
    await session.execute(delete(SafetyHouseRuleLink).where(col(SafetyHouseRuleLink.record_id) == record.id))
    for position, rule_id in links:
        session.add(
            SafetyHouseRuleLink(
                record_id=record.id, case_id=record.case_id, roof_rule=position, safety_plan_rule_id=rule_id
            )
        )


def judged_safe(record: ChildVoiceRecord) -> bool:
    """Whether the worker recorded that sharing this record with the caregivers is safe."""
    return bool(record.sharing_judgement and record.sharing_judgement.get("safe"))


def _judgement(judgement: SharingJudgement, by: str) -> dict[str, Any]:
    return {**judgement.model_dump(mode="json"), "judged_by": by, "judged_at": utcnow().isoformat()}


async def create_record(session: AsyncSession, *, case_id: uuid.UUID, body: Any, created_by: str) -> ChildVoiceRecord:
    content = body.content.model_dump(mode="json")
    errors = rules.drawing_errors(body.kind, content, set())
    if errors:
        raise InvalidInput(errors)
    judgement = getattr(body, "sharing_judgement", None)
    record = ChildVoiceRecord(
        case_id=case_id,
        kind=ChildVoiceKind(body.kind),
        child_name=body.child.name,
        child_person_id=body.child.person_id,
        language=body.language,
        content=content,
        shared_with=[a.value for a in body.consent.shared_with],
        consent_note=body.consent.note,
        sharing_judgement=_judgement(judgement, created_by) if judgement is not None else None,
        created_by=created_by,
    )
    session.add(record)
    await session.flush()
    await _replace_links(session, record)
    await _event(session, record, "created")
    return record


async def get_record(session: AsyncSession, record_id: uuid.UUID) -> ChildVoiceRecord:
    record = await session.get(ChildVoiceRecord, record_id)
    if record is None:
        raise ChildVoiceNotFound()
    return record


async def list_records(
    session: AsyncSession, *, case_id: uuid.UUID, page: PageRequest, kind: ChildVoiceKind | None = None
) -> tuple[list[ChildVoiceRecord], str | None]:
    query = select(ChildVoiceRecord).where(col(ChildVoiceRecord.case_id) == case_id)
    if kind is not None:
        query = query.where(col(ChildVoiceRecord.kind) == kind)
    rows = list((await session.execute(page.apply(query, col(ChildVoiceRecord.id)))).scalars())
    return page.page(rows)


async def _attachment_ids(session: AsyncSession, record_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        (await session.execute(select(col(Attachment.id)).where(col(Attachment.record_id) == record_id))).scalars()
    )


async def update_record(
    session: AsyncSession, record: ChildVoiceRecord, body: ChildVoicePatch, *, by: str
) -> ChildVoiceRecord:
    """Change content, consent, language or the worker's sharing judgement (Three Houses only). New content
    without a new judgement clears the earlier one: the worker judged those words, not these."""
    if body.sharing_judgement is not None and record.kind != ChildVoiceKind.three_houses:
        raise InvalidInput.field("sharing_judgement", "only a Three Houses record needs the worker's judgement")
    changes: dict[str, Any] = {}
    if body.content is not None:
        model = CONTENT_MODELS[record.kind]
        try:
            content = TypeAdapter(model).validate_python(body.content).model_dump(mode="json")
        except ValidationError as exc:
            raise InvalidInput(
                [{"field": ".".join(["content", *map(str, e["loc"])]), "message": e["msg"]} for e in exc.errors()]
            ) from None
        errors = rules.drawing_errors(record.kind.value, content, await _attachment_ids(session, record.id))
        if errors:
            raise InvalidInput(errors)
        changes["content"] = content
    if body.consent is not None:
        changes["shared_with"] = [a.value for a in body.consent.shared_with]
        changes["consent_note"] = body.consent.note
    if body.language is not None:
        changes["language"] = body.language
    if body.sharing_judgement is not None:
        changes["sharing_judgement"] = _judgement(body.sharing_judgement, by)
    elif "content" in changes and changes["content"] != record.content:
        changes["sharing_judgement"] = None
    for name, value in changes.items():
        setattr(record, name, value)
    record.version += 1
    record.updated_at = utcnow()
    if "content" in changes:
        await _replace_links(session, record)
    await _event(session, record, "updated", consent_changed=body.consent is not None)
    return record


async def add_attachment(
    session: AsyncSession,
    store: AttachmentStore,
    record: ChildVoiceRecord,
    *,
    data: bytes,
    declared_type: str,
    max_bytes: int,
    created_by: str,
) -> Attachment:
    """Keep a drawing: PNG or JPEG by its magic bytes (the declared type must agree), at most max_bytes.
    The row is written first and the bytes stored before the transaction commits, so a failed store
    writes nothing."""
    if len(data) > max_bytes:
        raise AttachmentTooLarge(f"a drawing may be at most {max_bytes} bytes")
    if not data:
        raise InvalidInput.field("body", "the file is empty")
    actual = sniff_image(data)
    if actual is None:
        raise InvalidInput.field("body", "only PNG and JPEG images are accepted")
    if declared_type.split(";")[0].strip().lower() != actual:
        raise InvalidInput.field("Content-Type", f"the file is {actual}, not {declared_type}")
    attachment = Attachment(
        case_id=record.case_id,
        record_id=record.id,
        content_type=actual,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key="",
        created_by=created_by,
    )
    attachment.storage_key = f"{record.case_id}/{attachment.id}"
    session.add(attachment)
    await session.flush()
    await store.put(attachment.storage_key, data, actual)
    await _event(session, record, "attachment_added", attachment_id=str(attachment.id))
    return attachment


async def get_attachment(session: AsyncSession, record: ChildVoiceRecord, attachment_id: uuid.UUID) -> Attachment:
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.record_id != record.id:
        raise AttachmentNotFound()
    return attachment


def may_see_record(record: ChildVoiceRecord, audience: Audience, reader: uuid.UUID | None = None) -> bool:
    """The policy table's answer for this record (`sop_shared.policy.may_see_child_voice`): `reader` is a
    member's person (the token's), for the adults' explanation its caregivers wrote or approved."""
    return rules.may_see_content(
        record.kind.value,
        audience,
        shared_with=record.shared_with,
        judged_safe=judged_safe(record),
        content=record.content,
        reader=reader,
    )


async def record_out(
    session: AsyncSession, record: ChildVoiceRecord, audience: Audience, reader: uuid.UUID | None = None
) -> ChildVoiceOut:
    """The record as `audience` (and `reader`, a member's person) may see it: all of it, or only that it exists."""
    if not may_see_record(record, audience, reader):
        return restricted_record(record)
    attachments = list(
        (
            await session.execute(
                select(Attachment).where(col(Attachment.record_id) == record.id).order_by(col(Attachment.id))
            )
        ).scalars()
    )
    links = list(
        (
            await session.execute(
                select(SafetyHouseRuleLink)
                .where(col(SafetyHouseRuleLink.record_id) == record.id)
                .order_by(col(SafetyHouseRuleLink.roof_rule))
            )
        ).scalars()
    )
    removed = await removed_plan_rules(session, record.case_id) if links else {}
    return record_shown(record, audience, attachments=attachments, links=links, removed=removed)


def record_shown(
    record: ChildVoiceRecord,
    audience: Audience,
    *,
    attachments: Sequence[Attachment],
    links: Sequence[SafetyHouseRuleLink],
    removed: Mapping[uuid.UUID, int],
) -> ChildVoiceOut:
    """A record `audience` may see whole (`may_see_record`), with its attachments and Safety House rule links
    (oldest first, by roof rule) and the case's plan rules a later version removed, already read."""
    return ChildVoiceOut(
        id=record.id,
        case_id=record.case_id,
        kind=record.kind,
        restricted=False,
        created_at=record.created_at,
        child=ChildRef(name=record.child_name, person_id=record.child_person_id),
        language=record.language,
        content=record.content,
        consent=Consent(shared_with=record.shared_with, note=record.consent_note),
        sharing_judgement=SharingJudgementOut.model_validate(record.sharing_judgement)
        if record.sharing_judgement is not None and may_see_unshared(audience)
        else None,
        attachments=[AttachmentOut.model_validate(a, from_attributes=True) for a in attachments],
        rule_links=[
            RuleLinkOut(
                roof_rule=link.roof_rule,
                safety_plan_rule_id=link.safety_plan_rule_id,
                in_plan=link.safety_plan_rule_id not in removed,
                removed_in_version=removed.get(link.safety_plan_rule_id),
            )
            for link in links
        ],
        created_by=record.created_by,
        version=record.version,
        updated_at=record.updated_at,
    )


def restricted_record(record: ChildVoiceRecord) -> ChildVoiceOut:
    """A record `audience` may not see: only that it exists."""
    return ChildVoiceOut(
        id=record.id, case_id=record.case_id, kind=record.kind, restricted=True, created_at=record.created_at
    )


PLAN_VERSION_EVENTS = ("sop.plans.safety_plan.created", "sop.plans.safety_plan.version_created")


async def _on_plan_version(app: Any, session: AsyncSession, event: Event) -> None:
    await record_plan_version(session, event)


# The plans' version events, so a Safety House rule linked to a rule a later plan version removed is flagged.
PLAN_RULE_CONSUMERS = tuple(
    EventConsumer(subject, f"assessment-safety-house-plan-rules-{subject.rsplit('.', 1)[-1]}", _on_plan_version)
    for subject in PLAN_VERSION_EVENTS
)
