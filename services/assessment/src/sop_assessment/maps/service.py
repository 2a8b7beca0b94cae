"""Map operations: create, save (a new version when something changed), read versions, mark complete."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.goals.models import GoalStatus, SafetyGoal
from sop_assessment.maps.models import AssessmentMap, MapVersion
from sop_assessment.maps.rules import (
    balance_problems,
    changed,
    completion_problems,
    map_warnings,
    prepare_content,
    with_checks,
)
from sop_assessment.maps.schemas import MapCreate, MapOut, MapSave, MapVersionOut
from sop_assessment.models import Statement, StatementKind, StatementStatus, platform
from sop_assessment.ratings.models import ScaleRating
from sop_shared.concurrency import check_version
from sop_shared.db import utcnow
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.problems import InvalidInput, NotFound
from sop_shared.sharing import AGENCY_NOTES, shared_only, without_agency_notes

MAP_CREATED = "sop.assessment.map.created"
MAP_VERSION_SAVED = "sop.assessment.map.version_saved"
MAP_COMPLETED = "sop.assessment.map.completed"


class MapNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such map")


class MapVersionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such version of this map")


class MapNotComplete(InvalidInput):
    slug, title = "map-not-complete", "The map cannot be marked complete yet"


async def create_map(session: AsyncSession, *, case_id: uuid.UUID, body: MapCreate, created_by: str) -> AssessmentMap:
    content = prepare_content(body, title=body.title)
    the_map = AssessmentMap(case_id=case_id, context=body.context, title=body.title, created_by=created_by)
    session.add(the_map)
    await session.flush()
    session.add(
        MapVersion(
            map_id=the_map.id,
            case_id=case_id,
            number=1,
            content=content,
            change_note=body.change_note,
            saved_by=created_by,
        )
    )
    await session.flush()
    await emit(session, platform, subject=MAP_CREATED, case_id=case_id, data=_event(the_map))
    return the_map


def _event(the_map: AssessmentMap) -> dict[str, Any]:
    return {
        "map_id": str(the_map.id),
        "case_id": str(the_map.case_id),
        "context": the_map.context.value,
        "version": the_map.current_version,
        "completed_version": the_map.completed_version,
        "completed_with_exception": the_map.completion_exception is not None,
    }


async def save_map(
    session: AsyncSession, the_map: AssessmentMap, body: MapSave, *, expected_version: int, saved_by: str
) -> tuple[AssessmentMap, bool]:
    """Store the content as the next version (never touching earlier ones); a save that changes nothing
    stores nothing. Returns the map and whether a version was made."""
    check_version(the_map.current_version, expected_version)
    current = await get_version(session, the_map.id, the_map.current_version)
    content = prepare_content(body, title=body.title or the_map.title, previous=current.content)
    if not changed(current.content, content):
        return the_map, False
    the_map.current_version += 1
    the_map.title = content["title"]
    the_map.updated_at = utcnow()
    session.add(
        MapVersion(
            map_id=the_map.id,
            case_id=the_map.case_id,
            number=the_map.current_version,
            content=content,
            change_note=body.change_note,
            saved_by=saved_by,
        )
    )
    await session.flush()
    await emit(session, platform, subject=MAP_VERSION_SAVED, case_id=the_map.case_id, data=_event(the_map))
    return the_map, True


async def active_danger_statements(session: AsyncSession, case_id: uuid.UUID) -> list[uuid.UUID]:
    query = (
        select(col(Statement.id))
        .where(
            col(Statement.case_id) == case_id,
            col(Statement.kind) == StatementKind.danger,
            col(Statement.status) == StatementStatus.active,
        )
        .order_by(col(Statement.id))
    )
    return list((await session.execute(query)).scalars())


async def complete_map(
    session: AsyncSession,
    the_map: AssessmentMap,
    *,
    expected_version: int,
    completed_by: str,
    exception_reason: str | None = None,
) -> AssessmentMap:
    """Mark the current version complete, if every active danger statement of the case has a paired
    safety goal and at least one safety-scale rating, and the map is balanced (a danger statement, something
    working well, a safety goal) or `exception_reason` records a supervisor's exception (the caller checked
    they are one); otherwise 422 naming each missing piece."""
    check_version(the_map.current_version, expected_version)
    current = await get_version(session, the_map.id, the_map.current_version)
    dangers = await active_danger_statements(session, the_map.case_id)
    with_goal = set(
        (
            await session.execute(
                select(col(SafetyGoal.danger_statement_id)).where(
                    col(SafetyGoal.case_id) == the_map.case_id,
                    col(SafetyGoal.status).in_((GoalStatus.active, GoalStatus.achieved)),
                )
            )
        ).scalars()
    )
    rated_query = select(col(ScaleRating.statement_id)).where(
        col(ScaleRating.case_id) == the_map.case_id,
        col(ScaleRating.statement_id).is_not(None),
        col(ScaleRating.withdrawn_at).is_(None),  # a withdrawn rating rates nothing
    )
    rated = {sid for sid in (await session.execute(rated_query)).scalars() if sid is not None}
    unbalanced = balance_problems(current.content, active_danger_statements=dangers)
    problems = completion_problems(dangers, with_goal=with_goal, rated=rated)
    if unbalanced and exception_reason is None:
        problems = unbalanced + problems
    if problems:
        raise MapNotComplete(problems)
    the_map.completed_version = the_map.current_version
    the_map.completed_at, the_map.completed_by = utcnow(), completed_by
    the_map.completion_exception = (
        {
            "reason": exception_reason,
            "recorded_by": completed_by,
            "recorded_at": the_map.completed_at.isoformat(),
            "waived": [p["field"] for p in unbalanced],
        }
        if unbalanced and exception_reason is not None
        else None
    )
    the_map.updated_at = the_map.completed_at
    await session.flush()
    await emit(session, platform, subject=MAP_COMPLETED, case_id=the_map.case_id, data=_event(the_map))
    return the_map


async def list_maps(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    page: PageRequest,
    audience: Audience,
) -> tuple[list[AssessmentMap], str | None]:
    query = select(AssessmentMap).where(col(AssessmentMap.case_id) == case_id, *shared_only(AssessmentMap, audience))
    rows = list((await session.execute(page.apply(query, col(AssessmentMap.id)))).scalars())
    return page.page(rows)


async def latest_map(
    session: AsyncSession, case_id: uuid.UUID, audience: Audience = Audience.staff
) -> AssessmentMap | None:
    """The case's most recently changed map that `audience` may read."""
    query = (
        select(AssessmentMap)
        .where(col(AssessmentMap.case_id) == case_id, *shared_only(AssessmentMap, audience))
        .order_by(col(AssessmentMap.updated_at).desc(), col(AssessmentMap.id).desc())
        .limit(1)
    )
    return (await session.execute(query)).scalars().first()


async def get_version(session: AsyncSession, map_id: uuid.UUID, number: int) -> MapVersion:
    version = (
        (
            await session.execute(
                select(MapVersion).where(col(MapVersion.map_id) == map_id, col(MapVersion.number) == number)
            )
        )
        .scalars()
        .first()
    )
    if version is None:
        raise MapVersionNotFound()
    return version


async def list_versions(
    session: AsyncSession,
    map_id: uuid.UUID,
    page: PageRequest,
) -> tuple[list[MapVersion], str | None]:
    query = select(MapVersion).where(col(MapVersion.map_id) == map_id)
    rows = list((await session.execute(page.apply(query, col(MapVersion.id)))).scalars())
    return page.page(rows)


async def map_out(session: AsyncSession, the_map: AssessmentMap, audience: Audience = Audience.staff) -> MapOut:
    """The map as `audience` reads it: the agency its current version, everyone else the version shared with
    them (a map none of whose versions was shared does not exist for them: callers check `shown_to`)."""
    current = await get_version(session, the_map.id, version_shown(the_map, audience))
    dangers = await active_danger_statements(session, the_map.case_id)
    return map_shown(the_map, current.content, len(dangers), audience)


def version_shown(the_map: AssessmentMap, audience: Audience) -> int:
    """The number of the map's version `audience` reads."""
    number = the_map.current_version if may_see_unshared(audience) else the_map.shared_version
    return number or the_map.current_version


def map_shown(the_map: AssessmentMap, content: dict[str, Any], active_dangers: int, audience: Audience) -> MapOut:
    """`map_out` of a map whose shown version's `content` and case's count of active danger statements are
    already read."""
    return MapOut.model_validate(
        without_agency_notes(
            {
                **the_map.model_dump(),
                "content": with_checks(content),
                "warnings": map_warnings(active_dangers),
                "status": "complete" if the_map.completed_version == the_map.current_version else "draft",
            },
            audience,
            (*AGENCY_NOTES, "completion_exception"),  # a supervisor's waiver is the agency's own record
        )
    )


def version_out(version: MapVersion) -> MapVersionOut:
    return MapVersionOut.model_validate({**version.model_dump(), "content": with_checks(version.content)})
