"""The case-view reads: everything the gateway needs from this service for one case, as one audience may see
it in one language (one query per family of records); and a caseload page's summaries in a constant number of
queries, however many cases it holds."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.case_view.answer import paging_json
from sop_assessment.case_view.records import case_records
from sop_assessment.case_view.rules import (
    Assessed,
    is_internal,
    latest_overall_rating,
    sdm_summary,
    withheld_goal,
)
from sop_assessment.case_view.schemas import CaseSummary, CaseViewGoal
from sop_assessment.case_view.windows import (
    ScaleWindow,
    scale_list,
    scale_page,
    scale_rank,
    statement_list,
    statement_page,
)
from sop_assessment.child_voice.service import may_see_record, record_shown, removed_rules_of, restricted_record
from sop_assessment.goals.service import goal_out_values, goal_shown
from sop_assessment.language.api import Glossary, GlossaryEntry
from sop_assessment.language.glossary import REVIEWED, glossary
from sop_assessment.maps.rules import map_warnings
from sop_assessment.maps.schemas import MapWarning
from sop_assessment.maps.service import map_shown
from sop_assessment.models import Statement, StatementKind, StatementStatus
from sop_assessment.ratings.models import OVERALL, ScaleRating
from sop_assessment.sdm.instrument import Catalog
from sop_assessment.sdm.models import SdmAssessment
from sop_assessment.sdm.service import assessment_out
from sop_assessment.statements.redaction import is_withheld
from sop_assessment.statements.service import seen_in
from sop_assessment.supervision.models import Approval, ApprovalStatus
from sop_assessment.translations.sources import add_item_translations, child_voice_translations
from sop_assessment.trauma.rules import known_triggers
from sop_assessment.trauma.schemas import KnownTrigger
from sop_shared.pagination import DEFAULT_LIMIT
from sop_shared.plain_language import LANGUAGE_NAMES, PLAIN_WORDS, primary_language
from sop_shared.policy import (
    DEFAULT_SHARING,
    Audience,
    NetworkSharing,
    Section,
    SensitivityLabel,
    may_see,
    may_see_section,
)
from sop_shared.sharing import shown_to
from sop_shared.translations import Source, carried


def instrument_kind(catalog: Catalog) -> Callable[[Assessed], str]:
    """An assessment's instrument kind, from the catalog (its key, if that version is no longer loaded)."""

    def kind_of(assessment: Any) -> str:
        loaded = catalog.get(assessment.instrument_key, assessment.instrument_version)
        return loaded.instrument.kind if loaded is not None else assessment.instrument_key

    return kind_of


# `SdmView` for an audience the family does not let see the SDM levels
NO_SDM: dict[str, Any] = {
    "safety_decision": None,
    "safety_assessed_at": None,
    "risk_level": None,
    "risk_assessed_at": None,
    "due_dates": [],
    "detail": None,
}


@dataclass(frozen=True)
class ViewBounds:
    """How many items of each long list the case view carries (the rest is read a window at a time)."""

    harm: int = DEFAULT_LIMIT
    danger: int = DEFAULT_LIMIT
    safety_scale: int = DEFAULT_LIMIT


async def assessment_case_view(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    audience: Audience,
    language: str,
    catalog: Catalog,
    now: datetime,
    bounds: ViewBounds = ViewBounds(),
    reader: uuid.UUID | None = None,
    sharing: NetworkSharing = DEFAULT_SHARING,
) -> tuple[dict[str, Any], list[str]]:
    """The case view for `audience` in `language` (an `AssessmentCaseView` as plain data), and the sensitive
    fields it carries (for the audit). The
    statements and the safety scale are bounded: the first window of each, its total and a cursor to the rest.
    `reader` is a member's person (their token's), for what only some members see (the adults' explanation).

    The case's records are read in a handful of statements (`case_view.records`), then shown exactly as the
    window reads (`GET …/case-view/statements`, `…/safety-scale`) show them: the same rules, applied to rows."""
    internal = is_internal(audience)
    records = await case_records(session, case_id, audience, internal=internal)
    statements = {s.id: s for s in records.statements}
    visible = [s for s in records.statements if shown_to(s, audience)]
    translated = records.translations
    harm, danger = [
        statement_page(
            statement_list(case_id, kind),
            of_kind[: limit + 1],
            total=len(of_kind),
            translations=translated["statement"],
            audience=audience,
            language=language,
            limit=limit,
        )
        for kind, limit in ((StatementKind.harm, bounds.harm), (StatementKind.danger, bounds.danger))
        for of_kind in [[s for s in visible if s.kind == kind and seen_in(s, audience, sharing)]]
    ]
    shown = [*harm.items, *danger.items]

    goals = [g for g in records.goals if goal_shown(g, audience, statements)]
    withheld = {
        s.id
        for s in (statements.get(g.danger_statement_id) for g in goals)
        if s is not None and is_withheld(s.sensitivity_labels, s.consented_audiences, audience)
    }
    goals_shown = [
        _goal(g, g.danger_statement_id in withheld, language, audience, translated["safety_goal"].get(g.id, []))
        for g in goals
    ]
    scale = _first_scale_window(case_id, visible, records.ratings, audience, bounds.safety_scale, sharing)
    active = sum(1 for s in records.statements if s.kind == StatementKind.danger and s.status == StatementStatus.active)
    map_out = (
        map_shown(records.the_map, records.map_content or {}, active, audience) if records.the_map is not None else None
    )
    if map_out is not None and not internal:
        map_out.warnings = []
    if map_out is not None:
        add_item_translations(map_out.content, translated["map_item"], map_out.current_version)

    summary = sdm_summary(records.sdm, kind_of=instrument_kind(catalog), now=now)
    detail = (
        [assessment_out(a, catalog) for a in summary.latest] if may_see(SensitivityLabel.sdm_detail, audience) else None
    )

    removed = removed_rules_of(records.plan_rules)
    child_voice = [
        record_shown(
            record,
            audience,
            attachments=records.attachments.get(record.id, []),
            links=records.rule_links.get(record.id, []),
            removed=removed,
        )
        if may_see_record(record, audience, reader)
        else restricted_record(record)
        for record in records.child_voice
    ]
    voice_translations = translated["child_voice"]
    for shown_record, record in zip(child_voice, records.child_voice, strict=True):
        if shown_record.content is not None:
            shown_record.translations = child_voice_translations(record, voice_translations.get(record.id, []))

    # what a plan must avoid, for the worker planning (trauma-informed practice; restricted like Part 2)
    triggers = [KnownTrigger(**t) for t in known_triggers(records.trauma or [], audience)] if internal else None

    # `AssessmentCaseView` as plain data (`case_view.answer`), in its field order
    view = {
        "case_id": case_id,
        "audience": audience.value,
        "language": language,
        "statements": {
            "harm": harm.items,
            "danger": danger.items,
            "harm_paging": paging_json(harm),
            "danger_paging": paging_json(danger),
        },
        "safety_goals": goals_shown,
        "safety_scale": {
            "latest": scale.latest,
            "trajectory": scale.trajectories.items,
            "trajectory_paging": paging_json(scale.trajectories),
        },
        "map": map_out,
        "sdm": {
            "safety_decision": summary.safety_decision,
            "safety_assessed_at": summary.safety_assessed_at,
            "risk_level": summary.risk_level,
            "risk_assessed_at": summary.risk_assessed_at,
            "due_dates": summary.due_dates,  # each an `SdmDueDate`'s fields, in its order
            "detail": detail,
        }
        if may_see_section(Section.sdm_levels, audience, sharing)
        else NO_SDM,
        "child_voice": child_voice,
        "glossary": glossary_in(language),
        "pending_approvals": records.pending_approvals if internal else None,
        "warnings": [MapWarning(**w) for w in map_warnings(active)] if internal else None,
        "known_triggers": triggers,
    }
    fields = sorted(
        {
            *statement_fields_shown(shown),
            *(["sdm_detail"] if detail is not None else []),
            *(["child_voice"] if any(not r.restricted for r in child_voice) else []),
            *(["trauma_history"] if triggers else []),
        }
    )
    return view, fields


def _first_scale_window(
    case_id: uuid.UUID,
    visible: Sequence[Statement],
    ratings: Sequence[ScaleRating],
    audience: Audience,
    limit: int,
    sharing: NetworkSharing,
) -> ScaleWindow:
    """The safety scale's first window (`scale_window` without a cursor) of the statements `audience` may see
    and the case's ratings, oldest first."""
    dangers = sorted((s for s in visible if s.kind == StatementKind.danger), key=lambda s: (scale_rank(s), s.id))
    overall_rated = any(r.target == OVERALL and r.withdrawn_at is None for r in ratings)
    targets: list[Statement | None] = [None] if overall_rated else []
    targets += dangers[: limit - len(targets) + 1]
    by_target: dict[str, list[ScaleRating]] = {}
    for rating in ratings:
        by_target.setdefault(rating.target, []).append(rating)
    return scale_page(
        scale_list(case_id),
        targets,
        total=len(dangers) + overall_rated,
        ratings=by_target,
        audience=audience,
        limit=limit,
        sharing=sharing,
    )


def statement_fields_shown(shown: Sequence[Mapping[str, Any]]) -> set[str]:
    """The sensitive statement fields a response carries (statements as plain data), for the audit record."""
    return {
        *(["who_reported"] if any(s["who_reported"] for s in shown) else []),
        *(label for s in shown for label in s["sensitivity_labels"]),
    }


def _goal(goal: Any, withheld: bool, language: str, audience: Audience, translations: Sequence[Any]) -> CaseViewGoal:
    out = goal_out_values(goal, audience)
    if not withheld:
        source = Source(language=goal.language, version=goal.version, text=goal.composed_text)
        return CaseViewGoal.model_validate({**out, "translations": carried(translations, source)})
    values, redacted = withheld_goal(out, language)
    return CaseViewGoal.model_validate({**values, "redacted": redacted})


@lru_cache(maxsize=256)  # the same words on every read (reviewed data read once); the view only serialises it
def glossary_in(language: str) -> Glossary:
    """The glossary as `GET /v1/glossary` gives it; a language nobody has translated it into lists every term
    as missing rather than refusing (the case view is asked for in the reader's language)."""
    lang = primary_language(language)
    return Glossary(
        language=lang,
        language_name=LANGUAGE_NAMES.get(lang, lang),
        reviewed=REVIEWED,
        word_list=lang in PLAIN_WORDS,
        entries=[GlossaryEntry(**e) for e in glossary(lang)],
    )


async def case_summaries(
    session: AsyncSession, case_ids: Sequence[uuid.UUID], *, catalog: Catalog, now: datetime, internal: bool
) -> list[CaseSummary]:
    """One summary per case, in the order asked: four queries, each grouped by case, whatever the count."""
    dangers: dict[uuid.UUID, int] = dict(
        (
            await session.execute(
                select(col(Statement.case_id), func.count())
                .where(
                    col(Statement.case_id).in_(case_ids),
                    col(Statement.kind) == StatementKind.danger,
                    col(Statement.status) == StatementStatus.active,
                )
                .group_by(col(Statement.case_id))
            )
        ).all()
    )
    ratings: dict[uuid.UUID, list[ScaleRating]] = {}
    for rating in (
        await session.execute(
            select(ScaleRating).where(col(ScaleRating.case_id).in_(case_ids), col(ScaleRating.target) == OVERALL)
        )
    ).scalars():
        ratings.setdefault(rating.case_id, []).append(rating)
    assessed: dict[uuid.UUID, list[SdmAssessment]] = {}
    for row in (
        await session.execute(
            select(SdmAssessment).where(
                col(SdmAssessment.case_id).in_(case_ids), col(SdmAssessment.completed_at).is_not(None)
            )
        )
    ).scalars():
        assessed.setdefault(row.case_id, []).append(row)
    pending: dict[uuid.UUID, int] = (
        dict(
            (
                await session.execute(
                    select(col(Approval.case_id), func.count())
                    .where(col(Approval.case_id).in_(case_ids), col(Approval.status) == ApprovalStatus.pending)
                    .group_by(col(Approval.case_id))
                )
            ).all()
        )
        if internal
        else {}
    )
    kind_of = instrument_kind(catalog)
    summaries = []
    for case_id in case_ids:
        sdm = sdm_summary(assessed.get(case_id, []), kind_of=kind_of, now=now)
        summaries.append(
            CaseSummary.model_validate(
                {
                    "case_id": case_id,
                    "active_danger_statements": dangers.get(case_id, 0),
                    "latest_overall_rating": latest_overall_rating(ratings.get(case_id, [])),
                    "safety_decision": sdm.safety_decision,
                    "risk_level": sdm.risk_level,
                    "pending_approvals": pending.get(case_id, 0) if internal else None,
                }
            )
        )
    return summaries
