"""The case view's long lists, a window at a time: a kind of statement (oldest first, as the view has always
listed them) and the safety scale's targets (the overall rating, then each danger statement, active first).

The case-view read carries the first window of each; `GET …/case-view/statements` and `…/case-view/safety-scale`
read the windows after it with the cursor it gave. Both go through these functions, so every window is
redacted for the audience exactly as the first one is."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.case_view.answer import statement_json, trajectory_json
from sop_assessment.models import Statement, StatementKind, StatementStatus
from sop_assessment.ratings.api import rating_out
from sop_assessment.ratings.models import OVERALL, ScaleRating
from sop_assessment.ratings.rules import latest_occasion, target_of, trajectory
from sop_assessment.ratings.schemas import ScaleRatingOut
from sop_assessment.statements.redaction import StatementView, is_withheld, statement_view
from sop_assessment.statements.service import seen_by, statement_out_values
from sop_assessment.translations.rules import shown_translations
from sop_assessment.translations.service import TRANSLATIONS
from sop_shared.pagination import CaseList, CountedPage, Reading
from sop_shared.policy import DEFAULT_SHARING, MEMBER_RATER_ROLES, Audience, NetworkSharing, Section, may_see_section
from sop_shared.sharing import shared_only
from sop_shared.translations import Source, carried


def statement_list(case_id: uuid.UUID, kind: StatementKind) -> CaseList:
    return CaseList(case_id, f"statements.{kind.value}")


def scale_list(case_id: uuid.UUID) -> CaseList:
    return CaseList(case_id, "safety-scale")


async def statement_window(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    kind: StatementKind,
    audience: Audience,
    language: str,
    limit: int,
    cursor: str | None = None,
    field: str = "cursor",
    sharing: NetworkSharing = DEFAULT_SHARING,
) -> CountedPage[dict[str, Any]]:
    """Up to `limit` statements of one kind after (or before) the cursor's, oldest first, as `audience` may read
    them in `language` (with their current translations), and how many the case has of that kind."""
    the_list = statement_list(case_id, kind)
    reading = the_list.reading(cursor, (uuid.UUID,), field=field)
    of_kind = (
        col(Statement.case_id) == case_id,
        col(Statement.kind) == kind,
        *shared_only(Statement, audience),
        *seen_by(audience, sharing),  # the harm statements the family opened to their network
    )
    query = the_list.seek(select(Statement).where(*of_kind), [col(Statement.id)], reading, limit=limit)
    rows = list((await session.execute(query)).scalars())
    total = (await session.execute(select(func.count()).select_from(Statement).where(*of_kind))).scalar_one()
    translations = await TRANSLATIONS.of_case(
        session, case_id, record_kind="statement", record_ids=[s.id for s in rows[:limit]]
    )
    return statement_page(
        the_list,
        rows,
        total=total,
        translations=translations,
        audience=audience,
        language=language,
        limit=limit,
        backward=reading.backward,
    )


def statement_page(
    the_list: CaseList,
    rows: Sequence[Statement],
    *,
    total: int,
    translations: Mapping[uuid.UUID, Sequence[Any]],
    audience: Audience,
    language: str,
    limit: int,
    backward: bool = False,
) -> CountedPage[dict[str, Any]]:
    """The window of `rows` (up to `limit + 1` statements in reading order, as `CaseList.seek` reads them) as
    `audience` may read them in `language`, with their current translations (each a `CaseViewStatement` as plain
    data)."""
    shown = [
        case_view_statement(
            s,
            statement_view(s.model_dump(), audience, language=language),
            translations.get(s.id, []),
            language,
            audience,
        )
        for s in rows
    ]
    return the_list.page(shown, limit=limit, total=total, position_of=lambda s: (str(s["id"]),), backward=backward)


def case_view_statement(
    statement: Statement, view: StatementView, translations: Sequence[Any], language: str, audience: Audience
) -> dict[str, Any]:
    """A `CaseViewStatement` as plain data (`statement_json`)."""
    out = statement_out_values(statement, audience, language=language, view=view)  # this statement's own dict
    carried_now: list[Any] = []
    if translations:  # most statements have none: nothing to weigh
        source = Source(language=statement.language, version=statement.version, text=statement.composed_text)
        current = shown_translations(
            translations, source=source, withheld=view.withheld, shows_reporter=view.shows_reporter, current_only=True
        )
        carried_now = carried(current, source)
    return statement_json(out, carried_now)


# The safety scale's order: the overall rating first (the family's headline), then the danger statements,
# active ones first, each group oldest first.
OVERALL_RANK, ACTIVE_RANK, OTHER_RANK = 0, 1, 2
_RANK = case((col(Statement.status) == StatementStatus.active, ACTIVE_RANK), else_=OTHER_RANK)


def _rank(value: Any) -> int:
    if value not in (OVERALL_RANK, ACTIVE_RANK, OTHER_RANK):
        raise ValueError("rank")
    return int(value)


def _statement_id(value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


@dataclass
class ScaleWindow:
    """A window of the safety scale's targets: their trajectories (each a `Trajectory` as plain data), the
    ratings of each one's latest occasion, and where the window stands in the whole scale."""

    trajectories: CountedPage[dict[str, Any]]
    latest: list[ScaleRatingOut]


async def scale_window(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    audience: Audience,
    limit: int,
    cursor: str | None = None,
    field: str = "cursor",
    sharing: NetworkSharing = DEFAULT_SHARING,
) -> ScaleWindow:
    """Up to `limit` of the scale's targets after (or before) the cursor's. The raters' words about a statement
    withheld from `audience` are withheld with it; the numbers stay."""
    the_list = scale_list(case_id)
    reading = the_list.reading(cursor, (_rank, _statement_id), field=field)
    at = reading.at
    overall_rated = (
        await session.execute(
            select(col(ScaleRating.id))
            .where(
                col(ScaleRating.case_id) == case_id,
                col(ScaleRating.target) == OVERALL,
                col(ScaleRating.withdrawn_at).is_(None),
            )
            .limit(1)
        )
    ).first() is not None
    dangers = (
        col(Statement.case_id) == case_id,
        col(Statement.kind) == StatementKind.danger,
        *shared_only(Statement, audience),  # a draft's ratings wait with it
    )
    total = (await session.execute(select(func.count()).select_from(Statement).where(*dangers))).scalar_one()
    # In reading order: going forward the overall rating comes first, going backward last.
    targets: list[Statement | None] = [None] if overall_rated and at is None and not reading.backward else []
    at_overall = at is not None and at[0] == OVERALL_RANK
    if not (at_overall and reading.backward):  # nothing comes before the overall rating
        query = the_list.seek(
            select(Statement).where(*dangers),
            [_RANK, col(Statement.id)],
            Reading(None) if at_overall else reading,
            limit=limit - len(targets),
        )
        targets += list((await session.execute(query)).scalars())
        if reading.backward and overall_rated and len(targets) <= limit:
            targets.append(None)

    keys = [target_of(s.id if s is not None else None) for s in targets[:limit]] if targets else []
    ratings: dict[str, list[ScaleRating]] = {}
    if keys:
        for rating in (
            await session.execute(
                select(ScaleRating)
                .where(col(ScaleRating.case_id) == case_id, col(ScaleRating.target).in_(keys))
                .order_by(col(ScaleRating.id))
            )
        ).scalars():
            ratings.setdefault(rating.target, []).append(rating)
    return scale_page(
        the_list,
        targets,
        total=total + overall_rated,
        ratings=ratings,
        audience=audience,
        limit=limit,
        backward=reading.backward,
        sharing=sharing,
    )


def scale_page(
    the_list: CaseList,
    targets: list[Statement | None],
    *,
    total: int,
    ratings: Mapping[str, Sequence[ScaleRating]],
    audience: Audience,
    limit: int,
    backward: bool = False,
    sharing: NetworkSharing = DEFAULT_SHARING,
) -> ScaleWindow:
    """The window of `targets` (up to `limit + 1` in reading order; None for the overall rating) with the
    ratings of each (`ratings`: by target key, oldest first) as `audience` may read them."""
    page = the_list.page(targets, limit=limit, total=total, position_of=_position, backward=backward)
    shown: list[Statement | None] = page.items
    latest: list[ScaleRatingOut] = []
    trajectories: list[dict[str, Any]] = []
    every_rater = may_see_section(Section.every_rater, audience, sharing)
    for statement in shown:
        statement_id = statement.id if statement is not None else None
        rows = list(ratings.get(target_of(statement_id), []))
        if rows and not every_rater:  # the family's and the network's own scores, not each professional's
            rows = [r for r in rows if r.rater_role.value in MEMBER_RATER_ROLES]
        shown_latest = latest_occasion(rows)
        # the raters' words withheld with their statement (weighed only where a rating is shown)
        withheld = (
            bool(shown_latest)
            and statement is not None
            and is_withheld(statement.sensitivity_labels, statement.consented_audiences, audience)
        )
        for rating in shown_latest:
            out = rating_out(rating)
            if withheld:
                out.rationale = out.one_step_up = None
            latest.append(out)
        trajectories.append(trajectory_json(trajectory(rows, statement_id)))
    return ScaleWindow(
        trajectories=CountedPage(**page.model_dump(exclude={"items"}), items=trajectories),
        latest=latest,
    )


def scale_rank(statement: Statement) -> int:
    """A danger statement's place in the safety scale's order (`_RANK`, for a statement already loaded)."""
    return ACTIVE_RANK if statement.status == StatementStatus.active else OTHER_RANK


def _position(statement: Statement | None) -> tuple[int, str]:
    if statement is None:
        return (OVERALL_RANK, "")
    return (scale_rank(statement), str(statement.id))
