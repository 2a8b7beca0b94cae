"""Safety-goal operations and statement updates (status, threat codes, who agrees), each with its event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.goals.models import GoalStatus, SafetyGoal
from sop_assessment.goals.rules import compose_goal, duration_text, goal_check, owner_problems, parse_duration
from sop_assessment.goals.schemas import SafetyGoalIn, SafetyGoalOut, SafetyGoalUpdate, StatementUpdate
from sop_assessment.models import Statement, StatementKind, StatementRevision, StatementStatus, TextSource, platform
from sop_assessment.statements.rules import repeated_errors, revised_words, statement_words
from sop_shared.concurrency import check_version
from sop_shared.db import utcnow
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.plain_language import primary_language
from sop_shared.policy import Audience, may_see_unshared
from sop_shared.problems import Conflict, InvalidInput, NotFound
from sop_shared.sharing import shared_only, shown_to, unshare, without_agency_notes

GOAL_CREATED = "sop.assessment.safety_goal.created"
GOAL_UPDATED = "sop.assessment.safety_goal.updated"
STATEMENT_UPDATED = "sop.assessment.statement.updated"
LIVE_GOAL = (GoalStatus.active, GoalStatus.achieved)
STATEMENT_MOVES = {
    StatementStatus.active: {StatementStatus.resolved, StatementStatus.withdrawn},
    StatementStatus.resolved: {StatementStatus.active},
    StatementStatus.withdrawn: set(),
}


class SafetyGoalNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such safety goal")


class GoalAlreadyExists(Conflict):
    slug, title = "safety-goal-exists", "This danger statement already has a safety goal"


class StatementMoveNotAllowed(Conflict):
    slug, title = "statement-status-not-allowed", "A statement cannot move to that status"


def _blank(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


def _goal_values(parts: dict[str, Any], *, language: str, text: str | None) -> dict[str, Any]:
    """The stored columns for a goal's parts: duration checked, text composed (or the worker's own)."""
    errors = []
    if parse_duration(parts["duration"]) is None:
        errors.append(
            {
                "field": "duration",
                "message": "give an ISO-8601 duration in years, months, weeks or "
                "days above zero, e.g. P3M for three months",
            }
        )
    text = _blank(text)
    if text is None and primary_language(language) not in ("en", "es"):
        errors.append(
            {
                "field": "text",
                "message": f"the server composes goals only in English and Spanish; write the {language} text",
            }
        )
    if errors:
        raise InvalidInput(errors)
    parts = {**parts, "duration": parts["duration"].strip().upper()}
    if text is None:
        return {**parts, "composed_text": compose_goal(parts, language), "text_source": TextSource.composed}
    return {**parts, "composed_text": text, "text_source": TextSource.worker}


async def create_goal(session: AsyncSession, *, case_id: uuid.UUID, body: SafetyGoalIn, created_by: str) -> SafetyGoal:
    if problems := owner_problems(body.owner):
        raise InvalidInput(problems)
    statement = await session.get(Statement, body.danger_statement_id)
    if statement is None or statement.case_id != case_id:
        raise InvalidInput.field("danger_statement_id", "no such statement in this case")
    if statement.kind != StatementKind.danger:
        raise InvalidInput.field("danger_statement_id", "safety goals answer danger statements, not harm statements")
    if statement.status == StatementStatus.withdrawn:
        raise InvalidInput.field("danger_statement_id", "this danger statement was withdrawn")
    existing = (
        await session.execute(
            select(col(SafetyGoal.id)).where(
                col(SafetyGoal.danger_statement_id) == statement.id, col(SafetyGoal.status).in_(LIVE_GOAL)
            )
        )
    ).first()
    if existing is not None:
        raise GoalAlreadyExists(
            "each danger statement has one safety goal; change that goal instead, or withdraw it first",
            safety_goal_id=str(existing[0]),
        )
    parts = {
        name: _blank(getattr(body, name))
        for name in ("caregiver_will_be_doing", "child_will_experience", "others_will_see")
    }
    values = _goal_values({**parts, "duration": body.duration}, language=body.language, text=body.text)
    goal = SafetyGoal(
        case_id=case_id,
        danger_statement_id=statement.id,
        language=body.language,
        owner=body.owner,
        created_by=created_by,
        **values,
    )
    session.add(goal)
    await session.flush()
    await emit(session, platform, subject=GOAL_CREATED, case_id=case_id, data=_goal_event(goal))
    return goal


def _goal_event(goal: SafetyGoal) -> dict[str, Any]:
    return {
        "safety_goal_id": str(goal.id),
        "case_id": str(goal.case_id),
        "danger_statement_id": str(goal.danger_statement_id),
        "status": goal.status.value,
        "duration": goal.duration,
        "owner": goal.owner.value,
        "version": goal.version,
    }


async def update_goal(
    session: AsyncSession,
    goal: SafetyGoal,
    body: SafetyGoalUpdate,
    *,
    expected_version: int,
) -> SafetyGoal:
    check_version(goal.version, expected_version)
    if problems := owner_problems(body.owner):
        raise InvalidInput(problems)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return goal
    if changes.get("status") in LIVE_GOAL and goal.status == GoalStatus.withdrawn:
        other = (
            await session.execute(
                select(col(SafetyGoal.id)).where(
                    col(SafetyGoal.danger_statement_id) == goal.danger_statement_id,
                    col(SafetyGoal.status).in_(LIVE_GOAL),
                    col(SafetyGoal.id) != goal.id,
                )
            )
        ).first()
        if other is not None:
            raise GoalAlreadyExists("another goal now answers this danger statement", safety_goal_id=str(other[0]))
    parts = {
        name: _blank(changes[name]) if name in changes else getattr(goal, name)
        for name in ("caregiver_will_be_doing", "child_will_experience", "others_will_see", "duration")
    }
    if parts["duration"] is None:
        raise InvalidInput.field("duration", "a safety goal needs a duration")
    touches_words = any(name in changes for name in parts) or "text" in changes
    if touches_words:
        unshare(goal)  # new words are a draft until someone marks them ready to share again
        text = (
            changes.get("text")
            if "text" in changes
            else (goal.composed_text if goal.text_source == TextSource.worker else None)
        )
        for name, value in _goal_values(parts, language=goal.language, text=text).items():
            setattr(goal, name, value)
    if body.status is not None:
        goal.status = body.status
    if body.owner is not None:
        goal.owner = body.owner
    goal.version += 1
    goal.updated_at = utcnow()
    await session.flush()
    # words_corrected: the goal is a draft again (unshared), as the statement's event says it
    data = {**_goal_event(goal), "words_corrected": touches_words}
    await emit(session, platform, subject=GOAL_UPDATED, case_id=goal.case_id, data=data)
    return goal


async def list_goals(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    page: PageRequest,
    audience: Audience,
    status: GoalStatus | None = None,
    danger_statement_id: uuid.UUID | None = None,
) -> tuple[list[SafetyGoal], str | None]:
    query = select(SafetyGoal).where(col(SafetyGoal.case_id) == case_id, *goals_shown_to(audience))
    if status is not None:
        query = query.where(col(SafetyGoal.status) == status)
    if danger_statement_id is not None:
        query = query.where(col(SafetyGoal.danger_statement_id) == danger_statement_id)
    rows = list((await session.execute(page.apply(query, col(SafetyGoal.id)))).scalars())
    return page.page(rows)


def goals_shown_to(audience: Audience) -> list[ColumnElement[bool]]:
    """The goals `audience` may read: outside the agency, shared live goals of shared live danger statements
    (a goal waits for its statement)."""
    conditions = shared_only(SafetyGoal, audience)
    if conditions:
        statements = select(col(Statement.id)).where(*shared_only(Statement, audience))
        conditions.append(col(SafetyGoal.danger_statement_id).in_(statements))
    return conditions


def goal_shown(goal: SafetyGoal, audience: Audience, statements: Mapping[uuid.UUID, Statement]) -> bool:
    """The same rule as `goals_shown_to`, for a goal and its case's statements (by id) already loaded."""
    if may_see_unshared(audience):
        return True
    statement = statements.get(goal.danger_statement_id)
    return shown_to(goal, audience) and statement is not None and shown_to(statement, audience)


async def goal_shown_to(session: AsyncSession, goal: SafetyGoal, audience: Audience) -> bool:
    conditions = goals_shown_to(audience)
    if not conditions:
        return True
    query = select(col(SafetyGoal.id)).where(col(SafetyGoal.id) == goal.id, *conditions)
    return (await session.execute(query)).first() is not None


async def case_goals(
    session: AsyncSession, case_id: uuid.UUID, audience: Audience = Audience.staff
) -> list[SafetyGoal]:
    query = (
        select(SafetyGoal)
        .where(col(SafetyGoal.case_id) == case_id, *goals_shown_to(audience))
        .order_by(col(SafetyGoal.id))
    )
    return list((await session.execute(query)).scalars())


def goal_out(goal: SafetyGoal, audience: Audience | None = None) -> SafetyGoalOut:
    """The goal as the API shows it; outside the agency without the agency's notes (`share_reason`)."""
    return SafetyGoalOut.model_validate(goal_out_values(goal, audience))


def goal_out_values(goal: SafetyGoal, audience: Audience | None = None) -> dict[str, Any]:
    """What `goal_out` validates, for a response model that extends `SafetyGoalOut` (validated once)."""
    values = goal.model_dump()
    check = goal_check(text=goal.composed_text, language=goal.language, values=values)
    return without_agency_notes(
        {**values, "duration_text": duration_text(goal.duration, goal.language), "plain_language": check},
        audience,
    )


async def update_statement(
    session: AsyncSession, statement: Statement, body: StatementUpdate, *, expected_version: int, updated_by: str
) -> Statement:
    """Move a statement's status or change its threat codes or who agrees, or correct its words: a correction
    keeps the earlier words (a `StatementRevision` with its reason), makes the statement a draft again and,
    being a new version, leaves the translations of the earlier one stale."""
    check_version(statement.version, expected_version)
    if not body.model_fields_set:
        return statement
    errors = []
    if (
        body.status is not None
        and body.status != statement.status
        and body.status not in STATEMENT_MOVES[statement.status]
    ):
        raise StatementMoveNotAllowed(f"a {statement.status.value} statement cannot become {body.status.value}")
    agrees = body.agrees if body.agrees is not None else statement.agrees
    disputes = body.disputes if body.disputes is not None else statement.disputes
    agreeing = {name.casefold() for name in agrees}
    for i, name in enumerate(disputes):
        if name.casefold() in agreeing:
            errors.append({"field": f"disputes.{i}", "message": "this person is also listed as agreeing"})
    codes = body.threat_codes or []
    for i, code in enumerate(codes):
        if code in codes[:i]:
            errors.append({"field": f"threat_codes.{i}", "message": "this threat code is listed twice"})
    errors += repeated_errors("sensitivity_labels", body.sensitivity_labels or [])
    errors += repeated_errors("consented_audiences", body.consented_audiences or [])
    words = None
    try:
        words = revised_words(
            statement.model_dump(), body.model_dump(mode="json", exclude_unset=True), change_reason=body.change_reason
        )
    except InvalidInput as invalid:
        errors += invalid.errors
    if errors:
        raise InvalidInput(errors)
    if words is not None:
        session.add(
            StatementRevision(
                statement_id=statement.id,
                case_id=statement.case_id,
                from_version=statement.version,
                to_version=statement.version + 1,
                earlier_words=statement_words(statement.model_dump()),
                change_reason=(body.change_reason or "").strip(),
                corrected_by=updated_by,
            )
        )
        for name, value in words.items():
            setattr(statement, name, TextSource(value) if name == "text_source" else value)
        unshare(statement)  # new words are a draft until someone marks them ready to share again
    if body.status is not None:
        statement.status = body.status
    if body.threat_codes is not None:
        statement.threat_codes = list(body.threat_codes)
    statement.agrees, statement.disputes = list(agrees), list(disputes)
    if body.sensitivity_labels is not None:
        statement.sensitivity_labels = [label.value for label in body.sensitivity_labels]
    if body.consented_audiences is not None:
        statement.consented_audiences = [audience.value for audience in body.consented_audiences]
    statement.version += 1
    statement.updated_at = utcnow()
    session.add(statement)
    await session.flush()
    await emit(
        session,
        platform,
        subject=STATEMENT_UPDATED,
        case_id=statement.case_id,
        data={
            "statement_id": str(statement.id),
            "case_id": str(statement.case_id),
            "kind": statement.kind.value,
            "status": statement.status.value,
            "version": statement.version,
            "threat_codes": statement.threat_codes,
            "words_corrected": words is not None,
        },
    )
    return statement
