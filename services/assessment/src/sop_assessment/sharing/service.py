"""Marking a statement, a safety goal or a map's current version ready to share, each with its event.

Marking does not change the words, so it does not change the record's version (its translations stay
current); it needs the version the worker read (If-Match), so words changed since are never shared unseen."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from sop_assessment.goals.models import SafetyGoal
from sop_assessment.goals.rules import goal_check
from sop_assessment.maps.models import AssessmentMap
from sop_assessment.maps.rules import map_findings
from sop_assessment.maps.service import get_version
from sop_assessment.models import Statement, StatementStatus, platform
from sop_assessment.statements.rules import statement_check
from sop_shared.concurrency import check_version
from sop_shared.db import utcnow
from sop_shared.outbox import emit
from sop_shared.plain_language import LanguageFinding
from sop_shared.problems import Conflict
from sop_shared.sharing import findings_to_fix, mark_ready_to_share

STATEMENT_SHARED = "sop.assessment.statement.shared"
GOAL_SHARED = "sop.assessment.safety_goal.shared"
MAP_SHARED = "sop.assessment.map.shared"


class WithdrawnNotShared(Conflict):
    slug, title = "withdrawn-not-shared", "A withdrawn record is never shared"


async def _share(
    session: AsyncSession,
    record: Any,
    *,
    version: int,
    expected_version: int,
    findings: list[LanguageFinding],
    reason: str | None,
    by: str,
    subject: str,
    key: str,
) -> None:
    """The one way a record is shared: the version read, never a withdrawn record, the check's findings (or a
    reason), then the event saying who shared what."""
    check_version(version, expected_version)
    if str(getattr(record, "status", "")) == StatementStatus.withdrawn.value:
        raise WithdrawnNotShared()
    mark_ready_to_share(record, findings=findings, reason=reason, by=by, now=utcnow())
    session.add(record)
    await session.flush()
    data = {
        key: str(record.id),
        "case_id": str(record.case_id),
        "version": version,
        "shared_by": record.shared_by,
        "with_reason": record.share_reason is not None,
        "findings": sorted({f.code for f in findings_to_fix(findings)}),
    }
    await emit(session, platform, subject=subject, case_id=record.case_id, data=data)


async def share_statement(
    session: AsyncSession, statement: Statement, *, expected_version: int, reason: str | None, by: str
) -> Statement:
    findings = statement_check(
        kind=statement.kind, language=statement.language, text=statement.composed_text, values=statement.model_dump()
    ).findings
    await _share(
        session,
        statement,
        version=statement.version,
        expected_version=expected_version,
        findings=findings,
        reason=reason,
        by=by,
        subject=STATEMENT_SHARED,
        key="statement_id",
    )
    return statement


async def share_goal(
    session: AsyncSession, goal: SafetyGoal, *, expected_version: int, reason: str | None, by: str
) -> SafetyGoal:
    findings = goal_check(text=goal.composed_text, language=goal.language, values=goal.model_dump()).findings
    await _share(
        session,
        goal,
        version=goal.version,
        expected_version=expected_version,
        findings=findings,
        reason=reason,
        by=by,
        subject=GOAL_SHARED,
        key="safety_goal_id",
    )
    return goal


async def share_map(
    session: AsyncSession, the_map: AssessmentMap, *, expected_version: int, reason: str | None, by: str
) -> AssessmentMap:
    """Share the map's current version: the family reads it until a later version is shared. Its items' findings
    (the plain-language check of each) stand in the way unless a reason is given."""
    findings = map_findings((await get_version(session, the_map.id, the_map.current_version)).content)
    await _share(
        session,
        the_map,
        version=the_map.current_version,
        expected_version=expected_version,
        findings=findings,
        reason=reason,
        by=by,
        subject=MAP_SHARED,
        key="map_id",
    )
    the_map.shared_version = the_map.current_version
    session.add(the_map)
    await session.flush()
    return the_map
