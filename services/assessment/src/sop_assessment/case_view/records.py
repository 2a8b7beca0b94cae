"""What the case view reads of one case: one SQL statement per family of records (its statements, their
translations, goals, ratings, the latest map with its shown version, SDM revisions, the children's voices and
their attachments and rule links, trauma histories, the approvals waiting).

The statements are SQLAlchemy Core, built once here with the case as a bound parameter, so each read reuses
their compiled form; the rows become the same model objects the ORM would load (`model_construct`, no
validation, no identity map), so the view's redaction and output functions take them as they are. The same
SQL runs on PostgreSQL and SQLite. What the audience may see is decided afterwards, by the rules the window
reads apply in SQL (`shared_only`, `seen_by`), applied to the rows (`shown_to`, `seen_in`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import BindParameter, CursorResult, Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import configure_mappers

from sop_assessment.attachments.models import Attachment
from sop_assessment.child_voice.models import ChildVoiceRecord, SafetyHouseRuleLink, SafetyPlanRules
from sop_assessment.goals.models import SafetyGoal
from sop_assessment.maps.models import AssessmentMap, MapVersion
from sop_assessment.maps.service import MapVersionNotFound
from sop_assessment.models import Statement
from sop_assessment.ratings.models import ScaleRating
from sop_assessment.sdm.models import SdmAssessment
from sop_assessment.supervision.models import Approval, ApprovalStatus
from sop_assessment.translations.models import Translation
from sop_assessment.trauma.models import TraumaHistory
from sop_shared.db import table_of
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.sharing import shared_only

M = TypeVar("M")
CASE: BindParameter[uuid.UUID] = bindparam("case_id")
# The kinds of words the case view shows with their translations.
TRANSLATED = ("statement", "safety_goal", "map_item", "child_voice")
VERSION_CONTENT = "shown_version_content"
VERSION_FOUND = "shown_version_id"


def _of_case(model: type[Any], *order: str) -> Select[Any]:
    table = table_of(model)
    return select(table).where(table.c.case_id == CASE).order_by(*(table.c[name] for name in order))


def _latest_map(*, agency: bool) -> Select[Any]:
    """The case's most recently changed map the agency (or anyone else) may read, with the content of the
    version they read (`maps.service.latest_map` and `version_shown` in one statement)."""
    maps, versions = table_of(AssessmentMap), table_of(MapVersion)
    audience = Audience.staff if agency else Audience.family
    number = (
        maps.c.current_version
        if agency
        else func.coalesce(func.nullif(maps.c.shared_version, 0), maps.c.current_version)
    )
    return (
        select(maps, versions.c.content.label(VERSION_CONTENT), versions.c.id.label(VERSION_FOUND))
        .outerjoin(versions, and_(versions.c.map_id == maps.c.id, versions.c.number == number))
        .where(maps.c.case_id == CASE, *shared_only(maps.c, audience))
        .order_by(maps.c.updated_at.desc(), maps.c.id.desc())
        .limit(1)
    )


STATEMENTS = _of_case(Statement, "id")
TRANSLATIONS = _of_case(Translation, "id").where(table_of(Translation).c.record_kind.in_(TRANSLATED))
GOALS = _of_case(SafetyGoal, "id")
RATINGS = _of_case(ScaleRating, "id")
MAP_FOR_AGENCY, MAP_FOR_OTHERS = _latest_map(agency=True), _latest_map(agency=False)
SDM = _of_case(SdmAssessment, "id")
CHILD_VOICE = _of_case(ChildVoiceRecord, "id")
ATTACHMENTS = _of_case(Attachment, "id")
RULE_LINKS = _of_case(SafetyHouseRuleLink, "roof_rule")
PLAN_RULES = _of_case(SafetyPlanRules)
TRAUMA = _of_case(TraumaHistory, "id")
_approvals = table_of(Approval)
PENDING = select(func.count()).where(_approvals.c.case_id == CASE, _approvals.c.status == ApprovalStatus.pending.value)


@dataclass
class CaseRecords:
    """A case's records the view shows, each family oldest first (rule links by roof rule)."""

    statements: list[Statement]
    translations: dict[str, dict[uuid.UUID, list[Translation]]]
    goals: list[SafetyGoal]
    ratings: list[ScaleRating]
    the_map: AssessmentMap | None
    map_content: dict[str, Any] | None
    sdm: list[SdmAssessment]
    child_voice: list[ChildVoiceRecord]
    attachments: dict[uuid.UUID, list[Attachment]]
    rule_links: dict[uuid.UUID, list[SafetyHouseRuleLink]]
    plan_rules: list[SafetyPlanRules]
    trauma: list[TraumaHistory] | None
    pending_approvals: int | None


async def _rows(conn: AsyncConnection, query: Select[Any], case_id: uuid.UUID, model: type[M]) -> list[M]:
    result: CursorResult[Any] = await conn.execute(query, {"case_id": case_id})
    return [model.model_construct(**row) for row in result.mappings()]  # type: ignore[attr-defined]


def _by_record(rows: Sequence[Any]) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        found.setdefault(row.record_id, []).append(row)
    return found


async def case_records(
    session: AsyncSession,
    case_id: uuid.UUID,
    audience: Audience,
    *,
    shown_whole: Callable[[ChildVoiceRecord], bool],
    internal: bool,
) -> CaseRecords:
    """The case's records for a view by `audience`: the attachments and rule links only when a record of the
    children's voices is shown whole (`shown_whole`), the trauma histories and the approvals waiting only for
    the agency (`internal`)."""
    configure_mappers()  # model_construct skips the ORM's own check that the mappers are ready
    conn = await session.connection()
    statements = await _rows(conn, STATEMENTS, case_id, Statement)
    translations: dict[str, dict[uuid.UUID, list[Translation]]] = {kind: {} for kind in TRANSLATED}
    for row in await _rows(conn, TRANSLATIONS, case_id, Translation):
        translations[row.record_kind].setdefault(row.record_id, []).append(row)
    goals = await _rows(conn, GOALS, case_id, SafetyGoal)
    ratings = await _rows(conn, RATINGS, case_id, ScaleRating)
    found = (
        (await conn.execute(MAP_FOR_AGENCY if may_see_unshared(audience) else MAP_FOR_OTHERS, {"case_id": case_id}))
        .mappings()
        .first()
    )
    the_map, content = None, None
    if found is not None:
        values = dict(found)
        content, version_id = values.pop(VERSION_CONTENT), values.pop(VERSION_FOUND)
        if version_id is None:
            raise MapVersionNotFound()
        the_map = AssessmentMap.model_construct(**values)
    sdm = await _rows(conn, SDM, case_id, SdmAssessment)
    child_voice = await _rows(conn, CHILD_VOICE, case_id, ChildVoiceRecord)
    attachments: dict[uuid.UUID, list[Attachment]] = {}
    links: dict[uuid.UUID, list[SafetyHouseRuleLink]] = {}
    plan_rules: list[SafetyPlanRules] = []
    if any(shown_whole(record) for record in child_voice):
        attachments = _by_record(await _rows(conn, ATTACHMENTS, case_id, Attachment))
        links = _by_record(await _rows(conn, RULE_LINKS, case_id, SafetyHouseRuleLink))
        if links:
            plan_rules = await _rows(conn, PLAN_RULES, case_id, SafetyPlanRules)
    trauma, pending = None, None
    if internal:
        trauma = await _rows(conn, TRAUMA, case_id, TraumaHistory)
        pending = int((await conn.execute(PENDING, {"case_id": case_id})).scalar_one())
    return CaseRecords(
        statements=statements,
        translations=translations,
        goals=goals,
        ratings=ratings,
        the_map=the_map,
        map_content=content,
        sdm=sdm,
        child_voice=child_voice,
        attachments=attachments,
        rule_links=links,
        plan_rules=plan_rules,
        trauma=trauma,
        pending_approvals=pending,
    )
